"""CLI of the centre: ``examgate ingest --postgres DSN`` / ``ingest migrate`` (called from edge/mqtt/cli.py) and the
``examgate central`` group (``migrate``, ``gates``, ``export``, ``dashboard``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from edge.central import db
from edge.central.errors import CentralError
from edge.central.ingest import PgIngest
from edge.mqtt.settings import MqttSettings

SubParsers = argparse._SubParsersAction


class IngestUsageError(CentralError):
    code = "E_INGEST_USAGE"
    remedy = (
        "use `examgate ingest --broker URL --postgres DSN` (or --db FILE), or `examgate ingest migrate --postgres DSN`"
    )


def require_ingest_target(args: argparse.Namespace) -> None:
    if not args.broker:
        raise IngestUsageError("--broker URL is required to ingest")
    if not args.db and not getattr(args, "postgres", None):
        raise IngestUsageError("say where to store events: --postgres DSN or --db FILE")


def _migrate(dsn: str) -> int:
    before, after = db.migrate(dsn)
    print(json.dumps({"schema_version_before": before, "schema_version": after}))
    return 0


def run_postgres_ingest(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], MqttSettings]) -> int:
    """``examgate ingest --postgres DSN`` (runs the migrations first) and ``examgate ingest migrate --postgres DSN``."""
    if not args.postgres:
        raise IngestUsageError("`ingest migrate` needs --postgres DSN")
    if args.mode == "migrate":
        return _migrate(args.postgres)
    require_ingest_target(args)
    if args.batch < 1:
        raise IngestUsageError(f"--batch must be >= 1, got {args.batch}")
    settings = settings_of(args)
    db.migrate(args.postgres)
    worker = PgIngest(settings, args.postgres, args.group, client_id=args.client_id, batch=args.batch)
    stop = threading.Event()

    def on_term(_sig: int, _frame: Any) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_term)
    worker.start()
    if worker.subscribed.wait(settings.connect_timeout_s):
        print(f"subscribed to {worker.topic_filter}", file=sys.stderr, flush=True)
    deadline = time.monotonic() + args.timeout_s if args.timeout_s else None
    try:
        while not stop.is_set():
            counts = worker.counters.snapshot()
            if args.count and counts["stored"] + counts["duplicates"] + counts["rejected"] >= args.count:
                break
            if deadline is not None and time.monotonic() > deadline:
                break
            with worker.processed:
                worker.processed.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    print(json.dumps(worker.counters.snapshot()), flush=True)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    return _migrate(args.postgres)


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    central = sub.add_parser("central", help="the centre's side: PostgreSQL schema, gates, police export, dashboard")
    csub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    mig = csub.add_parser("migrate", help="bring the PostgreSQL schema to this version (same as `ingest migrate`)")
    mig.add_argument("--postgres", metavar="DSN", required=True)
    mig.set_defaults(func=cmd_migrate)
