"""The systemd watchdog contract, end to end: `examgate daemon` in a subprocess with NOTIFY_SOCKET pointing at a
datagram socket this test owns (as systemd's manager would). READY=1, then WATCHDOG=1 at half of WATCHDOG_USEC;
when the event loop stalls (test mode EXAMGATE_TEST_STALL_AFTER_S) the pings stop, which is what makes systemd
restart a hung daemon."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_helpers import REPO, make_sim_gate

WATCHDOG_USEC = 400_000  # pings every 0.2 s


@pytest.fixture
def manager() -> Iterator[tuple[socket.socket, str]]:
    address = f"/tmp/examgate-wd-{uuid.uuid4().hex[:12]}.sock"  # short: sun_path is limited to 108 bytes
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    yield sock, address
    sock.close()
    os.unlink(address)


def start_daemon(config: Path, address: str, **extra_env: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NOTIFY_SOCKET": address,
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "PYTHONUNBUFFERED": "1",
        **extra_env,
    }
    env.pop("WATCHDOG_PID", None)
    return subprocess.Popen(
        [sys.executable, "-m", "edge.cli.main", "daemon", "--config", str(config)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def receive(sock: socket.socket, until_s: float) -> list[tuple[float, str]]:
    """Every datagram until ``until_s`` (monotonic), with its arrival time."""
    got: list[tuple[float, str]] = []
    while (left := until_s - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        got.append((time.monotonic(), data.decode()))
    return got


def wait_ready(sock: socket.socket, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> float:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for at, message in receive(sock, min(deadline, time.monotonic() + 1.0)):
            if "READY=1" in message.split("\n"):
                return at
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"daemon exited with {proc.returncode} before READY=1:\n{err[-3000:]}")
    pytest.fail("no READY=1 within the timeout")


def stop(proc: subprocess.Popen[bytes], sig: int) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    code = proc.wait(20)
    if proc.stderr is not None:
        proc.stderr.close()
    return code


def pings(messages: list[tuple[float, str]]) -> list[float]:
    return [at for at, message in messages if message == "WATCHDOG=1"]


def test_ready_then_periodic_pings_then_clean_stop(tmp_path: Path, manager: tuple[socket.socket, str]) -> None:
    sock, address = manager
    proc = start_daemon(make_sim_gate(tmp_path), address)
    try:
        ready_at = wait_ready(sock, proc)
        messages = receive(sock, ready_at + 2.0)
        times = pings(messages)
        assert len(times) >= 5, messages  # 2 s at one ping per 0.2 s, with slack for a busy CI machine
        gaps = sorted(b - a for a, b in itertools.pairwise(times))
        assert 0.1 < gaps[len(gaps) // 2] < 0.3, gaps  # pinged at half of WATCHDOG_USEC
        proc.send_signal(signal.SIGTERM)
        tail = receive(sock, time.monotonic() + 10.0)
    finally:
        code = stop(proc, signal.SIGKILL)
    assert code == 0
    assert any(m.startswith("STOPPING=1") for _, m in tail), tail


def test_stalled_loop_stops_the_pings(tmp_path: Path, manager: tuple[socket.socket, str]) -> None:
    sock, address = manager
    stall_after_s = 1.5
    proc = start_daemon(make_sim_gate(tmp_path), address, EXAMGATE_TEST_STALL_AFTER_S=str(stall_after_s))
    try:
        ready_at = wait_ready(sock, proc)
        messages = receive(sock, ready_at + stall_after_s + 3.0)
    finally:
        stop(proc, signal.SIGKILL)  # a stalled loop cannot handle SIGTERM: systemd would SIGABRT/SIGKILL it too
    times = pings(messages)
    assert len(times) >= 4, messages  # it was alive before the stall
    last = times[-1]
    assert last < ready_at + stall_after_s + 0.5, (last - ready_at, messages)
    # the watchdog deadline (0.4 s) passes several times over with no ping: systemd would restart the service
    assert not [at for at in times if at > last], "pings resumed"
    assert ready_at + stall_after_s + 3.0 - last > 5 * WATCHDOG_USEC / 1e6
