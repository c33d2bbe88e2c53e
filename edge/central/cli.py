"""CLI of the centre: ``examgate ingest --postgres DSN`` / ``ingest migrate`` (called from edge/cli/mqtt.py) and the
``examgate central`` group (``migrate``, ``export``, ``keygen``, ``verify``, ``schema``, ``dashboard``, ``user-add``,
``demo``)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edge.central.errors import CentralError

if TYPE_CHECKING:
    from edge.mqtt.settings import MqttSettings

# psycopg (and libpq) are imported by the commands only: a gate without libpq still runs every other command.

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
    if getattr(args, "safety_net", False) and not getattr(args, "postgres", None):
        raise IngestUsageError("--safety-net is a PostgreSQL worker: add --postgres DSN")


def _migrate(dsn: str) -> int:
    from edge.central import db  # noqa: PLC0415

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
    from edge.central import db  # noqa: PLC0415
    from edge.central.ingest import PgIngest  # noqa: PLC0415

    db.migrate(args.postgres)
    worker = PgIngest(
        settings, args.postgres, args.group, client_id=args.client_id, batch=args.batch, safety_net=args.safety_net
    )
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


def cmd_export(args: argparse.Namespace) -> int:
    from edge.central import export  # noqa: PLC0415

    summary = export.export(args.postgres, args.session, args.format, args.out, args.key)
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from edge.central import export  # noqa: PLC0415

    pub = export.keygen(args.out)
    print(json.dumps({"key": str(args.out), "public_key": str(pub)}))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from edge.central import export  # noqa: PLC0415

    ok = export.verify(args.file, args.pub)
    print(json.dumps({"file": str(args.file), "signature_valid": ok}))
    return 0 if ok else 1


def cmd_schema(args: argparse.Namespace) -> int:
    from edge.central import export  # noqa: PLC0415

    text = export.render_schema()
    if args.check:
        if not export.SCHEMA_PATH.is_file() or export.SCHEMA_PATH.read_text(encoding="utf-8") != text:
            print(f"{export.SCHEMA_PATH.name} differs: run `examgate central schema --write`", file=sys.stderr)
            return 1
        return 0
    if args.write:
        export.SCHEMA_PATH.write_text(text, encoding="utf-8")
        return 0
    sys.stdout.write(text)
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    import uvicorn  # noqa: PLC0415 - only this command serves HTTP

    from edge.api.settings import ApiSettings  # noqa: PLC0415
    from edge.central.dashboard import create_app  # noqa: PLC0415

    _accounts_file(args.accounts)
    app = create_app(args.postgres, args.accounts, ApiSettings(host=args.host, port=args.port))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _accounts_file(path: Path) -> None:
    from edge.store import open_store  # noqa: PLC0415

    open_store(path).close()  # creates or migrates the accounts tables


def cmd_user_add(args: argparse.Namespace) -> int:
    from edge.api.accounts import AccountStore  # noqa: PLC0415

    _accounts_file(args.accounts)
    password = args.password_file.read_text(encoding="utf-8").strip()
    accounts = AccountStore(args.accounts)
    try:
        user = accounts.add_user(args.username, args.role, password, actor="cli")
    finally:
        accounts.close()
    print(json.dumps({"username": user.username, "role": user.role}))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from edge.central.demo import run  # noqa: PLC0415 - starts servers; imported only for this command

    return run(args)


def register(sub: SubParsers[argparse.ArgumentParser]) -> None:
    central = sub.add_parser("central", help="the centre's side: PostgreSQL schema, gates, police export, dashboard")
    csub = central.add_subparsers(dest="central_command", metavar="ACTION", required=True)
    mig = csub.add_parser("migrate", help="bring the PostgreSQL schema to this version (same as `ingest migrate`)")
    mig.add_argument("--postgres", metavar="DSN", required=True)
    mig.set_defaults(func=cmd_migrate)
    exp = csub.add_parser("export", help="police-system export of one session: one record per candidate, signed")
    exp.add_argument("--postgres", metavar="DSN", required=True)
    exp.add_argument("--session", required=True, help="exam session id")
    exp.add_argument("--format", choices=("json", "csv"), default="json")
    exp.add_argument("--out", type=Path, required=True, help="output file; the signature goes to FILE.sig")
    exp.add_argument("--key", type=Path, required=True, help="the centre's Ed25519 private key (PEM)")
    exp.set_defaults(func=cmd_export)
    kg = csub.add_parser("keygen", help="make the centre's Ed25519 signing key (FILE) and its public key (FILE.pub)")
    kg.add_argument("--out", type=Path, required=True)
    kg.set_defaults(func=cmd_keygen)
    ver = csub.add_parser("verify", help="check an export against its detached signature FILE.sig")
    ver.add_argument("file", type=Path)
    ver.add_argument("--pub", type=Path, required=True, help="the centre's public key (PEM)")
    ver.set_defaults(func=cmd_verify)
    dash = csub.add_parser("dashboard", help="serve the province dashboard (Vietnamese first, console accounts)")
    dash.add_argument("--postgres", metavar="DSN", required=True)
    dash.add_argument("--accounts", type=Path, required=True, help="accounts file (SQLite) of the centre's staff")
    dash.add_argument("--host", default="127.0.0.1")
    dash.add_argument("--port", type=int, default=8090)
    dash.set_defaults(func=cmd_dashboard)
    ua = csub.add_parser("user-add", help="add a dashboard account (roles: viewer, technician, proctor)")
    ua.add_argument("--accounts", type=Path, required=True)
    ua.add_argument("--username", required=True)
    ua.add_argument("--role", choices=("viewer", "technician", "proctor"), default="viewer")
    ua.add_argument("--password-file", type=Path, required=True)
    ua.set_defaults(func=cmd_user_add)
    demo = csub.add_parser(
        "demo", help="PostgreSQL + mosquitto + 2 ingest workers and a safety net + dashboard + the demo gate"
    )
    demo.add_argument("--port", type=int, help="dashboard port (default: a free one)")
    demo.add_argument("--exit-after-s", type=float, help="stop after this many seconds (default: Ctrl-C)")
    demo.set_defaults(func=cmd_demo)
    sch = csub.add_parser("schema", help="print the JSON Schema of the export")
    group = sch.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true")
    group.add_argument("--check", action="store_true")
    sch.set_defaults(func=cmd_schema)
