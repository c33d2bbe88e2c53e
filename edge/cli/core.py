"""Core commands: config, events schema, roster, audit, daemon."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from edge.cmdline import EXIT_CHECK_FAILED, EXIT_OK, add_config_arg, config_path, load, print_error
from edge.config import load_config, masked_dump
from edge.errors import ConfigError
from edge.events.schema import committed_schema_path, render_schema
from edge.roster import parse_roster
from edge.startup import check_startup
from edge.wiring import open_gate_store, repo_root

if TYPE_CHECKING:
    from edge.cmdline import SubParsers


def cmd_config_check(args: argparse.Namespace) -> int:
    """The file's own validation, then the daemon's start-up checks (thresholds file, store, session)."""
    path = Path(args.file)
    try:
        cfg = load_config(path)
        check_startup(cfg)
    except ConfigError as err:
        print(f"{path}: {len(err.problems) or 1} problem(s)")
        for dotted, why in err.problems or [("(file)", err.message)]:
            print(f"  {dotted}: {why}")
        print(f"remedy: {err.remedy}")
        return EXIT_CHECK_FAILED
    print(f"{path}: OK (config digest {cfg.digest()})")
    return EXIT_OK


def cmd_config_show(args: argparse.Namespace) -> int:
    cfg = load_config(Path(args.file)) if args.file else load(args)
    print(json.dumps(masked_dump(cfg), indent=2, ensure_ascii=False))
    return EXIT_OK


def cmd_events_schema(args: argparse.Namespace) -> int:
    text = render_schema()
    if args.check:
        path = committed_schema_path(repo_root())
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"{path} differs from the event models: run `examgate events schema --write`", file=sys.stderr)
            return EXIT_CHECK_FAILED
        print(f"{path}: up to date")
        return EXIT_OK
    if args.write:
        path = committed_schema_path(repo_root())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
        return EXIT_OK
    sys.stdout.write(text)
    return EXIT_OK


def cmd_roster_import(args: argparse.Namespace) -> int:
    rows = parse_roster(Path(args.file))
    store = open_gate_store(load(args))
    try:
        write = store.replace_roster if args.replace else store.upsert_roster
        digest = write(args.session, rows, actor="cli")
    finally:
        store.close()
    print(f"imported {len(rows)} candidate(s) into session {args.session}: {digest.count} on roster")
    print(f"roster sha256 {digest.sha256}")
    return EXIT_OK


def cmd_session_list(args: argparse.Namespace) -> int:
    store = open_gate_store(load(args))
    try:
        sessions = store.sessions()
        active = store.open_session_id()
    finally:
        store.close()
    if not sessions:
        print("no exam sessions: import a roster with `examgate roster import FILE --session ID`")
    for session_id, status, created_at, size in sessions:
        marker = "*" if session_id == active else " "
        print(f"{marker} {session_id:<24} {status:<7} {size:>5} candidates  created {created_at}")
    return EXIT_OK


def cmd_session_status(args: argparse.Namespace) -> int:
    store = open_gate_store(load(args))
    try:
        changed = store.set_session_status(args.session, args.status, actor="cli")
    finally:
        store.close()
    if not changed:
        print(f"no session {args.session!r}: see `examgate session list`", file=sys.stderr)
        return EXIT_CHECK_FAILED
    print(f"session {args.session} {args.status}; restart the daemon (or set lane.session_id) to admit for it")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from edge.store import Store  # noqa: PLC0415

    db = Path(args.db) if args.db else load_config(config_path(args)).store.path
    store = Store.open(db, read_only=True)
    try:
        report = store.verify_audit()
    finally:
        store.close()
    if args.json:
        print(
            json.dumps(
                {"rows": report.rows, "ok": report.ok, "problems": report.problems, "elapsed_s": report.elapsed_s}
            )
        )
    else:
        print(f"{db.name}: {report.rows} audit rows, {'OK' if report.ok else 'TAMPERED'} ({report.elapsed_s:.3f} s)")
        for problem in report.problems:
            print(f"  {problem}")
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def cmd_daemon(args: argparse.Namespace) -> int:
    from edge.daemon import run_daemon  # noqa: PLC0415 - heavy imports only for the daemon

    return run_daemon(load(args))


def register(sub: SubParsers) -> None:
    config = sub.add_parser("config", help="check or show the configuration").add_subparsers(
        dest="action", required=True
    )
    check = config.add_parser("check", help="validate a config file; print every problem with its dotted path")
    check.add_argument("file")
    check.set_defaults(func=cmd_config_check)
    show = config.add_parser("show", help="print the effective config (file + env overrides), secrets masked")
    show.add_argument("file", nargs="?", help="config file (like `config check FILE`); or --config / $EXAMGATE_CONFIG")
    add_config_arg(show)
    show.set_defaults(func=cmd_config_show)

    events = sub.add_parser("events", help="the event schema and live events")
    events_sub = events.add_subparsers(dest="action", required=True)
    schema = events_sub.add_parser("schema", help="print the JSON Schema of every event")
    schema.add_argument("--check", action="store_true", help="fail when schemas/ differs from the models")
    schema.add_argument("--write", action="store_true", help="rewrite schemas/events.schema.json")
    schema.set_defaults(func=cmd_events_schema)
    events.set_defaults(events_sub=events_sub)

    roster = sub.add_parser("roster", help="exam rosters").add_subparsers(dest="action", required=True)
    imp = roster.add_parser("import", help="import a roster CSV/JSON; all rows or none")
    imp.add_argument("file")
    imp.add_argument("--session", required=True, help="exam session id")
    imp.add_argument("--replace", action="store_true", help="replace the session's roster instead of merging")
    add_config_arg(imp)
    imp.set_defaults(func=cmd_roster_import)

    session = sub.add_parser("session", help="exam sessions: list, open, close").add_subparsers(
        dest="action", required=True
    )
    listing = session.add_parser("list", help="every session with its roster size; * marks the one the lane admits for")
    add_config_arg(listing)
    listing.set_defaults(func=cmd_session_list)
    for verb, status in (("open", "open"), ("close", "closed")):
        change = session.add_parser(verb, help=f"{verb} an exam session")
        change.add_argument("session")
        add_config_arg(change)
        change.set_defaults(func=cmd_session_status, status=status)

    audit = sub.add_parser("audit", help="the tamper-evident audit log").add_subparsers(dest="action", required=True)
    verify = audit.add_parser("verify", help="check the hash chain; exit 1 if any row was edited or deleted")
    add_config_arg(verify)
    verify.add_argument("--db", help="database file (default: store.path from the config)")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(func=cmd_audit_verify)

    daemon = sub.add_parser("daemon", help="run the gate lane until SIGTERM")
    add_config_arg(daemon)
    daemon.set_defaults(func=cmd_daemon)


__all__ = ["print_error", "register"]
