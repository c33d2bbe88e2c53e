"""CLI: ``examgate provision init …`` and ``examgate provision import-cert …`` (JSON on stdout)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from edge.cliflags import Flag, add_flags, keywords
from edge.cmdline import EXIT_ERROR, EXIT_OK
from edge.errors import ExamGateError
from edge.provision.certs import import_cert
from edge.provision.initialise import provision_init

# `provision init`'s flags, each with the provision_init keyword it sets.
_INIT_FLAGS = (
    Flag("--site", "site_id", {"required": True, "help": "exam centre id (site.site_id)"}),
    Flag("--gate", "gate_id", {"required": True, "help": "lane id within the site (site.gate_id)"}),
    Flag("--broker", "broker_url", {"required": True, "help": "central MQTT broker, mqtts://host:port"}),
    Flag("--root", "root", {"type": Path, "default": Path("/"), "help": "system root to provision (default /)"}),
    Flag("--source", "source", {"type": Path, "default": None, "help": "ExamGate source checkout (units, templates)"}),
    Flag("--dry-run", "dry_run", {"action": "store_true", "help": "print each action, change nothing"}),
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = sub.add_parser("provision", help="set up this Pi as a gate lane (user, keys, config, units)")
    commands = group.add_subparsers(dest="provision_command", required=True)

    init = commands.add_parser("init", help="create data dir, device key + CSR, config, service user, units")
    add_flags(init, _INIT_FLAGS)
    init.set_defaults(func=_init)

    cert = commands.add_parser("import-cert", help="install the certificate the centre issued for this gate")
    cert.add_argument("cert", type=Path, help="certificate file (PEM or DER)")
    cert.add_argument("--ca", type=Path, default=None, help="the centre's CA certificate (checked and installed)")
    cert.add_argument("--root", type=Path, default=Path("/"), help="system root (default /)")
    cert.add_argument("--dry-run", action="store_true", help="check and print, change nothing")
    cert.set_defaults(func=_import_cert)


def _emit(payload: dict[str, object]) -> None:
    print(json.dumps(payload, ensure_ascii=False, indent=2))


def _fail(exc: ExamGateError) -> int:
    _emit({"ok": False, "error": exc.to_dict()})
    print(f"error: {exc}\nremedy: {exc.remedy}", file=sys.stderr)
    return EXIT_ERROR


def _init(args: argparse.Namespace) -> int:
    try:
        report = provision_init(**keywords(args, _INIT_FLAGS))
    except ExamGateError as exc:
        return _fail(exc)
    _emit(report)
    return EXIT_OK


def _import_cert(args: argparse.Namespace) -> int:
    try:
        report = import_cert(args.cert, root=args.root, ca_path=args.ca, dry_run=args.dry_run)
    except ExamGateError as exc:
        return _fail(exc)
    _emit(report)
    return EXIT_OK
