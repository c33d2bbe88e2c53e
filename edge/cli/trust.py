"""``examgate trust import|import-crl|list|remove``: the CSCA trust store the chip reader checks cards against."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge.cliflags import Argument, Command, add_commands
from edge.cmdline import EXIT_OK
from edge.identity import trust_admin


def _import(args: argparse.Namespace) -> int:
    report = trust_admin.import_file(args.store, args.file, list(args.signer_ca or []))
    line = f"{args.file.name}: {report.kind}, {len(report.added)} CSCA(s) added, {report.already} already present"
    return _print_report(args, report, line)


def _import_crl(args: argparse.Namespace) -> int:
    report = trust_admin.import_crl(args.store, args.file)
    return _print_report(args, report, f"{args.file.name}: CRL {'added' if report.added else 'already present'}")


def _print_report(args: argparse.Namespace, report: trust_admin.ImportReport, line: str) -> int:
    print(json.dumps(report.to_json()) if args.json else line)
    return EXIT_OK


def _list(args: argparse.Namespace) -> int:
    entries = trust_admin.list_entries(args.store)
    if args.json:
        print(json.dumps(entries, ensure_ascii=False))
        return EXIT_OK
    for e in entries:
        print(f"{e['sha256']}  {e['country'] or '??'}  {e['not_before'][:10]}..{e['not_after'][:10]}  {e['subject']}")
    print(f"{len(entries)} CSCA(s)")
    return EXIT_OK


def _remove(args: argparse.Namespace) -> int:
    removed = trust_admin.remove(args.store, args.sha256)
    print(json.dumps(removed, ensure_ascii=False) if args.json else f"removed {removed['subject']}")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``trust`` command group."""
    trust = sub.add_parser("trust", help="the CSCA trust store (master lists, certificates, CRLs)")
    trust_sub = trust.add_subparsers(dest="trust_command", required=True)

    add_commands(trust_sub, _COMMANDS, finish=_common)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, required=True, help="the trust store folder (reader.csca_dir)")
    parser.add_argument("--json", action="store_true", help="print JSON")


_FILE: Argument = ("file", {"type": Path})
_SIGNER_CA: Argument = (
    "--signer-ca",
    {
        "type": Path,
        "action": "append",
        "help": "PEM/DER of the CA that issued the master list's signer (pinned in the manifest); repeatable",
    },
)
_COMMANDS = (
    Command("import", "import a CSCA master list, LDIF collection or CA certificate", _import, (_FILE, _SIGNER_CA)),
    Command("import-crl", "import a CRL signed by a CSCA in the store", _import_crl, (_FILE,)),
    Command("list", "the CSCAs in the store", _list),
    Command("remove", "remove one CSCA by its sha256", _remove, (("sha256", {}),)),
)
