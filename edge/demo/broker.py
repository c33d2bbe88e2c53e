"""An embedded mosquitto for the demo: a loopback-only listener on a free port, started and stopped with the demo."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from edge.errors import ExamGateError

SEARCH = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((p for p in SEARCH if os.access(p, os.X_OK)), None)


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedBroker:
    """``with EmbeddedBroker() as broker: broker.url`` → ``mqtt://127.0.0.1:PORT`` (anonymous, loopback only)."""

    def __init__(self, binary: str | None = None) -> None:
        found = binary or find_mosquitto()
        if found is None:
            raise ExamGateError(
                "mosquitto is not installed",
                code="E_DEMO_NO_BROKER",
                remedy="install Debian's mosquitto (`apt-get install mosquitto`) or pass --broker mqtt://HOST:PORT",
            )
        self.binary = found
        self.port = free_loopback_port()
        self.dir = Path(tempfile.mkdtemp(prefix="examgate-demo-broker-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 10.0) -> None:
        conf = self.dir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        conf.write_text("\n".join([*lines, "log_dest stderr", "log_type error", ""]), encoding="utf-8")
        # mosquitto started as root drops to its own user, which must read the config (no secrets in it)
        os.chmod(self.dir, 0o755)  # noqa: S103
        os.chmod(conf, 0o644)
        self.process = subprocess.Popen(
            [self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                raise ExamGateError(
                    f"mosquitto exited at start: {err.strip()[:300]}",
                    code="E_DEMO_NO_BROKER",
                    remedy="check that mosquitto runs (`mosquitto -h`), or pass --broker mqtt://HOST:PORT",
                )
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        self.stop()
        raise ExamGateError(
            "mosquitto did not open its port in time", code="E_DEMO_NO_BROKER", remedy="pass --broker mqtt://HOST:PORT"
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
