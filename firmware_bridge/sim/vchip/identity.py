"""The virtual chip's content: an ``examgate-identity/1`` JSON file (see ``firmware_bridge.sim.identity_builder``)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IDENTITY_FORMAT = "examgate-identity/1"


@dataclass(frozen=True)
class Identity:
    can: str
    document_number: str
    birth_date: str  # YYMMDD
    expiry_date: str  # YYMMDD
    uid: bytes
    files: dict[int, bytes]  # FID -> exact bytes served
    chip_auth_private_pem: bytes | None = None
    active_auth_private_pem: bytes | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def identity_from_json(document: dict[str, Any]) -> Identity:
    """Build an ``Identity``; ``ValueError``/``KeyError`` on a malformed document."""
    if document.get("format") != IDENTITY_FORMAT:
        raise ValueError(f"identity format must be {IDENTITY_FORMAT!r}, got {document.get('format')!r}")
    mrz = document["mrz"]
    files = {int(fid, 16): base64.b64decode(value, validate=True) for fid, value in document["files"].items()}
    keys = document.get("keys", {})
    uid = bytes.fromhex(document.get("uid_hex", "08a1b2c3"))
    if len(uid) not in (4, 7, 10):
        raise ValueError(f"uid must be 4, 7 or 10 bytes, got {len(uid)}")
    can = str(document["can"])
    if not can.isdigit():
        raise ValueError("can must be digits")
    return Identity(
        can=can,
        document_number=str(mrz["document_number"]),
        birth_date=str(mrz["birth_date"]),
        expiry_date=str(mrz["expiry_date"]),
        uid=uid,
        files=files,
        chip_auth_private_pem=keys["chip_auth_private_pem"].encode() if keys.get("chip_auth_private_pem") else None,
        active_auth_private_pem=keys["active_auth_private_pem"].encode()
        if keys.get("active_auth_private_pem")
        else None,
        extra={k: v for k, v in document.items() if k not in ("format", "mrz", "files", "keys", "can", "uid_hex")},
    )


def load_identity(path: Path) -> Identity:
    return identity_from_json(json.loads(path.read_text(encoding="utf-8")))
