"""``examgate chip read``: read and verify a CCCD chip through a PN532 on a serial port.

    examgate chip read --port PORT [--baud 115200] [--target-baud 921600]
        (--can CAN | --document-number N --birth-date YYMMDD --expiry-date YYMMDD)
        [--face-out PATH] [--csca DIR] [--wait-s 5] [--json]

Exit codes (also in docs/chip.md):
    0  read done (``passive_auth.status`` carries the verdict on the data)
    2  usage: bad arguments (argparse, E_CHIP_USAGE) or an unreadable --csca folder
    3  access denied: the CAN/MRZ does not open this card (E_CHIP_ACCESS_DENIED)
    4  no card, or the card left the field (E_CHIP_NO_CARD, E_CHIP_CARD_REMOVED)
    5  communication: reader link or secure channel failed (E_CHIP_COMM, E_CHIP_TIMEOUT, E_CHIP_SM_FAILED, E_PN532_*)
    6  invalid data: files that do not parse or are missing (E_CHIP_DATA_MALFORMED, E_CHIP_MRZ_INVALID, …)
    7  other chip errors (E_CHIP_UNSUPPORTED, E_CHIP_SECURITY_STATUS, E_CHIP_STATUS, …)
With ``--json`` errors print ``{"code", "message", "remedy"}`` on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from edge.cmdline import pn532_baud, positive_float, run_group
from edge.device_config import Pn532ReaderConfig
from edge.devices import AccessKey
from edge.errors import DeviceError, ExamGateError
from edge.identity.chip_read import NoCardError, VerifiedRead
from edge.identity.dg2 import Dg2Error
from edge.identity.dg13 import Dg13Error
from edge.identity.emrtd.errors import (
    AccessDeniedError,
    CardRemovedError,
    ChipCommunicationError,
    ChipError,
    ChipTimeoutError,
    FileNotFoundOnChipError,
    MalformedResponseError,
    SecureMessagingError,
)
from edge.identity.mrz import MrzError
from edge.identity.sod import SodError
from edge.identity.tlv import TlvError
from edge.identity.trust_store import TrustStore, TrustStoreError
from firmware_bridge.reader import open_reader

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_ACCESS_DENIED = 3
EXIT_NO_CARD = 4
EXIT_COMM = 5
EXIT_INVALID_DATA = 6
EXIT_CHIP_OTHER = 7


class UsageError(ExamGateError):
    code = "E_CHIP_USAGE"
    remedy = "give --can (6 digits) or all of --document-number, --birth-date and --expiry-date (YYMMDD)"


_EXIT_BY_TYPE: tuple[tuple[tuple[type[ExamGateError], ...], int], ...] = (
    ((TrustStoreError, UsageError), EXIT_USAGE),
    ((AccessDeniedError,), EXIT_ACCESS_DENIED),
    ((NoCardError, CardRemovedError), EXIT_NO_CARD),
    ((ChipCommunicationError, ChipTimeoutError, SecureMessagingError, DeviceError), EXIT_COMM),
    (
        (MalformedResponseError, FileNotFoundOnChipError, MrzError, Dg2Error, Dg13Error, SodError, TlvError),
        EXIT_INVALID_DATA,
    ),
    ((ChipError,), EXIT_CHIP_OTHER),
)


def exit_code_for(error: ExamGateError) -> int:
    for types, code in _EXIT_BY_TYPE:
        if isinstance(error, types):
            return code
    return EXIT_CHIP_OTHER


def access_key(args: argparse.Namespace) -> AccessKey:
    """The access key from the arguments; ``UsageError`` when incomplete or malformed."""
    mrz = (args.document_number, args.birth_date, args.expiry_date)
    if args.can is not None:
        if any(mrz):
            raise UsageError("give either --can or the MRZ data, not both")
        if not re.fullmatch(r"\d{6}", args.can):
            raise UsageError("--can must be the 6 digits printed on the card (last 6 of the ID number)")
        return AccessKey(can=args.can)
    if not all(mrz):
        raise UsageError("no access key: give --can, or --document-number, --birth-date and --expiry-date")
    for name, value in (("--birth-date", args.birth_date), ("--expiry-date", args.expiry_date)):
        if not re.fullmatch(r"\d{6}", value):
            raise UsageError(f"{name} must be YYMMDD, got {value!r}")
    if not re.fullmatch(r"[0-9A-Z<]{1,20}", args.document_number):
        raise UsageError("--document-number must be digits/capital letters (9 on a CCCD)")
    return AccessKey(document_number=args.document_number, birth_date=args.birth_date, expiry_date=args.expiry_date)


def _iso(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def read_to_json(read: VerifiedRead, timings_ms: dict[str, float]) -> dict[str, Any]:
    """The ``--json`` document (contract: keys fixed, dates ISO 8601, face ``bytes`` = byte count)."""
    mrz, session, passive = read.mrz, read.session, read.passive_auth
    dg13: dict[str, Any] | None = None
    if read.dg13 is not None:
        dg13 = {
            key: _iso(value) if isinstance(value, dt.date) else (list(value) if isinstance(value, tuple) else value)
            for key, value in dataclasses.asdict(read.dg13).items()
        }
    return {
        "access_protocol": session.access_protocol,
        "dg1": {
            "document_code": mrz.document_code,
            "issuing_state": mrz.issuing_state,
            "document_number": mrz.document_number,
            "birth_date": _iso(mrz.birth_date),
            "expiry_date": _iso(mrz.expiry_date),
            "sex": mrz.sex,
            "nationality": mrz.nationality,
            "surname": mrz.surname,
            "given_names": mrz.given_names,
            "optional_data": mrz.optional_data,
        },
        "dg13": dg13,
        "face": {
            "format": read.face.format,
            "bytes": len(read.face.data),
            "sha256": hashlib.sha256(read.face.data).hexdigest(),
        },
        "passive_auth": {
            "status": passive.status,
            "failed_check": passive.failed_check,
            "failed_dg": passive.failed_dg,
            "details": passive.details,
            "hash_algorithm": passive.hash_algorithm,
            "checked_dgs": list(passive.checked_dgs),
            "ds_subject": passive.ds_subject,
            "csca_subject": passive.csca_subject,
        },
        "chip_auth": {
            "status": session.chip_auth,
            "active_auth": session.active_auth,
            "clone_check": read.clone_check,
        },
        "timings_ms": {key: round(value, 1) for key, value in timings_ms.items()},
    }


def _report_error(error: ExamGateError, as_json: bool) -> int:
    if as_json:
        print(json.dumps(error.to_dict(), ensure_ascii=False))
    else:
        print(f"{error}\nremedy: {error.remedy}", file=sys.stderr)
    return exit_code_for(error)


def _read(args: argparse.Namespace) -> int:
    try:
        key = access_key(args)
        if args.face_out is not None and not args.face_out.parent.is_dir():
            raise UsageError(f"--face-out: folder {args.face_out.parent} does not exist")
        trust = TrustStore.load(args.csca) if args.csca else TrustStore.from_certificates([])
    except ExamGateError as exc:
        return _report_error(exc, args.json)
    config = Pn532ReaderConfig(
        port=args.port, baud=args.baud, target_baud=args.target_baud or args.baud, read_timeout_s=args.read_timeout_s
    )
    reader = open_reader(config, trust=trust)
    started = time.perf_counter()
    try:
        tap = reader.poll(args.wait_s)
        if tap is None:
            raise NoCardError(f"no card on the reader within {args.wait_s:g} s")
        polled_ms = (time.perf_counter() - started) * 1000
        read = reader.read_verified(tap, key)
    except ExamGateError as exc:
        return _report_error(exc, args.json)
    finally:
        reader.close()
    timings = {"connect_poll": polled_ms, **read.timings_ms, "total": (time.perf_counter() - started) * 1000}
    if args.face_out:
        try:
            args.face_out.write_bytes(read.face.data)
        except OSError as exc:
            return _report_error(UsageError(f"cannot write --face-out {args.face_out}: {exc.strerror}"), args.json)
    document = read_to_json(read, timings)
    if args.json:
        print(json.dumps(document, ensure_ascii=False))
    else:
        print(f"access      {document['access_protocol']}")
        print(f"name        {read.full_name}")
        print(f"document    {read.mrz.document_number}  born {_iso(read.mrz.birth_date)}  sex {read.mrz.sex}")
        print(f"face        {read.face.format}, {len(read.face.data)} bytes")
        print(f"passive     {read.passive_auth.status} {read.passive_auth.details}".rstrip())
        print(f"clone check {read.clone_check}")
        print(f"time        {timings['total']:.0f} ms, {read.session.apdus} APDUs")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``chip`` command group (``chip read``)."""
    chip = sub.add_parser("chip", help="CCCD chip tools (PN532 reader)")
    chip_sub = chip.add_subparsers(dest="chip_command", required=True)
    read = chip_sub.add_parser(
        "read",
        help="read and verify a card's chip through a PN532",
        description="Exit codes: 0 ok, 2 usage, 3 access denied, 4 no card/card removed, 5 communication, "
        "6 invalid data, 7 other chip error.",
    )
    read.add_argument("--port", required=True, help="serial port of the PN532 (e.g. /dev/serial0 or /dev/pts/N)")
    read.add_argument(
        "--baud", type=pn532_baud, default=115200, help="PN532 UART speed after power-up (default 115200)"
    )
    read.add_argument(
        "--target-baud", type=pn532_baud, default=921600, help="switch to this speed after wake-up (default 921600)"
    )
    read.add_argument("--can", help="card access number: the last 6 digits of the 12-digit ID")
    read.add_argument("--document-number", help="MRZ document number (last 9 digits of the ID on a CCCD)")
    read.add_argument("--birth-date", help="MRZ date of birth, YYMMDD")
    read.add_argument("--expiry-date", help="MRZ date of expiry, YYMMDD")
    read.add_argument("--face-out", type=Path, help="write the chip's face image (JPEG/JPEG 2000) here")
    read.add_argument("--csca", type=Path, help="CSCA trust store folder built with `examgate trust import`")
    read.add_argument("--wait-s", type=positive_float, default=5.0, help="how long to wait for a card (default 5)")
    read.add_argument(
        "--read-timeout-s", type=positive_float, default=15.0, help="bound on the whole read (default 15)"
    )
    read.add_argument("--json", action="store_true", help="print one JSON object (errors too)")
    read.set_defaults(func=_read)


if __name__ == "__main__":  # stand-alone: ``python -m edge.cli.chip chip read …``
    sys.exit(run_group(register, None))
