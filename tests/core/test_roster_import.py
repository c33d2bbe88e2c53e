"""Roster files: row-level errors (line, field, why) and nothing half-imported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge.errors import RosterError
from edge.roster import parse_roster
from edge.store import Store

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64

GOOD = """candidate_id,personal_id,full_name,birth_date,photo
SBD-0001,001099012345,Nguyễn Văn An,1999-01-01,an.jpg
SBD-0002,079301004567,Trần Thị Bình,2001-03-15,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (tmp_path / "an.jpg").write_bytes(JPEG)
    return path


def test_csv_with_bom_and_photo(tmp_path: Path) -> None:
    rows = parse_roster(write(tmp_path, "r.csv", "\ufeff" + GOOD))
    assert [r.candidate_id for r in rows] == ["SBD-0001", "SBD-0002"]
    assert rows[0].full_name == "Nguyễn Văn An"
    assert rows[0].photo == JPEG and rows[1].photo is None


def test_json_roster(tmp_path: Path) -> None:
    data = [{"candidate_id": "A1", "personal_id": "001099012345", "full_name": "An", "birth_date": "1999-01-01"}]
    rows = parse_roster(write(tmp_path, "r.json", json.dumps(data)))
    assert rows[0].birth_date is not None and rows[0].birth_date.year == 1999


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("SBD-0001,079301004567,Dup,2001-03-15,", (3, "candidate_id", "duplicate of line 2")),
        ("SBD-0003,001099012345,Dup,2001-03-15,", (3, "personal_id", "duplicate of line 2")),
        ("SBD-0003,12345,Short,2001-03-15,", (3, "personal_id", "must be the 12-digit CCCD number")),
        ("SBD-0003,001099000003,Bad date,2001-02-30,", (3, "birth_date", "'2001-02-30' is not a date YYYY-MM-DD")),
        ("SBD-0003,001099000003,Future,2999-01-01,", (3, "birth_date", "2999-01-01 is not a plausible birth date")),
        ("SBD-0003,001099000003,,2001-01-01,", (3, "full_name", "must not be empty")),
        ("SBD-0003,001099000003,No photo,2001-01-01,missing.jpg", (3, "photo", "missing.jpg not found")),
        ("bad id!,001099000003,X,2001-01-01,", (3, "candidate_id", "must be 1-64 letters, digits, '.', '_' or '-'")),
    ],
)
def test_row_errors(tmp_path: Path, line: str, expected: tuple[int, str, str]) -> None:
    text = "candidate_id,personal_id,full_name,birth_date,photo\nSBD-0001,001099012345,An,1999-01-01,\n" + line + "\n"
    with pytest.raises(RosterError) as info:
        parse_roster(write(tmp_path, "r.csv", text))
    assert expected in info.value.problems


def test_not_an_image_and_unknown_column(tmp_path: Path) -> None:
    (tmp_path / "x.jpg").write_text("not an image")
    text = "candidate_id,personal_id,full_name,photo,seat\nA1,001099012345,An,x.jpg,12\n"
    with pytest.raises(RosterError) as info:
        parse_roster(write(tmp_path, "r.csv", text))
    fields = {f for _, f, _ in info.value.problems}
    assert fields == {"photo", "seat"}


def test_missing_roster_file(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="not found") as info:
        parse_roster(tmp_path / "absent.csv")
    assert info.value.code == "E_ROSTER_INVALID"


def test_header_and_format_errors(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="header lacks personal_id"):
        parse_roster(write(tmp_path, "r.csv", "candidate_id,full_name\nA,B\n"))
    with pytest.raises(RosterError, match=r"\.csv or \.json"):
        parse_roster(write(tmp_path, "r.xlsx", "x"))
    with pytest.raises(RosterError, match="not valid JSON"):
        parse_roster(write(tmp_path, "r.json", "[{"))
    with pytest.raises(RosterError, match="no candidates"):
        parse_roster(write(tmp_path, "r.csv", "candidate_id,personal_id,full_name\n"))


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "examgate.toml"
    config.write_text(
        '[site]\nsite_id="S"\ngate_id="g"\n[store]\npath="gate.db"\n[policy]\n'
        'thresholds={version="t",match=0.6,review=0.5}\n[reader]\nkind="simulated"\ncards_dir="."\n'
        '[camera]\nkind="folder"\npath="."\n',
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "edge.cli.main", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_import_all_or_nothing(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", GOOD)
    done = cli(tmp_path, "roster", "import", str(good), "--session", "SES1")
    assert done.returncode == 0, done.stderr
    assert "imported 2 candidate(s)" in done.stdout
    bad = write(tmp_path, "bad.csv", GOOD + "SBD-0009,001099000009,X,1999-13-01,\n")
    failed = cli(tmp_path, "roster", "import", str(bad), "--session", "SES1")
    assert failed.returncode == 3
    assert "line 4: birth_date" in failed.stderr
    store = Store.open(tmp_path / "gate.db")
    assert store.roster_digest("SES1").count == 2  # nothing of the bad file got in


def test_session_list_open_close(tmp_path: Path) -> None:
    cli(tmp_path, "roster", "import", str(write(tmp_path, "good.csv", GOOD)), "--session", "SES1")
    listed = cli(tmp_path, "session", "list")
    assert listed.returncode == 0
    assert "* SES1" in listed.stdout and "2 candidates" in listed.stdout
    assert cli(tmp_path, "session", "close", "SES1").returncode == 0
    assert "closed" in cli(tmp_path, "session", "list").stdout
    assert Store.open(tmp_path / "gate.db").open_session_id() is None
    missing = cli(tmp_path, "session", "open", "NOPE")
    assert missing.returncode == 1
    assert "no session 'NOPE'" in missing.stderr
    assert Store.open(tmp_path / "gate.db").verify_audit().ok
