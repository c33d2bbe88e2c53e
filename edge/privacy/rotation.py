"""Rotation of the data key that seals face evidence (``examgate privacy rotate-key``).

After a rotation the gate seals new images under the new key. Images already kept either

* stay under the old key until the retention purge deletes them: list the old key file in
  ``privacy.previous_key_files`` so the console can still open them (the default), or
* are re-sealed now (``--reseal``): each is decrypted with the key its row names and sealed again under the new key,
  with the same expiry; then the old key can be destroyed.

Either way one audit row (``privacy.rotate_key``) records the key ids and counts, never key material.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from edge.privacy.errors import PrivacyError, decrypt_failed
from edge.privacy.evidence import NONCE_BYTES, associated_data
from edge.privacy.keys import KEY_BYTES, key_id_of, load_key
from edge.store import Store
from edge.store.db import connect


def create_key_file(path: Path) -> None:
    """A new random 32-byte key, mode 0600, never overwriting an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PrivacyError(
            f"{path} already exists",
            code="E_PRIVACY_KEY_EXISTS",
            remedy="pass a new file name for the new key, or --use-existing to rotate to a key made elsewhere",
        ) from None
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(KEY_BYTES))


def _rows(store: Store) -> list[tuple[str, str, str, bytes, bytes, str]]:
    conn = connect(store.path, read_only=True)
    try:
        return [
            (str(a), str(k), str(kid), bytes(n), bytes(c), str(e))
            for a, k, kid, n, c, e in conn.execute(
                "SELECT attempt_id, kind, key_id, nonce, ciphertext, expires_at FROM face_evidence"
            )
        ]
    finally:
        conn.close()


def held_by_key(store: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in _rows(store):
        counts[row[2]] = counts.get(row[2], 0) + 1
    return counts


def rotate(store: Store, old_keys: dict[str, bytes], new_key: bytes, reseal: bool, actor: str) -> dict[str, object]:
    """Re-seal (when ``reseal``) every image under ``new_key``; returns counts per outcome. Audited."""
    new_id = key_id_of(new_key)
    new = AESGCM(new_key)
    resealed = 0
    left: dict[str, int] = {}
    for attempt_id, kind, key_id, nonce, ciphertext, expires_at in _rows(store):
        if key_id == new_id:
            continue
        old = old_keys.get(key_id)
        if not reseal or old is None:
            left[key_id] = left.get(key_id, 0) + 1
            continue
        aad = associated_data(attempt_id, kind)
        try:
            jpeg = AESGCM(old).decrypt(nonce, ciphertext, aad)
        except (InvalidTag, ValueError):
            raise decrypt_failed(f"evidence {kind} of attempt {attempt_id} does not open under key {key_id}") from None
        fresh = os.urandom(NONCE_BYTES)
        expiry = dt.datetime.fromisoformat(expires_at)
        store.save_evidence(attempt_id, kind, new_id, fresh, new.encrypt(fresh, jpeg, aad), expiry)
        resealed += 1
    result: dict[str, object] = {
        "new_key_id": new_id,
        "old_key_ids": sorted(old_keys),
        "resealed": resealed,
        "left_under_old_keys": left,
    }
    store.audit(actor, "privacy.rotate_key", result)
    return result


def load_keys(paths: list[Path]) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for path in paths:
        key, key_id = load_key(path)
        keys[key_id] = key
    return keys
