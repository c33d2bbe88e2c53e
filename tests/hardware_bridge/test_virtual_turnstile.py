"""VirtualTurnstile: pulse records, virtual passage sensor, fire release and alarm, thread safety."""

from __future__ import annotations

import threading
import time

import pytest

from edge.device_config import SimulatedTurnstileConfig
from edge.devices import Turnstile
from firmware_bridge.turnstile import TurnstileError, open_turnstile
from firmware_bridge.turnstile.virtual import VirtualTurnstile


def test_release_records_pulse_and_candidate_passes() -> None:
    gate = open_turnstile(SimulatedTurnstileConfig(pulse_ms=250, passage_after_s=0.02))
    assert isinstance(gate, VirtualTurnstile)
    assert isinstance(gate, Turnstile)
    before = time.monotonic()
    gate.release("entry")
    assert gate.wait_passage(timeout_s=2.0) is True
    assert gate.passages == 1
    (pulse,) = gate.pulses
    assert pulse.direction == "entry"
    assert pulse.duration_ms == 250
    assert before <= pulse.started_monotonic_s <= time.monotonic()
    gate.close()


def test_nobody_passes_when_passage_after_is_none() -> None:
    gate = VirtualTurnstile(passage_after_s=None)
    gate.release()
    assert gate.wait_passage(timeout_s=0.05) is False
    assert gate.passages == 0
    assert len(gate.pulses) == 1


def test_no_pulse_without_release() -> None:
    gate = VirtualTurnstile(passage_after_s=0.0)
    gate.simulate_passage()  # someone forces through
    gate.set_alarm(True)
    gate.set_fire_release(True)
    gate.set_fire_release(False)
    gate.close()
    assert gate.pulses == ()


def test_passage_before_release_does_not_count_for_the_next_candidate() -> None:
    gate = VirtualTurnstile(passage_after_s=None)
    gate.simulate_passage()
    gate.release()
    assert gate.wait_passage(timeout_s=0.02) is False


def test_fire_release_and_alarm_status() -> None:
    gate = VirtualTurnstile()
    assert gate.status().fire_release is False
    gate.set_fire_release(True)
    gate.set_alarm(True)
    status = gate.status()
    assert status.fire_release is True
    assert status.alarm is True
    with pytest.raises(TurnstileError) as err:
        gate.release()
    assert err.value.code == "E_TURNSTILE_FIRE_RELEASE"
    assert gate.pulses == ()
    gate.set_fire_release(False)
    gate.release()
    assert len(gate.pulses) == 1


def test_closed_turnstile_refuses_and_cancels_pending_passage() -> None:
    gate = VirtualTurnstile(passage_after_s=0.2)
    gate.release()
    gate.close()
    assert gate.status().fault == "closed"
    assert gate.wait_passage(timeout_s=0.3) is False
    with pytest.raises(TurnstileError) as err:
        gate.release()
    assert err.value.code == "E_TURNSTILE_CLOSED"


def test_concurrent_releases_are_all_recorded() -> None:
    gate = VirtualTurnstile(passage_after_s=None)
    threads = [threading.Thread(target=lambda: [gate.release() for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(gate.pulses) == 200
    starts = [p.started_monotonic_s for p in gate.pulses]
    assert starts == sorted(starts)
