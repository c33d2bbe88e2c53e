"""Fixtures: a real PostgreSQL cluster (session-wide, one fresh database per test, or a private one to stop and
restart), and tests/mqtt's real mosquitto fixtures (``broker``, ``private_broker``), reused as they are."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_MQTT_TESTS = Path(__file__).resolve().parents[1] / "mqtt"
sys.path.insert(0, str(_MQTT_TESTS))

from pg_cluster import PG_BIN, PgCluster  # noqa: E402

_spec = importlib.util.spec_from_file_location("examgate_mqtt_test_fixtures", _MQTT_TESTS / "conftest.py")
assert _spec is not None and _spec.loader is not None
_mqtt_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mqtt_fixtures)
broker = _mqtt_fixtures.broker
private_broker = _mqtt_fixtures.private_broker


def _require_postgres() -> None:
    if PG_BIN is None:
        pytest.skip("PostgreSQL server binaries absent (apt-get install -y postgresql); the centre tests need them")


def _started_cluster() -> Iterator[PgCluster]:
    """A PostgreSQL cluster started for the fixture and removed after it."""
    _require_postgres()
    yield from _mqtt_fixtures.started(PgCluster())


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    yield from _started_cluster()


@pytest.fixture
def pg_dsn(pg_cluster: PgCluster) -> str:
    return pg_cluster.create_db(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def private_pg() -> Iterator[PgCluster]:
    """A cluster of its own, for tests that stop or restart the server."""
    yield from _started_cluster()
