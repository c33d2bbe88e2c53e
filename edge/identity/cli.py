"""``examgate qr parse TEXT [--json]``: decode a CCCD QR text as the gate would."""

from __future__ import annotations

import argparse
import json
import sys

from edge.identity.qr import QrError, parse_qr


def _parse(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        data = parse_qr(text)
    except QrError as exc:
        if args.json:
            print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))
        else:
            print(f"{exc}\nremedy: {exc.remedy}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(data.to_dict(), ensure_ascii=False))
        return 0
    width = max(len(key) for key in data.to_dict())
    for key, value in data.to_dict().items():
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else ("" if value is None else value)
        print(f"{key:<{width}}  {shown}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``qr`` command group."""
    qr = sub.add_parser("qr", help="CCCD QR code tools")
    qr_sub = qr.add_subparsers(dest="qr_command", required=True)
    parse = qr_sub.add_parser("parse", help="parse the QR text of a CCCD card")
    parse.add_argument("text", help="the QR text, or '-' to read it from stdin")
    parse.add_argument("--json", action="store_true", help="print one JSON object")
    parse.set_defaults(func=_parse)
