"""Roster caps (issue 14, fault 7): file size and row limits, a capped problem list, CSV read row by row."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import edge.roster as roster
from edge.errors import RosterError
from edge.roster import MAX_REPORTED_PROBLEMS, parse_roster

HEADER = "candidate_id,personal_id,full_name,birth_date\n"


def bad_rows(count: int) -> str:
    return HEADER + "".join(f"C{i},12345,Name {i},1999-01-01\n" for i in range(count))


def test_problem_list_is_capped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(bad_rows(5_000), encoding="utf-8")
    with pytest.raises(RosterError) as info:
        parse_roster(path)
    assert len(info.value.problems) == MAX_REPORTED_PROBLEMS
    assert info.value.problems[0] == (2, "personal_id", "must be the 12-digit CCCD number")
    assert "5000 problem(s) (the first 100 are listed)" in str(info.value)


def test_file_over_the_size_cap_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_ROSTER_BYTES", 1_000)
    path = tmp_path / "big.csv"
    path.write_text(bad_rows(100), encoding="utf-8")
    with pytest.raises(RosterError, match="more than the 1000-byte roster limit") as info:
        parse_roster(path)
    assert info.value.problems == [(0, "file", "larger than 1000 bytes")]


def test_row_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_ROSTER_ROWS", 10)
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(f"C{i},{i:012d},Name,1999-01-01\n" for i in range(11)), encoding="utf-8")
    with pytest.raises(RosterError, match="more than 10 rows"):
        parse_roster(path)


def test_directory_is_named_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "r.csv"
    folder.mkdir()
    with pytest.raises(RosterError, match="is a directory"):
        parse_roster(folder)


def test_csv_is_streamed_not_read_whole(tmp_path: Path) -> None:
    """An all-bad 7+ MB file: peak Python allocation stays far below the file size (the old reader held it all)."""
    path = tmp_path / "r.csv"
    path.write_text(bad_rows(200_000), encoding="utf-8")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        with pytest.raises(RosterError):
            parse_roster(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 7_000_000
    assert peak < size / 4, (peak, size)


def test_cli_prints_at_most_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text(bad_rows(1_000), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "roster", "import", str(path), "--session", "S1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("  line ")]
    assert len(lines) == MAX_REPORTED_PROBLEMS
    assert "1000 problem(s)" in result.stderr
