"""`examgate privacy rotate-key`: new images under the new key; old ones left under the old key (still readable with
privacy.previous_key_files) or re-sealed; both audited."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from privacy_helpers import write_config

from edge.cli.main import main
from edge.config import load_config
from edge.privacy.errors import PrivacyError
from edge.privacy.evidence import EvidenceKind, open_vault
from edge.privacy.keys import key_id_of
from edge.store import Store


def images(db: Path) -> list[tuple[str, EvidenceKind, str]]:
    conn = sqlite3.connect(db)
    try:
        return [
            (str(a), k, str(kid)) for a, k, kid in conn.execute("SELECT attempt_id, kind, key_id FROM face_evidence")
        ]
    finally:
        conn.close()


def open_all(config: Path) -> list[bytes | None]:
    cfg = load_config(config)
    store = Store.open(cfg.store.path)
    try:
        vault = open_vault(cfg.privacy, store, environ={})
        assert vault is not None
        return [vault.load(a, k) for a, k, _ in images(cfg.store.path)]
    finally:
        store.close()


def rotate(config: Path, new_key: Path, *extra: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["privacy", "rotate-key", "--new-key", str(new_key), "--json", *extra, "--config", str(config)]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_rotation_leaves_old_images_under_the_old_key(
    gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gate.db"
    before = images(db)
    old_id = key_id_of((tmp_path / "data.key").read_bytes())
    result = rotate(gate, tmp_path / "new.key", capsys=capsys)
    new_id = key_id_of((tmp_path / "new.key").read_bytes())
    assert (tmp_path / "new.key").stat().st_mode & 0o077 == 0
    assert result["new_key_id"] == new_id != old_id
    assert result["resealed"] == 0 and result["left_under_old_keys"] == {old_id: len(before)}
    assert images(db) == before  # untouched
    # the gate runs on the new key; the old one is listed as previous: old images open, new ones use the new key
    rotated = write_config(
        tmp_path, f'previous_key_files = ["{tmp_path / "data.key"}"]'.replace("key_file", "key_file")
    )
    rotated.write_text(rotated.read_text().replace('data.key"\nprevious', 'new.key"\nprevious'))
    plain = open_all(rotated)
    assert all(p and p.startswith(b"\xff\xd8") for p in plain)
    cfg = load_config(rotated)
    store = Store.open(db)
    try:
        vault = open_vault(cfg.privacy, store, environ={})
        assert vault is not None and vault.key_id == new_id
        vault.put(before[0][0], "live", b"\xff\xd8new")
        assert vault.load(before[0][0], "live") == b"\xff\xd8new"
    finally:
        store.close()
    assert (before[0][0], "live", new_id) in images(db)
    # without the previous key, the old images do not open (and say which key they need)
    new_only = write_config(tmp_path)
    new_only.write_text(new_only.read_text().replace("data.key", "new.key"))
    with pytest.raises(PrivacyError) as err:
        open_all(new_only)
    assert err.value.code == "E_PRIVACY_DECRYPT" and old_id in err.value.message


def test_reseal_moves_every_image_to_the_new_key(
    gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gate.db"
    plain_before = open_all(gate)
    result = rotate(gate, tmp_path / "new.key", "--reseal", capsys=capsys)
    new_id = key_id_of((tmp_path / "new.key").read_bytes())
    assert result["resealed"] == len(plain_before) and result["left_under_old_keys"] == {}
    assert {kid for _, _, kid in images(db)} == {new_id}
    new_only = write_config(tmp_path)
    new_only.write_text(new_only.read_text().replace("data.key", "new.key"))
    assert open_all(new_only) == plain_before
    conn = sqlite3.connect(db)
    (details,) = conn.execute("SELECT details FROM audit_log WHERE action = 'privacy.rotate_key'").fetchone()
    conn.close()
    assert new_id in details
    assert main(["audit", "verify", "--config", str(gate)]) == 0


def test_rotation_never_overwrites_a_key_file(gate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "new.key").write_bytes(b"x" * 32)
    assert main(["privacy", "rotate-key", "--new-key", str(tmp_path / "new.key"), "--config", str(gate)]) == 3
    assert "E_PRIVACY_KEY_EXISTS" in capsys.readouterr().err
    assert (tmp_path / "new.key").read_bytes() == b"x" * 32
