"""GpioTurnstile on gpiozero's MockFactory: pulse timing from the pins' state history, passage sensor,
fire release (normally-closed loop), alarm, and that no relay ever moves unless release() is called."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from edge.device_config import GpioTurnstileConfig
from edge.devices import Turnstile
from firmware_bridge.turnstile import TurnstileError, open_turnstile
from firmware_bridge.turnstile.gpio import GpioTurnstile

ENTRY, EXIT, PASSAGE, ALARM, FIRE = 17, 27, 22, 23, 24


class DryContactPin(MockPin):
    """An input wired to a dry contact to GND: a closed contact holds the pin low whatever its pull-up.

    (MockPin alone models an unwired pin, which the pull-up drives high.)
    """

    def __init__(self, factory: Any, info: Any) -> None:
        self.contact_closed = False
        super().__init__(factory, info)

    def _set_pull(self, value: str) -> None:
        super()._set_pull(value)
        if self.contact_closed:
            self.drive_low()

    def close_contact(self) -> None:
        self.contact_closed = True
        self.drive_low()

    def open_contact(self) -> None:
        self.contact_closed = False
        self.drive_high()


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPin)
    yield f
    f.reset()


def _fire_loop(factory: MockFactory, *, closed: bool) -> DryContactPin:
    pin = factory.pin(FIRE, pin_class=DryContactPin)
    assert isinstance(pin, DryContactPin)
    pin.contact_closed = closed
    return pin


def _contact(factory: MockFactory, number: int) -> DryContactPin:
    pin = factory.pin(number, pin_class=DryContactPin)
    assert isinstance(pin, DryContactPin)
    return pin


def _relay_levels(factory: MockFactory, number: int) -> list[bool]:
    return [bool(s.state) for s in factory.pin(number).states]


def _gate(factory: MockFactory, **overrides: Any) -> GpioTurnstile:
    cfg = GpioTurnstileConfig(pulse_ms=overrides.pop("pulse_ms", 100), **overrides)
    gate = open_turnstile(cfg, pin_factory=factory)
    assert isinstance(gate, GpioTurnstile)
    return gate


def _wait_until(predicate: Any, timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_pulse_length_matches_pulse_ms(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory, pulse_ms=120)
    assert isinstance(gate, Turnstile)
    relay = factory.pin(ENTRY)
    relay.clear_states()
    gate.release("entry")
    _wait_until(lambda: len(relay.states) >= 3)
    time.sleep(0.3)  # one pulse only: nothing may follow it
    assert len(relay.states) == 3
    (_, rest), (_, on), (duration_s, off) = relay.states
    assert (rest, on, off) == (False, True, False)
    assert 0.120 - 0.005 <= duration_s <= 0.120 + 0.080  # thread scheduling on a shared CI box
    assert _relay_levels(factory, EXIT) == [False]  # the other direction never moved
    gate.close()


def test_exit_direction_pulses_its_own_relay(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory)
    gate.release("exit")
    _wait_until(lambda: len(factory.pin(EXIT).states) >= 3)
    assert _relay_levels(factory, EXIT) == [False, True, False]
    assert _relay_levels(factory, ENTRY) == [False]
    gate.close()


def test_active_low_relay_board(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory, relay_active_high=False)
    relay = factory.pin(ENTRY)
    assert relay.state is True  # at rest an active-low relay input is held high
    relay.clear_states()
    gate.release()
    _wait_until(lambda: len(relay.states) >= 3)
    assert [bool(s.state) for s in relay.states] == [True, False, True]
    gate.close()


def test_passage_sensor_edge_confirms_the_passage(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    sensor = _contact(factory, PASSAGE)
    gate = _gate(factory)
    gate.release()
    assert gate.wait_passage(timeout_s=0.01) is False
    sensor.close_contact()  # the controller's "passage done" output closes
    assert gate.wait_passage(timeout_s=1.0) is True
    sensor.open_contact()
    gate.release()  # next candidate: the earlier passage does not count
    assert gate.wait_passage(timeout_s=0.02) is False
    gate.close()


def test_wait_passage_times_out(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory)
    gate.release()
    started = time.monotonic()
    assert gate.wait_passage(timeout_s=0.1) is False
    assert time.monotonic() - started >= 0.09
    gate.close()


def test_without_passage_sensor_nothing_is_confirmed(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory, passage_sensor_pin=None)
    gate.release()
    assert gate.wait_passage(timeout_s=5.0) is False
    gate.close()


def test_fire_loop_opening_holds_both_relays_and_stops_admissions(factory: MockFactory) -> None:
    fire = _fire_loop(factory, closed=True)
    gate = _gate(factory)
    assert gate.status().fire_release is False
    fire.open_contact()  # fire panel opens its normally-closed loop
    status = gate.status()
    assert status.fire_release is True
    assert factory.pin(ENTRY).state is True
    assert factory.pin(EXIT).state is True
    assert gate.relay_engaged("entry") is True
    with pytest.raises(TurnstileError) as err:
        gate.release()
    assert err.value.code == "E_TURNSTILE_FIRE_RELEASE"
    fire.close_contact()  # alarm reset
    assert gate.status().fire_release is False
    assert factory.pin(ENTRY).state is False
    assert factory.pin(EXIT).state is False
    gate.release()  # admissions resume
    gate.close()


def test_fire_during_a_pulse_keeps_the_relay_held(factory: MockFactory) -> None:
    fire = _fire_loop(factory, closed=True)
    gate = _gate(factory, pulse_ms=80)
    gate.release()
    fire.open_contact()
    time.sleep(0.15)  # longer than the pulse: the pulse's own "off" must not drop the held relay
    assert factory.pin(ENTRY).state is True
    gate.close()


def test_open_fire_loop_at_start_frees_the_lane(factory: MockFactory) -> None:
    _fire_loop(factory, closed=False)  # alarm active or wire cut before the daemon starts
    gate = _gate(factory)
    assert gate.status().fire_release is True
    assert factory.pin(ENTRY).state is True
    assert factory.pin(EXIT).state is True
    gate.close()


def test_alarm_input_is_reported(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    alarm = _contact(factory, ALARM)
    gate = _gate(factory)
    assert gate.status().alarm is False
    alarm.close_contact()
    assert gate.status().alarm is True
    alarm.open_contact()
    assert gate.status().alarm is False
    gate.close()


def test_relays_never_move_on_init_sensor_edges_or_close(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    sensor = _contact(factory, PASSAGE)
    alarm = _contact(factory, ALARM)
    gate = _gate(factory)
    for _ in range(3):
        sensor.close_contact()
        sensor.open_contact()
        alarm.close_contact()
        alarm.open_contact()
    gate.wait_passage(timeout_s=0.01)
    gate.status()
    gate.close()
    time.sleep(0.05)
    assert _relay_levels(factory, ENTRY) == [False]
    assert _relay_levels(factory, EXIT) == [False]


def test_closed_driver_refuses_release(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory)
    gate.close()
    gate.close()
    assert gate.status().fault == "closed"
    with pytest.raises(TurnstileError) as err:
        gate.release()
    assert err.value.code == "E_TURNSTILE_CLOSED"


def test_missing_exit_relay_is_typed(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory, exit_relay_pin=None)
    with pytest.raises(TurnstileError) as err:
        gate.release("exit")
    assert err.value.code == "E_TURNSTILE_NO_RELAY"
    gate.close()


def test_pin_in_use_is_a_typed_error(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    first = _gate(factory)
    with pytest.raises(TurnstileError) as err:
        _gate(factory)
    assert err.value.code == "E_TURNSTILE_GPIO_UNAVAILABLE"
    first.close()
    _gate(factory).close()  # the failed attempt released the pins it had taken


def test_describe_states_failure_mode(factory: MockFactory) -> None:
    _fire_loop(factory, closed=True)
    gate = _gate(factory, failure_mode="fail_safe")
    info = gate.describe()
    assert info["failure_mode"] == "fail_safe"
    assert info["relay_pins"] == {"entry": ENTRY, "exit": EXIT}
    gate.close()


def test_config_rejects_a_pin_used_twice() -> None:
    with pytest.raises(ValueError, match="used once"):
        GpioTurnstileConfig(entry_relay_pin=22, passage_sensor_pin=22)
