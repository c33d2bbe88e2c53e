"""The data key that encrypts face evidence at rest: where it is, how it is checked, how it is written down.

Accepted file contents (whichever matches first):

* exactly 32 raw bytes (what ``examgate provision init`` writes),
* 64 hexadecimal digits, optionally followed by a newline,
* base64 (standard or URL-safe alphabet) of 32 bytes, optionally followed by a newline.

The file must not be readable or writable by group or others (``chmod 600``). The exception is a systemd credential:
a file inside ``$CREDENTIALS_DIRECTORY`` (``LoadCredential=data-key:…``) is private to the service by construction
(systemd may grant the service user read access through an ACL, which shows up in the group mode bits).
The key id is the first 8 hex digits of SHA-256 of the key: stored beside each image, safe to log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from edge.privacy.errors import key_invalid, key_missing, key_permissions

KEY_BYTES = 32
CREDENTIAL_NAME = "data-key"


def key_id_of(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def resolve_key_path(configured: Path | None, environ: Mapping[str, str] | None = None) -> Path:
    """``privacy.key_file`` when set, else the systemd credential ``$CREDENTIALS_DIRECTORY/data-key``."""
    if configured is not None:
        return configured
    env = os.environ if environ is None else environ
    creds = env.get("CREDENTIALS_DIRECTORY")
    if creds:
        return Path(creds) / CREDENTIAL_NAME
    raise key_missing("no data key: privacy.key_file is unset and no systemd credential directory is given")


def _in_credentials_dir(path: Path, environ: Mapping[str, str]) -> bool:
    creds = environ.get("CREDENTIALS_DIRECTORY")
    if not creds:
        return False
    try:
        return path.resolve().is_relative_to(Path(creds).resolve())
    except OSError:
        return False


def decode_key(raw: bytes) -> bytes:
    """32 key bytes from a key file's contents (raw, hex or base64). Raises E_PRIVACY_KEY_INVALID."""
    if len(raw) == KEY_BYTES:
        return raw
    text = raw.strip()
    if len(text) == 2 * KEY_BYTES:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            pass
    padded = text + b"=" * (-len(text) % 4)
    for altchars in (None, b"-_"):  # standard, then URL-safe alphabet
        try:
            key = base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(key) == KEY_BYTES:
            return key
    raise key_invalid(f"the data key file holds {len(raw)} bytes that are not a 32-byte key (raw, hex or base64)")


def load_key(path: Path, environ: Mapping[str, str] | None = None) -> tuple[bytes, str]:
    """(key, key_id) from ``path``. Refuses a missing, group/other-accessible or malformed key file."""
    env = os.environ if environ is None else environ
    try:
        info = path.stat()
    except FileNotFoundError:
        raise key_missing(f"data key file {path} does not exist") from None
    except OSError as exc:
        raise key_missing(f"data key file {path} cannot be examined: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise key_invalid(f"data key {path} is not a regular file")
    if info.st_mode & 0o077 and not _in_credentials_dir(path, env):
        raise key_permissions(
            f"data key file {path} has mode {stat.S_IMODE(info.st_mode):04o}: group or others can access it"
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise key_missing(f"data key file {path} cannot be read: {exc.strerror}") from None
    key = decode_key(raw)
    return key, key_id_of(key)
