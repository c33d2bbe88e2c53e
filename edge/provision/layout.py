"""Where provisioning puts things, relative to a root directory (``/`` on the gate, a folder in tests or
when preparing a mounted SD-card image)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "examgate"
DEVICE_GROUPS = ("video", "gpio", "dialout")  # camera, GPIO chip, serial UART (must match the unit)
UNITS = ("examgate.service", "examgate-retention.service", "examgate-retention.timer")
ENABLED_UNITS = ("examgate.service", "examgate-retention.timer")
LANE_SERVICE = "examgate.service"
# Paths as the running gate sees them (what goes into the config file and the units).
LIVE_CONFIG = Path("/etc/examgate/examgate.toml")
LIVE_DATA_DIR = Path("/var/lib/examgate")
LIVE_CREDENTIALS_DIR = Path("/run/credentials") / LANE_SERVICE  # systemd LoadCredential= target


def source_root() -> Path:
    """The source checkout this package runs from (units in ``systemd/``, templates in ``provisioning/``)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Layout:
    root: Path

    def _at(self, live: str) -> Path:
        return self.root / live.lstrip("/")

    @property
    def is_live(self) -> bool:
        return self.root.resolve() == Path("/")

    @property
    def etc_dir(self) -> Path:
        return self._at("/etc/examgate")

    @property
    def config(self) -> Path:
        return self._at(str(LIVE_CONFIG))

    @property
    def credentials_dir(self) -> Path:
        return self.etc_dir / "credentials"

    @property
    def device_key(self) -> Path:
        return self.credentials_dir / "device.key"

    @property
    def data_key(self) -> Path:
        return self.credentials_dir / "data.key"

    @property
    def tls_dir(self) -> Path:
        return self.etc_dir / "tls"

    @property
    def csr(self) -> Path:
        return self.tls_dir / "device.csr"

    @property
    def cert(self) -> Path:
        return self.tls_dir / "device.crt"

    @property
    def ca_cert(self) -> Path:
        return self.tls_dir / "ca.crt"

    @property
    def csca_dir(self) -> Path:
        return self.etc_dir / "csca"

    @property
    def data_dir(self) -> Path:
        return self._at(str(LIVE_DATA_DIR))

    @property
    def units_dir(self) -> Path:
        return self._at("/etc/systemd/system")

    def live(self, path: Path) -> str:
        """``path`` as the gate will see it once this root is the system root."""
        return "/" + str(path.relative_to(self.root)).lstrip("/")
