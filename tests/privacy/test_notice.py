"""The notice file: the bundled one is complete; a missing or malformed one is a typed error and stops the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import PrivacyConfig, sample_config
from edge.privacy.errors import PrivacyError
from edge.privacy.notice import DEFAULT_NOTICE, load_notice
from edge.store import Store
from edge.wiring import build_gate


def test_bundled_notice_says_what_why_how_long_who_and_rights() -> None:
    notice = load_notice()
    assert notice.language == "vi" and notice.version and notice.legal_basis
    headings = [item.heading for item in notice.items]
    assert headings == ["Dữ liệu được xử lý", "Mục đích", "Thời gian lưu", "Bên nhận", "Quyền của bạn"]
    assert "khuôn mặt" in notice.items[0].text and "chip" in notice.items[0].text


def test_a_centre_can_adapt_the_notice(tmp_path: Path) -> None:
    own = tmp_path / "notice.toml"
    own.write_text(DEFAULT_NOTICE.read_text(encoding="utf-8").replace('"vi-2026-01"', '"qng-2026-02"'), "utf-8")
    assert load_notice(own).version == "qng-2026-02"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "E_PRIVACY_NOTICE_MISSING"),
        ("version = [", "E_PRIVACY_NOTICE_INVALID"),
        ('version = "v1"', "E_PRIVACY_NOTICE_INVALID"),
        ("drop-items", "E_PRIVACY_NOTICE_INVALID"),
        ("bad-version", "E_PRIVACY_NOTICE_INVALID"),
    ],
)
def test_missing_or_malformed_notice_is_refused(tmp_path: Path, text: str | None, code: str) -> None:
    path = tmp_path / "notice.toml"
    full = DEFAULT_NOTICE.read_text(encoding="utf-8")
    if text == "drop-items":
        path.write_text(full[: full.index("[[items]]", full.index("[[items]]") + 1)], encoding="utf-8")
    elif text == "bad-version":
        path.write_text(full.replace('"vi-2026-01"', '"has spaces in it"'), encoding="utf-8")
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(PrivacyError) as err:
        load_notice(path)
    assert err.value.code == code and str(path) in err.value.message


def test_the_gate_refuses_to_start_capturing_without_its_notice(tmp_path: Path) -> None:
    cfg = sample_config(tmp_path)
    cfg = cfg.model_copy(update={"privacy": PrivacyConfig(notice_file=tmp_path / "gone.toml")})
    store = Store.open(tmp_path / "gate.db")
    try:
        with pytest.raises(PrivacyError) as err:
            build_gate(cfg, store=store)
    finally:
        store.close()
    assert err.value.code == "E_PRIVACY_NOTICE_MISSING"
