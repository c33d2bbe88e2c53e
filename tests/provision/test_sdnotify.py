"""edge.sdnotify against a real AF_UNIX datagram socket, as systemd's manager would hold it."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge import sdnotify


def _receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + address[1:] if address.startswith("@") else address)
    sock.settimeout(2.0)
    return sock


@pytest.fixture(params=["path", "abstract"])
def manager(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[socket.socket]:
    if request.param == "path":
        address = str(tmp_path / "notify.sock")
        if len(address) >= 100:  # sun_path limit
            address = f"/tmp/examgate-notify-{uuid.uuid4().hex[:8]}.sock"
    else:
        address = f"@examgate-test-{uuid.uuid4().hex}"
    sock = _receiver(address)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    yield sock
    sock.close()
    if not address.startswith("@") and os.path.exists(address):
        os.unlink(address)


def test_ready_watchdog_status_stopping(manager: socket.socket) -> None:
    assert sdnotify.ready("devices up") is True
    assert manager.recv(4096) == b"READY=1\nSTATUS=devices up"
    assert sdnotify.watchdog() is True
    assert manager.recv(4096) == b"WATCHDOG=1"
    assert sdnotify.status("3 events queued") is True
    assert manager.recv(4096) == b"STATUS=3 events queued"
    assert sdnotify.stopping() is True
    assert manager.recv(4096) == b"STOPPING=1"


def test_without_systemd_everything_is_a_no_op(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.ready() is False
    assert sdnotify.watchdog() is False


def test_socket_gone_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "absent.sock"))
    assert sdnotify.ready() is False


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert sdnotify.watchdog_interval_s() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert sdnotify.watchdog_interval_s() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert sdnotify.watchdog_interval_s() is None
