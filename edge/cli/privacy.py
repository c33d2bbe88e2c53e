"""`examgate privacy purge --candidate ID` (a data-subject deletion request), `examgate privacy purge-expired`
(the nightly retention timer, every category of personal data), `examgate privacy export --candidate ID --out FILE`
(a data-subject access request) and `examgate privacy rotate-key` (a new data key for face images).
Purging never needs the data key: deleting never decrypts."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from edge.cmdline import EXIT_OK, add_config_arg, load
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


def _personal_id(args: argparse.Namespace) -> str:
    personal_id = str(args.candidate).strip()
    if not personal_id.isdigit() or len(personal_id) not in PERSONAL_ID_LENGTHS:
        raise bad_personal_id(f"{mask_id(personal_id)!s} is not a 9- or 12-digit ID number")
    return personal_id


def cmd_purge_candidate(args: argparse.Namespace) -> int:
    personal_id = _personal_id(args)
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
    from edge.privacy.retention import purge_expired_records  # noqa: PLC0415

    cfg, store = _open(args)
    now = dt.datetime.now(dt.UTC)
    p = cfg.privacy
    try:
        images = purge_expired(store, now)
        events = store.purge_sent_outbox(p.events_days)
    finally:
        store.close()
    records = purge_expired_records(cfg.store.path, now, p.roster_retention_days, p.attempt_retention_days)
    if args.json:
        print(json.dumps({"images": images, "sent_events": events, "retention_days": p.retention_days, **records}))
    else:
        print(f"retention {p.retention_days} d: deleted {images} face image(s)")
        print(f"retention {p.events_days} d: deleted {events} published event(s)")
        print(f"retention {p.roster_retention_days} d: deleted {records['roster_rows']} roster row(s)")
        print(
            f"retention {p.attempt_retention_days} d: deleted {records['attempts']} attempt(s) with "
            f"{records['decisions']} decision(s), {records['reviews']} review(s), "
            f"{records['assisted_admissions']} assisted admission(s), {records['admissions']} admission(s)"
        )
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from edge.privacy.evidence import open_vault  # noqa: PLC0415 - cryptography only when needed
    from edge.privacy.export import export_candidate  # noqa: PLC0415

    personal_id = _personal_id(args)
    cfg, store = _open(args)
    try:
        vault = None if args.no_images else open_vault(cfg.privacy, store)
        result = export_candidate(store, personal_id, Path(args.out), vault.load if vault else None, _operator(args))
    finally:
        store.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(
            f"exported {result['id_masked']}: {result['attempts']} attempt(s), {result['images']} image(s) "
            f"({result['images_sealed']} left sealed) to {args.out}"
        )
        print(f"recorded in the audit log (masked ID, sha256 {result['sha256'][:16]}…)")
    return EXIT_OK


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from edge.privacy.keys import load_key, resolve_key_path  # noqa: PLC0415
    from edge.privacy.rotation import create_key_file, held_by_key, load_keys, rotate  # noqa: PLC0415

    cfg, store = _open(args)
    try:
        current = resolve_key_path(cfg.privacy.key_file)
        old_keys = load_keys([current, *cfg.privacy.previous_key_files])
        new_path = Path(args.new_key)
        if not args.use_existing:
            create_key_file(new_path)
        new_key, new_id = load_key(new_path)
        result = rotate(store, old_keys, new_key, args.reseal, _operator(args))
        held = held_by_key(store)
    finally:
        store.close()
    left = result["left_under_old_keys"]
    if args.json:
        print(json.dumps({**result, "held_by_key": held}))
        return EXIT_OK
    print(f"new data key {new_id} in {new_path}; re-sealed {result['resealed']} image(s)")
    print(f'now set privacy.key_file = "{new_path}" and restart the gate: new images are sealed with {new_id}')
    if left:
        print(
            f'images left under old keys {left}: keep privacy.previous_key_files = ["{current}"] until the '
            "retention purge has deleted them (or run again with --reseal)"
        )
    else:
        print(f"no image is left under the old key: {current} can be destroyed (shred) once the gate runs on {new_id}")
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
        "purge-expired", help="delete personal data past its retention: images, events, roster rows, attempts"
    )
    expired.add_argument("--json", action="store_true")
    add_config_arg(expired)
    expired.set_defaults(func=cmd_purge_expired)

    export = actions.add_parser(
        "export", help="everything held about one person: a ZIP with data.json and the images (data-subject request)"
    )
    export.add_argument("--candidate", required=True, metavar="PERSONAL_ID", help="12-digit CCCD or 9-digit CMND")
    export.add_argument("--out", required=True, metavar="FILE", help="the ZIP to write (mode 0600)")
    export.add_argument("--no-images", action="store_true", help="do not decrypt face images (list them only)")
    export.add_argument("--operator", help="who handles the request (audit log); default cli:<login>")
    export.add_argument("--json", action="store_true")
    add_config_arg(export)
    export.set_defaults(func=cmd_export)

    rotate = actions.add_parser("rotate-key", help="a new data key for face images; old images re-sealed or left")
    rotate.add_argument("--new-key", required=True, metavar="FILE", help="where to create the new key (0600)")
    rotate.add_argument("--use-existing", action="store_true", help="FILE already holds the new key")
    rotate.add_argument("--reseal", action="store_true", help="re-seal every image under the new key now")
    rotate.add_argument("--operator", help="who rotates (audit log); default cli:<login>")
    rotate.add_argument("--json", action="store_true")
    add_config_arg(rotate)
    rotate.set_defaults(func=cmd_rotate_key)
