"""The demo end to end: real face matching on the committed photos, real SQLite, a real mosquitto when installed.

This is also the guard that the scenario still shows what it says (pass, impostor, not on roster, anti-passback,
roster photo of someone else → review, a print of the card holder's photo stopped by PAD) with the committed
thresholds and models.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.demo.broker import find_mosquitto
from edge.store import Store


def run_demo(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "demo", "--workdir", str(tmp_path), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_demo_prints_each_decision_and_a_summary(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--no-broker")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [line for line in done.stdout.splitlines() if "******" in line]
    assert len(lines) == 11
    assert sum(" PASS " in line for line in lines) == 6
    assert "E_FACE_NO_MATCH" in lines[3] and "E_NOT_ON_ROSTER" in lines[4] and "E_ANTI_PASSBACK" in lines[5]
    assert "REVIEW→PASS" in lines[6] and "E_ROSTER_DISAGREES" in lines[6]  # the roster photo is someone else's
    assert "PAD_SUSPECTED" in lines[10] or "E_PAD_ATTACK" in lines[10]  # the simulated print, PAD enforced
    assert "PASS" not in lines[10]  # a suspected attack never passes (the demo's proctor rejects it)
    assert "summary: 11 candidates: pass 7 (of which 1 after review), fail 4" in done.stdout
    assert "001099012345" not in done.stdout + done.stderr  # never a full ID number
    assert "face images kept for review/fail cases: 9, encrypted" in done.stdout  # impostor, roster slip, PAD: 3 each
    store = Store.open(tmp_path / "examgate.db", read_only=True)
    assert store.verify_audit().ok
    assert store.outbox_backlog() == 29


def test_demo_json_lines_are_events(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--no-broker", "--json", "--candidates", "4")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    types = [e["event_type"] for e in events]
    assert types[0] == "device.status"
    assert types.count("candidate.admitted") == 3 and types.count("candidate.rejected") == 1
    assert all(e["site_id"] == "demo-site" for e in events)


@pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed (make test installs it)")
def test_demo_publishes_to_its_embedded_broker_and_drains(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--candidates", "3", "--site", "QNG-01", "--gate", "lane-7")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "mosquitto_sub -h 127.0.0.1" in done.stdout
    assert "0 still queued" in done.stdout
    store = Store.open(tmp_path / "examgate.db", read_only=True)
    assert store.outbox_backlog() == 0
    assert json.loads(store.outbox_all()[-1].payload)["gate_id"] == "lane-7"


# ---------------------------------------------------------------- a new user's first run (issue 14 faults 5, 9)
NATIVE_MARKERS = ("XNNPACK", "LiteRT", "InitGoogle", "inference_runner", "accelerator_registry")


def test_demo_caps_candidates_and_keeps_native_log_lines_out(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--no-broker", "--candidates", "30")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: the scenario has 11 candidates: running 11, not 30" in done.stdout
    assert "summary: 11 candidates" in done.stdout
    noise = [line for line in done.stderr.splitlines() if any(m in line for m in NATIVE_MARKERS)]
    assert noise == []


def test_demo_candidates_below_one_is_a_usage_error(tmp_path: Path) -> None:
    done = run_demo(tmp_path, "--no-broker", "--candidates", "0")
    assert done.returncode == 3
    assert "error: E_USAGE: --candidates must be at least 1" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("url", ["garbage", "mqtt://", "http://x", "mqtt://127.0.0.1:99999"])
def test_demo_bad_broker_url_is_a_typed_error(tmp_path: Path, url: str) -> None:
    done = run_demo(tmp_path, "--broker", url)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert "error: E_MQTT_URL:" in done.stderr
    assert "remedy: give the broker as mqtt://HOST:PORT" in done.stderr


def test_demo_dead_broker_says_so_before_any_candidate(tmp_path: Path) -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = run_demo(tmp_path, "--broker", f"mqtt://127.0.0.1:{port}")
    assert done.returncode == 3
    assert "error: E_MQTT_UNREACHABLE:" in done.stderr and "refused" in done.stderr
    assert "remedy: start the broker" in done.stderr
    assert "******" not in done.stdout  # no candidate ran


def test_events_left_queued_name_the_broker_failure() -> None:
    from edge.demo.cli import undelivered  # noqa: PLC0415
    from edge.mqtt.connection import MqttUnreachableError  # noqa: PLC0415

    never = undelivered(5, "mqtt://127.0.0.1:1", 2.0, MqttUnreachableError("broker mqtt://127.0.0.1:1 is unreachable"))
    assert never.code == "E_MQTT_UNREACHABLE"
    assert never.message.startswith("5 event(s) not acknowledged by mqtt://127.0.0.1:1 within 2 s")
    assert "start the broker" in never.remedy
    slow = undelivered(5, "mqtt://127.0.0.1:1", 2.0, None)
    assert slow.code == "E_MQTT_FAILED"
    assert "--drain-timeout-s" in slow.remedy
