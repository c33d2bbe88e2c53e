"""`examgate ingest migrate --postgres`, `central migrate`, usage errors, and the export/verify commands end to end."""

from __future__ import annotations

import json

import pytest
from central_helpers import run_cli

from edge.central import db
from edge.central.cli import IngestUsageError, require_ingest_target, run_postgres_ingest


def test_ingest_migrate_then_central_migrate_is_a_no_op(pg_dsn: str) -> None:
    first = run_cli("ingest", "migrate", "--postgres", pg_dsn)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"schema_version_before": 0, "schema_version": db.LATEST}
    again = run_cli("central", "migrate", "--postgres", pg_dsn)
    assert json.loads(again.stdout) == {"schema_version_before": db.LATEST, "schema_version": db.LATEST}


def test_usage_errors_are_typed() -> None:
    class Args:
        broker = None
        db = None
        postgres = None
        mode = None

    with pytest.raises(IngestUsageError) as err:
        require_ingest_target(Args())  # type: ignore[arg-type]
    assert err.value.code == "E_INGEST_USAGE"
    Args.mode = "migrate"
    with pytest.raises(IngestUsageError, match="needs --postgres"):
        run_postgres_ingest(Args(), lambda _a: None)  # type: ignore[arg-type,return-value]
    Args.broker = "mqtt://127.0.0.1:1"
    Args.mode = None
    with pytest.raises(IngestUsageError, match="--postgres DSN or --db FILE"):
        require_ingest_target(Args())  # type: ignore[arg-type]


def test_db_and_postgres_are_exclusive() -> None:
    done = run_cli("ingest", "--broker", "mqtt://127.0.0.1:1", "--db", "x.db", "--postgres", "host=x")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
