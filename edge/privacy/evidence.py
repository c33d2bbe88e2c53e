"""Face evidence of review/fail cases, encrypted at rest (AES-256-GCM) and deleted after the retention period.

Each image (live frame, chip photo, roster photo) is re-encoded as a plain JPEG (no metadata; JPEG 2000 chip photos
become JPEG so any console can show them), then sealed with AES-256-GCM under a random 96-bit nonce. The associated
data binds the ciphertext to its row (``attempt_id`` + kind): a ciphertext moved to another attempt does not
decrypt. Rows carry the key id, so a key rotation can tell which key an image needs. Nothing about the images
(pixels, sizes of faces, ID numbers) is logged: only attempt ids, kinds and error codes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from PIL import Image

from edge.devices import RgbImage
from edge.errors import ExamGateError
from edge.privacy.errors import decrypt_failed, key_invalid
from edge.privacy.keys import KEY_BYTES, key_id_of, load_key, resolve_key_path
from edge.store import Store
from edge.vision.image import decode_image

if TYPE_CHECKING:
    from edge.privacy.settings import PrivacyConfig

log = logging.getLogger("examgate.privacy")

EvidenceKind = Literal["live", "chip", "roster"]
NONCE_BYTES = 12
JPEG_QUALITY = 90


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def associated_data(attempt_id: str, kind: str) -> bytes:
    return f"examgate-evidence/1\x00{attempt_id}\x00{kind}".encode()


def jpeg_from_rgb(image: RgbImage) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def jpeg_from_encoded(data: bytes) -> bytes:
    """Any image Pillow reads (JPEG, JPEG 2000, PNG) → a metadata-free JPEG. Raises E_IMAGE_… on bad input."""
    return jpeg_from_rgb(decode_image(data))


class EvidenceVault:
    """The lane's ``EvidenceSink``: ``keep`` seals and stores; ``load`` opens; ``purge_expired`` deletes."""

    def __init__(
        self,
        store: Store,
        key: bytes,
        retention_days: int,
        key_id: str,
        *,
        clock: Callable[[], dt.datetime] = _utc_now,
        previous_keys: Mapping[str, bytes] | None = None,
    ) -> None:
        if len(key) != KEY_BYTES:
            raise key_invalid(f"the evidence key must be {KEY_BYTES} bytes, got {len(key)}")
        if key_id != key_id_of(key):
            raise key_invalid(f"key id {key_id!r} does not belong to this key")
        if retention_days < 1:
            raise ValueError(f"retention_days must be >= 1, got {retention_days}")
        self.store = store
        self.key_id = key_id
        self.retention_days = retention_days
        self._aead = AESGCM(key)
        # keys replaced by a rotation: images left under them still open until they are purged or re-sealed
        self._previous = {kid: AESGCM(k) for kid, k in (previous_keys or {}).items() if kid != key_id}
        self._clock = clock
        self.failures = 0  # images that could not be kept (logged with their code)

    # ------------------------------------------------------------------ sealing
    def seal(self, attempt_id: str, kind: EvidenceKind, jpeg: bytes) -> tuple[bytes, bytes]:
        """(nonce, ciphertext+tag) of one image."""
        nonce = os.urandom(NONCE_BYTES)
        return nonce, self._aead.encrypt(nonce, jpeg, associated_data(attempt_id, kind))

    def put(self, attempt_id: str, kind: EvidenceKind, jpeg: bytes, now: dt.datetime | None = None) -> dt.datetime:
        """Seal and store one JPEG; returns its expiry. Raises E_STORE_… when the store cannot take it."""
        moment = now or self._clock()
        expires_at = moment + dt.timedelta(days=self.retention_days)
        nonce, ciphertext = self.seal(attempt_id, kind, jpeg)
        self.store.save_evidence(attempt_id, kind, self.key_id, nonce, ciphertext, expires_at)
        return expires_at

    def keep(
        self, attempt_id: str, live: RgbImage | None, chip_image: bytes | None, roster_photo: bytes | None
    ) -> None:
        """``EvidenceSink.keep``: store whichever images exist. Never raises: the candidate's review must go on
        even if an image cannot be kept; each failure is logged with its code and counted in ``failures``."""
        now = self._clock()
        items: list[tuple[EvidenceKind, Callable[[], bytes]]] = []
        if live is not None:
            items.append(("live", lambda: jpeg_from_rgb(live)))
        if chip_image:
            items.append(("chip", lambda: jpeg_from_encoded(chip_image)))
        if roster_photo:
            items.append(("roster", lambda: jpeg_from_encoded(roster_photo)))
        for kind, encode in items:
            try:
                self.put(attempt_id, kind, encode(), now)
            except ExamGateError as err:
                self.failures += 1
                log.error("evidence not kept attempt=%s kind=%s code=%s", attempt_id, kind, err.code)
            except (OSError, ValueError) as exc:  # Pillow encoder failures
                self.failures += 1
                log.error("evidence not kept attempt=%s kind=%s error=%s", attempt_id, kind, type(exc).__name__)

    # ------------------------------------------------------------------ opening
    def load(self, attempt_id: str, kind: EvidenceKind) -> bytes | None:
        """The JPEG of one image, or None when there is none (never kept, purged or expired and deleted).
        Raises E_PRIVACY_DECRYPT when it was sealed with another key or its row was altered."""
        row = self.store.load_evidence(attempt_id, kind)
        if row is None:
            return None
        row_key_id, nonce, ciphertext = row
        aead = self._aead if row_key_id == self.key_id else self._previous.get(row_key_id)
        if aead is None:
            raise decrypt_failed(
                f"evidence {kind} of attempt {attempt_id} was sealed with key {row_key_id}, this gate has {self.key_id}"
            )
        try:
            return aead.decrypt(nonce, ciphertext, associated_data(attempt_id, kind))
        except (InvalidTag, ValueError):
            raise decrypt_failed(
                f"evidence {kind} of attempt {attempt_id} does not authenticate under key {self.key_id} "
                "(altered row or wrong key)"
            ) from None

    # ------------------------------------------------------------------ retention
    def purge_expired(self, now: dt.datetime | None = None) -> int:
        """Delete every image whose retention period has ended at ``now``; returns how many."""
        return purge_expired(self.store, now or self._clock())


def open_vault(privacy: PrivacyConfig, store: Store, environ: Mapping[str, str] | None = None) -> EvidenceVault | None:
    """The gate's vault from ``[privacy]``. With no key configured (no ``key_file``, no systemd credential) no face
    image is kept at all, and a warning says so; a configured key that is missing or unsafe stops the gate."""
    env = os.environ if environ is None else environ
    if privacy.key_file is None and not env.get("CREDENTIALS_DIRECTORY"):
        log.warning("no data key configured (privacy.key_file): face images of review/fail cases are NOT kept")
        return None
    key, key_id = load_key(resolve_key_path(privacy.key_file, env), env)
    previous: dict[str, bytes] = {}
    for path in privacy.previous_key_files:
        old_key, old_id = load_key(path, env)
        previous[old_id] = old_key
    log.info("face evidence sealed with key %s, kept %d days", key_id, privacy.retention_days)
    return EvidenceVault(store, key, privacy.retention_days, key_id, previous_keys=previous)


def purge_expired(store: Store, now: dt.datetime) -> int:
    """Retention purge without the key (the nightly timer never needs to decrypt)."""
    count = store.purge_expired_evidence(now)
    log.info("retention purge images=%d", count)
    return count
