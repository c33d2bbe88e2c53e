"""Fixtures: a real mosquitto (session-wide, plus private ones for stop/restart tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol, TypeVar

import pytest
from mqtt_broker import MOSQUITTO, Mosquitto


class Service(Protocol):
    def start(self) -> None: ...

    def cleanup(self) -> None: ...


S = TypeVar("S", bound=Service)


def started(service: S) -> Iterator[S]:
    """``service`` started for a fixture and cleaned up after it (tests/central's PostgreSQL fixtures use it too)."""
    service.start()
    yield service
    service.cleanup()


def _require_mosquitto() -> None:
    if MOSQUITTO is None:
        pytest.skip("mosquitto binary not installed (apt-get install -y mosquitto); the MQTT tests need a real broker")


@pytest.fixture(scope="session")
def broker() -> Iterator[Mosquitto]:
    """Shared broker: never stopped by tests."""
    _require_mosquitto()
    yield from started(Mosquitto())


@pytest.fixture
def private_broker() -> Iterator[Callable[[], Mosquitto]]:
    """Factory for brokers a test may stop, kill or restart."""
    _require_mosquitto()
    made: list[Mosquitto] = []

    def make() -> Mosquitto:
        instance = Mosquitto()
        instance.start()
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.cleanup()
