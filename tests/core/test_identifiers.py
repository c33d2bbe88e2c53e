"""Fault 4 (issue 14): personal ids are ASCII digits, session ids [A-Za-z0-9._-]{1,64}, roster fields strings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge.errors import RosterError, StoreError
from edge.roster import parse_roster
from edge.store import Store


def _csv(tmp_path: Path, personal_id: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(f"candidate_id,personal_id,full_name\nC1,{personal_id},Nguyen Van A\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("personal_id", ["００１２０３００４５６７", "٠٠١٢٠٣٠٠٤٥٦٧", "00120300456७"])
def test_non_ascii_digits_are_refused(tmp_path: Path, personal_id: str) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(_csv(tmp_path, personal_id))
    assert any(field == "personal_id" for _, field, _ in caught.value.problems)


def test_ascii_digits_pass(tmp_path: Path) -> None:
    assert parse_roster(_csv(tmp_path, "001203004567"))[0].personal_id == "001203004567"


def test_a_list_full_name_is_refused_not_stored_as_its_repr(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    path.write_text(json.dumps([{"candidate_id": "C1", "personal_id": "001203004567", "full_name": ["A", "B"]}]))
    with pytest.raises(RosterError) as caught:
        parse_roster(path)
    assert any(field == "full_name" for _, field, _ in caught.value.problems)


@pytest.mark.parametrize("session_id", ["", "../../etc", "a" * 65, "a b", "s/1"])
def test_bad_session_ids_are_refused(tmp_path: Path, session_id: str) -> None:
    store = Store.open(tmp_path / "gate.db")
    try:
        with pytest.raises(StoreError) as caught:
            store.ensure_session(session_id)
        assert caught.value.code == "E_SESSION_ID"
        assert store.open_session_id() is None
        store.ensure_session("S-2026.06_a")  # a good one still works
    finally:
        store.close()
