"""``examgate trust import|import-crl|list|remove``: the CSCA trust store the chip reader checks cards against."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge.cmdline import EXIT_OK
from edge.identity import trust_admin


def _import(args: argparse.Namespace) -> int:
    report = trust_admin.import_file(args.store, args.file, list(args.signer_ca or []))
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(f"{args.file.name}: {report.kind}, {len(report.added)} CSCA(s) added, {report.already} already present")
    return EXIT_OK


def _import_crl(args: argparse.Namespace) -> int:
    report = trust_admin.import_crl(args.store, args.file)
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(f"{args.file.name}: CRL {'added' if report.added else 'already present'}")
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

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--store", type=Path, required=True, help="the trust store folder (reader.csca_dir)")
        p.add_argument("--json", action="store_true", help="print JSON")

    imp = trust_sub.add_parser("import", help="import a CSCA master list, LDIF collection or CA certificate")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--signer-ca",
        type=Path,
        action="append",
        help="PEM/DER of the CA that issued the master list's signer (pinned in the manifest); repeatable",
    )
    common(imp)
    imp.set_defaults(func=_import)
    crl = trust_sub.add_parser("import-crl", help="import a CRL signed by a CSCA in the store")
    crl.add_argument("file", type=Path)
    common(crl)
    crl.set_defaults(func=_import_crl)
    lst = trust_sub.add_parser("list", help="the CSCAs in the store")
    common(lst)
    lst.set_defaults(func=_list)
    rm = trust_sub.add_parser("remove", help="remove one CSCA by its sha256")
    rm.add_argument("sha256")
    common(rm)
    rm.set_defaults(func=_remove)
