"""`examgate privacy purge --candidate ID` (a data-subject deletion request) and `examgate privacy purge-expired`
(the nightly retention timer). Neither needs the data key: deleting never decrypts."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
from typing import TYPE_CHECKING

from edge.cli.common import EXIT_OK, add_config_arg, load
from edge.config import AppConfig
from edge.masking import mask_id
from edge.privacy.errors import PrivacyError, bad_personal_id
from edge.store import Store, open_store

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

PERSONAL_ID_LENGTHS = (9, 12)  # old CMND, CCCD


def _open(args: argparse.Namespace) -> tuple[AppConfig, Store]:
    cfg = load(args)
    folder = cfg.store.path.parent
    with contextlib.suppress(OSError):
        if os.geteuid() == 0 and folder.stat().st_uid != 0:
            raise PrivacyError(
                f"refusing to open the database as root: {folder} belongs to uid {folder.stat().st_uid}",
                code="E_PRIVACY_RUN_AS_SERVICE_USER",
                remedy="run it as the service user (`sudo -u examgate examgate privacy …`): root-owned database "
                "files would lock the service out",
            )
    return cfg, open_store(cfg.store.path, cfg.store.synchronous)


def _operator(args: argparse.Namespace) -> str:
    if args.operator:
        return str(args.operator)
    user = os.environ.get("SUDO_USER") or getpass.getuser()
    return f"cli:{user}"


def cmd_purge_candidate(args: argparse.Namespace) -> int:
    personal_id = str(args.candidate).strip()
    if not personal_id.isdigit() or len(personal_id) not in PERSONAL_ID_LENGTHS:
        raise bad_personal_id(f"{mask_id(personal_id)!s} is not a 9- or 12-digit ID number")
    _cfg, store = _open(args)
    try:
        counts = store.purge_candidate(personal_id, actor=_operator(args))
    finally:
        store.close()
    masked = mask_id(personal_id)
    if args.json:
        print(json.dumps({"id_masked": masked, **counts}, ensure_ascii=False))
    else:
        print(f"purged {masked}: {counts['roster_rows']} roster row(s) (with photos), {counts['images']} face image(s)")
        print("recorded in the audit log (masked ID only)")
    return EXIT_OK


def cmd_purge_expired(args: argparse.Namespace) -> int:
    from edge.privacy.evidence import purge_expired  # noqa: PLC0415 - Pillow/cryptography only when needed

    cfg, store = _open(args)
    try:
        images = purge_expired(store, dt.datetime.now(dt.UTC))
        events = store.purge_sent_outbox(cfg.privacy.retention_days)
    finally:
        store.close()
    if args.json:
        print(json.dumps({"images": images, "sent_events": events, "retention_days": cfg.privacy.retention_days}))
    else:
        print(
            f"retention {cfg.privacy.retention_days} d: deleted {images} face image(s) and {events} published event(s)"
        )
    return EXIT_OK


def register(sub: SubParsers) -> None:
    privacy = sub.add_parser("privacy", help="deletion of personal data: on request and after the retention period")
    actions = privacy.add_subparsers(dest="action", required=True)

    purge = actions.add_parser(
        "purge", help="delete one person's roster rows, roster photos and face images (data-subject request)"
    )
    purge.add_argument("--candidate", required=True, metavar="PERSONAL_ID", help="12-digit CCCD or 9-digit CMND")
    purge.add_argument("--operator", help="who handles the request (audit log); default cli:<login>")
    purge.add_argument("--json", action="store_true")
    add_config_arg(purge)
    purge.set_defaults(func=cmd_purge_candidate)

    expired = actions.add_parser(
        "purge-expired", help="delete face images and published events older than privacy.retention_days"
    )
    expired.add_argument("--json", action="store_true")
    add_config_arg(expired)
    expired.set_defaults(func=cmd_purge_expired)
