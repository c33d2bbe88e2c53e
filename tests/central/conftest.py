"""Fixtures: a real PostgreSQL cluster (session-wide, one fresh database per test) and real mosquitto brokers."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mqtt"))

from mqtt_broker import MOSQUITTO, Mosquitto
from pg_cluster import PG_BIN, PgCluster


def _require() -> None:
    if PG_BIN is None:
        pytest.skip("PostgreSQL server binaries absent (apt-get install -y postgresql); the centre tests need them")
    if MOSQUITTO is None:
        pytest.skip("mosquitto binary not installed (apt-get install -y mosquitto); the centre tests need a broker")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    _require()
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.cleanup()


@pytest.fixture
def pg_dsn(pg_cluster: PgCluster) -> str:
    return pg_cluster.create_db(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def private_pg() -> Iterator[PgCluster]:
    """A cluster of its own, for tests that stop or restart the server."""
    _require()
    cluster = PgCluster()
    cluster.start()
    yield cluster
    cluster.cleanup()


@pytest.fixture(scope="session")
def broker() -> Iterator[Mosquitto]:
    _require()
    instance = Mosquitto()
    instance.start()
    yield instance
    instance.cleanup()


@pytest.fixture
def private_broker() -> Iterator[Callable[[], Mosquitto]]:
    _require()
    made: list[Mosquitto] = []

    def make() -> Mosquitto:
        instance = Mosquitto()
        instance.start()
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.cleanup()
