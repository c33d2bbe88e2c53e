"""Face evidence at rest: AES-256-GCM round trip, wrong key, tampering, expiry, key files, data-subject deletion."""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edge.config import PrivacyConfig
from edge.events.models import CandidateReviewRequested, Subject
from edge.privacy import EvidenceVault, PrivacyError, load_key
from edge.privacy.evidence import open_vault
from edge.privacy.keys import key_id_of, resolve_key_path
from edge.store import RosterRow, Store

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"
PERSONAL_ID = "001099012345"
T0 = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.UTC)


def vault_for(store: Store, key: bytes | None = None, retention_days: int = 30) -> EvidenceVault:
    key = key or os.urandom(32)
    return EvidenceVault(store, key, retention_days, key_id_of(key), clock=lambda: T0)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "gate.db")
    photo = (FACES / "obama2.jpg").read_bytes()
    s.replace_roster(
        "SES1", [RosterRow("C1", PERSONAL_ID, "Nguyễn Văn An", photo=photo), RosterRow("C2", "001099099999", "Trần B")]
    )
    return s


def live_frame() -> np.ndarray:
    return np.asarray(Image.open(FACES / "obama.jpg").convert("RGB"), dtype=np.uint8)


def jp2_chip() -> bytes:
    out = io.BytesIO()
    Image.open(FACES / "obama2.jpg").convert("RGB").save(out, format="JPEG2000")
    return out.getvalue()


def review(store: Store, attempt: str, candidate: str = "C1") -> None:
    event = CandidateReviewRequested.model_validate(
        {
            "site_id": "S1",
            "gate_id": "lane-1",
            "session_id": "SES1",
            "attempt_id": attempt,
            "subject": Subject(candidate_id=candidate, id_masked="0010******45"),
            "reason_codes": ("FACE_GREY_ZONE",),
            "face_score": 0.55,
            "thresholds_version": "t1",
            "match_threshold": 0.6,
            "review_threshold": 0.5,
            "model_version": "m1",
        }
    )
    store.record_decision(event)


def test_round_trip_all_three_kinds(store: Store) -> None:
    vault = vault_for(store)
    chip = jp2_chip()
    roster_photo = (FACES / "obama2.jpg").read_bytes()
    vault.keep("A1", live_frame(), chip, roster_photo)
    assert vault.failures == 0
    for kind in ("live", "chip", "roster"):
        jpeg = vault.load("A1", kind)  # type: ignore[arg-type]
        assert jpeg is not None and jpeg.startswith(b"\xff\xd8"), kind  # every kind comes back as JPEG
        with Image.open(io.BytesIO(jpeg)) as img:
            assert img.format == "JPEG" and img.size[0] > 32
            assert "exif" not in img.info
    # the live frame survives JPEG coding closely
    back = np.asarray(Image.open(io.BytesIO(vault.load("A1", "live") or b"")).convert("RGB"), dtype=np.int16)
    assert back.shape == live_frame().shape
    assert float(np.abs(back - live_frame().astype(np.int16)).mean()) < 6.0
    # at rest the bytes are not the image: no JPEG marker, no plaintext equality, nonce 12 bytes, tag 16 bytes
    conn = sqlite3.connect(store.path)
    rows = conn.execute("SELECT kind, key_id, nonce, ciphertext, expires_at FROM face_evidence").fetchall()
    assert {r[0] for r in rows} == {"live", "chip", "roster"}
    for kind, key_id, nonce, ciphertext, expires_at in rows:
        assert key_id == vault.key_id
        assert len(nonce) == 12
        assert b"\xff\xd8\xff" not in ciphertext[:4] and b"JFIF" not in ciphertext
        assert len(ciphertext) == len(vault.load("A1", kind) or b"") + 16
        assert expires_at.startswith("2026-12-25T08:00:00")  # T0 + 30 days
    assert len({r[2] for r in rows}) == 3  # a fresh nonce per image


def test_missing_images_are_skipped(store: Store) -> None:
    vault = vault_for(store)
    vault.keep("A1", None, None, (FACES / "biden.jpg").read_bytes())
    assert vault.load("A1", "live") is None
    assert vault.load("A1", "chip") is None
    assert vault.load("A1", "roster") is not None


def test_wrong_key_is_a_typed_error(store: Store) -> None:
    vault_for(store).keep("A1", live_frame(), None, None)
    with pytest.raises(PrivacyError) as err:
        vault_for(store).load("A1", "live")  # another random key
    assert err.value.code == "E_PRIVACY_DECRYPT"
    assert "key" in err.value.remedy


def test_same_key_id_but_tampered_ciphertext(store: Store) -> None:
    key = os.urandom(32)
    vault_for(store, key).keep("A1", live_frame(), None, None)
    conn = sqlite3.connect(store.path)
    (blob,) = conn.execute("SELECT ciphertext FROM face_evidence WHERE attempt_id = 'A1'").fetchone()
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0x01
    conn.execute("UPDATE face_evidence SET ciphertext = ? WHERE attempt_id = 'A1'", (bytes(flipped),))
    conn.commit()
    with pytest.raises(PrivacyError) as err:
        vault_for(store, key).load("A1", "live")
    assert err.value.code == "E_PRIVACY_DECRYPT"


def test_ciphertext_moved_to_another_attempt_does_not_open(store: Store) -> None:
    key = os.urandom(32)
    vault = vault_for(store, key)
    vault.keep("A1", live_frame(), None, None)
    conn = sqlite3.connect(store.path)
    conn.execute("UPDATE face_evidence SET attempt_id = 'A2' WHERE attempt_id = 'A1'")
    conn.commit()
    with pytest.raises(PrivacyError) as err:
        vault.load("A2", "live")
    assert err.value.code == "E_PRIVACY_DECRYPT"


def test_expiry_purge_by_time_argument(store: Store) -> None:
    vault = vault_for(store, retention_days=7)
    vault.keep("A1", live_frame(), jp2_chip(), None)
    assert vault.purge_expired(T0 + dt.timedelta(days=6, hours=23)) == 0
    assert vault.load("A1", "live") is not None
    assert vault.purge_expired(T0 + dt.timedelta(days=7)) == 2
    assert vault.load("A1", "live") is None and vault.load("A1", "chip") is None
    report = store.verify_audit()
    assert report.ok


def test_bad_image_is_logged_not_raised(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    vault = vault_for(store)
    with caplog.at_level(logging.INFO, logger="examgate.privacy"):
        vault.keep("A1", live_frame(), b"\x00\x00\x00\x0cjP  garbage", None)
    assert vault.failures == 1
    assert vault.load("A1", "live") is not None
    assert "code=E_IMAGE_UNREADABLE" in caplog.text
    assert PERSONAL_ID not in caplog.text


def test_vault_refuses_mismatched_key_id(store: Store) -> None:
    with pytest.raises(PrivacyError) as err:
        EvidenceVault(store, os.urandom(32), 30, "00000000")
    assert err.value.code == "E_PRIVACY_KEY_INVALID"
    with pytest.raises(PrivacyError):
        EvidenceVault(store, b"short", 30, key_id_of(b"short"))


# ---------------------------------------------------------------- key files
def write_key(path: Path, data: bytes, mode: int = 0o600) -> Path:
    path.write_bytes(data)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("encoding", ["raw", "hex", "hex-newline", "base64", "base64-urlsafe-nopad"])
def test_key_encodings(tmp_path: Path, encoding: str) -> None:
    key = bytes(range(200, 232))
    data = {
        "raw": key,
        "hex": key.hex().encode(),
        "hex-newline": key.hex().encode() + b"\n",
        "base64": base64.b64encode(key) + b"\n",
        "base64-urlsafe-nopad": base64.urlsafe_b64encode(key).rstrip(b"="),
    }[encoding]
    loaded, key_id = load_key(write_key(tmp_path / "data.key", data), environ={})
    assert loaded == key
    assert key_id == key_id_of(key) and len(key_id) == 8


@pytest.mark.parametrize("data", [b"", b"x" * 31, b"x" * 33, b"z" * 64, b"not base64 at all!!"])
def test_key_of_wrong_size_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(PrivacyError) as err:
        load_key(write_key(tmp_path / "data.key", data), environ={})
    assert err.value.code == "E_PRIVACY_KEY_INVALID"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_group_or_other_readable_key_is_refused(tmp_path: Path, mode: int) -> None:
    with pytest.raises(PrivacyError) as err:
        load_key(write_key(tmp_path / "data.key", os.urandom(32), mode), environ={})
    assert err.value.code == "E_PRIVACY_KEY_PERMISSIONS"
    assert "chmod 600" in err.value.remedy


def test_missing_key_and_directory_key(tmp_path: Path) -> None:
    with pytest.raises(PrivacyError) as err:
        load_key(tmp_path / "absent.key", environ={})
    assert err.value.code == "E_PRIVACY_KEY_MISSING"
    with pytest.raises(PrivacyError) as err:
        load_key(tmp_path, environ={})
    assert err.value.code == "E_PRIVACY_KEY_INVALID"


def test_systemd_credential_directory(tmp_path: Path) -> None:
    creds = tmp_path / "credentials"
    creds.mkdir()
    key = os.urandom(32)
    # systemd may give the service user read access through an ACL, which shows in the group bits
    path = write_key(creds / "data-key", key, 0o440)
    env = {"CREDENTIALS_DIRECTORY": str(creds)}
    assert resolve_key_path(None, env) == path
    assert load_key(path, environ=env)[0] == key
    with pytest.raises(PrivacyError):  # the same mode outside the credentials directory is refused
        load_key(write_key(tmp_path / "loose.key", key, 0o440), environ=env)
    with pytest.raises(PrivacyError) as err:
        resolve_key_path(None, {})
    assert err.value.code == "E_PRIVACY_KEY_MISSING"
    assert resolve_key_path(tmp_path / "x.key", env) == tmp_path / "x.key"


# ------------------------------------------------------- data-subject deletion
def test_purge_candidate_removes_roster_rows_photos_and_images(store: Store) -> None:
    vault = vault_for(store)
    review(store, "A1", "C1")
    review(store, "A2", "C2")
    vault.keep("A1", live_frame(), jp2_chip(), (FACES / "obama2.jpg").read_bytes())
    vault.keep("A2", live_frame(), None, None)
    counts = store.purge_candidate(PERSONAL_ID, actor="dpo:lan")
    assert counts == {"images": 3, "roster_rows": 1}
    assert store.find_candidate("SES1", PERSONAL_ID) is None
    assert all(vault.load("A1", k) is None for k in ("live", "chip", "roster"))  # type: ignore[arg-type]
    assert vault.load("A2", "live") is not None  # someone else's evidence stays
    assert store.find_candidate("SES1", "001099099999") is not None
    report = store.verify_audit()
    assert report.ok, report.problems
    conn = sqlite3.connect(store.path)
    (details,) = conn.execute("SELECT details FROM audit_log WHERE action = 'privacy.purge_candidate'").fetchone()
    assert "0010******45" in details and PERSONAL_ID not in details
    assert not conn.execute("SELECT 1 FROM roster WHERE personal_id = ?", (PERSONAL_ID,)).fetchall()


# ------------------------------------------------------------------ from config
def test_open_vault_from_config(store: Store, tmp_path: Path) -> None:
    key = os.urandom(32)
    path = write_key(tmp_path / "data.key", key)
    vault = open_vault(PrivacyConfig(retention_days=7, key_file=path), store, environ={})
    assert vault is not None and vault.key_id == key_id_of(key) and vault.retention_days == 7
    creds = tmp_path / "creds"
    creds.mkdir()
    write_key(creds / "data-key", key)
    from_credential = open_vault(PrivacyConfig(), store, environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert from_credential is not None and from_credential.key_id == key_id_of(key)


def test_open_vault_without_key_keeps_nothing(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="examgate.privacy"):
        assert open_vault(PrivacyConfig(), store, environ={}) is None
    assert "NOT kept" in caplog.text


def test_open_vault_with_unsafe_key_stops(store: Store, tmp_path: Path) -> None:
    path = write_key(tmp_path / "data.key", os.urandom(32), 0o644)
    with pytest.raises(PrivacyError) as err:
        open_vault(PrivacyConfig(key_file=path), store, environ={})
    assert err.value.code == "E_PRIVACY_KEY_PERMISSIONS"
    with pytest.raises(PrivacyError) as err:
        open_vault(PrivacyConfig(key_file=tmp_path / "absent.key"), store, environ={})
    assert err.value.code == "E_PRIVACY_KEY_MISSING"
