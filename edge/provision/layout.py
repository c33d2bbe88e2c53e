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


class _Live:
    """A layout path given as the gate sees it (absolute), placed under the layout's root."""

    def __init__(self, live: str | Path) -> None:
        self.live = str(live)

    def __get__(self, layout: Layout, owner: type[Layout] | None = None) -> Path:
        return layout.root / self.live.lstrip("/")


class _Inside:
    """A layout path: ``name`` inside the folder of another layout path."""

    def __init__(self, folder: _Live | _Inside, name: str) -> None:
        self.folder = folder
        self.name = name

    def __get__(self, layout: Layout, owner: type[Layout] | None = None) -> Path:
        return self.folder.__get__(layout) / self.name


@dataclass(frozen=True)
class Layout:
    root: Path

    etc_dir = _Live("/etc/examgate")
    config = _Live(LIVE_CONFIG)
    credentials_dir = _Inside(etc_dir, "credentials")
    device_key = _Inside(credentials_dir, "device.key")
    data_key = _Inside(credentials_dir, "data.key")
    tls_dir = _Inside(etc_dir, "tls")
    csr = _Inside(tls_dir, "device.csr")
    cert = _Inside(tls_dir, "device.crt")
    ca_cert = _Inside(tls_dir, "ca.crt")
    csca_dir = _Inside(etc_dir, "csca")
    data_dir = _Live(LIVE_DATA_DIR)
    units_dir = _Live("/etc/systemd/system")

    @property
    def is_live(self) -> bool:
        return self.root.resolve() == Path("/")

    def live(self, path: Path) -> str:
        """``path`` as the gate will see it once this root is the system root."""
        return "/" + str(path.relative_to(self.root)).lstrip("/")
