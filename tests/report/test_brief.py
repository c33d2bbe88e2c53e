"""`examgate demo`, then `examgate report brief`: the numbers in the page are the store's, and bad input is refused."""

from __future__ import annotations

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from edge.cli.main import main
from edge.report.brief import build_brief
from edge.report.cost import DEFAULT_INPUTS
from edge.report.errors import ReportError
from edge.report.queries import Period
from edge.report.text import TEXT
from edge.store import Store

REPO = Path(__file__).resolve().parents[2]
THRESHOLDS = REPO / "models" / "thresholds.toml"


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def cell(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, element_id
    return found.group(1).strip()


def test_demo_then_brief_answers_from_the_store(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "brief", "--db", str(demo_db), "--out", str(tmp_path)]) == 0
    assert "brief.html" in capsys.readouterr().out
    html = (tmp_path / "brief.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    assert TEXT["vi"]["q1"] in html and TEXT["vi"]["q4"] in html
    # self-contained: no external fetches
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "data:image/png;base64," in html and "<svg" in html
    # decision counts are the store's
    counts = dict(rows(demo_db, "SELECT outcome, count(*) FROM decisions GROUP BY outcome"))
    table = re.search(r'<table id="outcomes">(.*?)</table>', html, re.S)
    assert table
    numbers = [int(n) for n in re.findall(r'<td class="n">(\d+)</td>', table.group(1))]
    assert numbers == [counts.get("pass", 0), counts.get("review", 0), counts.get("fail", 0)]
    # thresholds and their measured error rates come from the calibration file
    thresholds = THRESHOLDS.read_text(encoding="utf-8")
    far = re.search(r"far_at_match = ([0-9.]+)", thresholds)
    assert far and float(cell(html, "fmr")) == pytest.approx(float(far.group(1)), abs=5e-5)
    # traceability: the audit-chain head the brief was built from
    seq, digest = rows(demo_db, "SELECT last_seq, last_hash FROM audit_head")[0]
    assert cell(html, "audit-seq") == str(seq)
    assert cell(html, "audit-hash") == digest
    for table_name in ("decisions", "reviews", "assisted_admissions", "audit_log"):
        assert f"<code>{table_name}</code>" in html
    # the review approved in the demo shows under its proctor
    proctor = rows(demo_db, "SELECT resolved_by FROM reviews WHERE status = 'approved'")[0][0]
    assert f"<td>{proctor}</td>" in html


def test_english_brief_for_one_session(demo_db: Path, tmp_path: Path) -> None:
    session = rows(demo_db, "SELECT session_id FROM exam_sessions")[0][0]
    assert (
        main(
            ["report", "brief", "--db", str(demo_db), "--out", str(tmp_path), "--session", str(session), "--lang", "en"]
        )
        == 0
    )
    html = (tmp_path / "brief.html").read_text(encoding="utf-8")
    assert TEXT["en"]["q3"] in html and str(session) in html


def test_both_languages_have_the_same_keys() -> None:
    assert TEXT["vi"].keys() == TEXT["en"].keys()


def test_gone_calibration_file_is_said_not_invented(demo_db: Path, tmp_path: Path) -> None:
    out = build_brief(demo_db, tmp_path, Period(), tmp_path / "gone.toml", DEFAULT_INPUTS, lang="en")
    html = out.read_text(encoding="utf-8")
    assert 'id="calibration-missing"' in html and "gone.toml" in html
    assert 'id="fmr"' not in html and 'id="fnmr"' not in html
    assert "data:image/png" not in html


def test_gone_det_image_is_said(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "thresholds.toml"
    shutil.copy(THRESHOLDS, copy)  # without its _det.png
    html = build_brief(demo_db, tmp_path / "out", Period(), copy, DEFAULT_INPUTS, lang="en").read_text("utf-8")
    assert "thresholds_det.png" in html and 'id="fmr"' in html and "data:image/png" not in html


def test_empty_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "empty.db"
    Store.open(db).close()
    assert main(["report", "brief", "--db", str(db), "--out", str(tmp_path / "out")]) == 3
    assert "E_REPORT_EMPTY_DB" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_missing_and_foreign_database_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError) as missing:
        build_brief(tmp_path / "nope.db", tmp_path, Period(), THRESHOLDS, DEFAULT_INPUTS)
    assert missing.value.code == "E_REPORT_DB_MISSING"
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ReportError) as foreign:
        build_brief(other, tmp_path, Period(), THRESHOLDS, DEFAULT_INPUTS)
    assert foreign.value.code == "E_REPORT_EMPTY_DB"


def test_period_without_decisions_is_refused_with_the_dates_that_have_some(demo_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportError) as err:
        build_brief(demo_db, tmp_path, Period.parse(None, "2001-01-01", "2001-01-31"), THRESHOLDS, DEFAULT_INPUTS)
    assert err.value.code == "E_REPORT_NO_DECISIONS"
    first = str(rows(demo_db, "SELECT min(decided_at) FROM decisions")[0][0])[:10]
    assert first in err.value.message
    assert not (tmp_path / "brief.html").exists()


def test_unknown_session_is_refused(demo_db: Path, tmp_path: Path) -> None:
    with pytest.raises(ReportError) as err:
        build_brief(demo_db, tmp_path, Period(session_id="NO-SUCH-SESSION"), THRESHOLDS, DEFAULT_INPUTS)
    assert err.value.code == "E_REPORT_UNKNOWN_SESSION"


def test_session_and_dates_together_are_a_usage_error(demo_db: Path, tmp_path: Path) -> None:
    argv = ["report", "brief", "--db", str(demo_db), "--out", str(tmp_path), "--session", "S", "--from", "2026-01-01"]
    assert main(argv) == 2
    assert not (tmp_path / "brief.html").exists()


@pytest.mark.parametrize(("start", "end"), [("2026-13-01", None), ("2026-02-02", "2026-02-01")])
def test_bad_period_is_refused(start: str, end: str | None) -> None:
    with pytest.raises(ReportError) as err:
        Period.parse(None, start, end)
    assert err.value.code == "E_REPORT_PERIOD_INVALID"
