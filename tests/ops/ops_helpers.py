"""A gate on simulated devices in a temp folder: config file, card fixture, camera folder, roster, scores table."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from lane_helpers import gate_toml, write_card

from edge.store import RosterRow, Store

REPO = Path(__file__).resolve().parents[2]
FACES = REPO / "tests" / "data" / "faces"
SESSION = "SES-OPS"
PERSONAL_ID = "001099012345"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_sim_gate(root: Path, *, extra: str = "", min_free_mb: int = 1, roster: bool = True) -> Path:
    """Write a complete simulated gate under ``root``; returns the config file."""
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "camera").mkdir(exist_ok=True)
    shutil.copyfile(FACES / "obama.jpg", root / "camera" / "live.jpg")
    shutil.copyfile(FACES / "obama2.jpg", root / "cards" / "an.jpg")
    write_card(root / "cards", "an", PERSONAL_ID, "Nguyễn Văn An", "an.jpg", expiry_date="2039-01-01")
    (root / "scores.json").write_text(json.dumps({"live": 0.9}), encoding="utf-8")
    config = root / "examgate.toml"
    devices = f"""
[turnstile]
kind = "simulated"

[matcher]
kind = "simulated"
scores_file = "{root / "scores.json"}"
{extra}
"""
    toml = gate_toml("ops-site", "ops-test", root=root, store_extra=f"min_free_mb = {min_free_mb}\n", extra=devices)
    config.write_text(toml, encoding="utf-8")
    if roster:
        store = Store.open(root / "gate.db")
        store.replace_roster(SESSION, [RosterRow("C1", PERSONAL_ID, "Nguyễn Văn An")])
        store.close()
    return config


MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).is_file()), None
)


class LocalBroker:
    """A real mosquitto on a free loopback port (anonymous, optional ACL file)."""

    def __init__(self, acl: str | None = None) -> None:
        assert MOSQUITTO is not None
        self.port = free_port()
        # mosquitto started as root drops to its own user: its files must sit in a world-traversable folder
        folder = Path(tempfile.mkdtemp(prefix="examgate-ops-mosq-"))
        folder.chmod(0o755)
        self.folder = folder
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        if acl is not None:
            (folder / "acl").write_text(acl, encoding="utf-8")
            (folder / "acl").chmod(0o644)
            lines.append(f"acl_file {folder / 'acl'}")
        (folder / "mosquitto.conf").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(folder / "mosquitto.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not listen within 10 s")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        shutil.rmtree(self.folder, ignore_errors=True)
