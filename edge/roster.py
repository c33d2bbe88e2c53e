"""Roster files (CSV or JSON) → validated rows. All rows are checked before anything is imported.

CSV header: ``candidate_id,personal_id,full_name,birth_date[,photo]`` (UTF-8, optional BOM). JSON: a list of objects
with the same keys. ``birth_date`` is ``YYYY-MM-DD``; ``photo`` is a path relative to the roster file.

Caps: a roster file larger than ``MAX_ROSTER_BYTES`` or with more than ``MAX_ROSTER_ROWS`` rows is refused before it is
parsed; CSV is read row by row (never the whole text at once); at most ``MAX_REPORTED_PROBLEMS`` problems are kept, the
error says how many there were in all.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from edge.errors import RosterError
from edge.store.models import RosterRow

REQUIRED = ("candidate_id", "personal_id", "full_name")
KNOWN = (*REQUIRED, "birth_date", "photo")
_PERSONAL_ID = re.compile(r"^[0-9]{12}$")  # ASCII only: \d also matches full-width digits
_CANDIDATE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_PHOTO_BYTES = 2_000_000
# A session holds at most a few thousand candidates; a province-wide roster of 100k rows is ~10 MB of CSV.
MAX_ROSTER_BYTES = 32 * 1024 * 1024
MAX_ROSTER_ROWS = 100_000
MAX_REPORTED_PROBLEMS = 100
_IMAGE_MAGIC = (b"\xff\xd8", b"\x89PNG", b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")


class _Problems:
    """The first ``MAX_REPORTED_PROBLEMS`` problems (line, field, why) and how many there were in all."""

    def __init__(self) -> None:
        self.kept: list[tuple[int, str, str]] = []
        self.count = 0

    def append(self, problem: tuple[int, str, str]) -> None:
        self.count += 1
        if len(self.kept) < MAX_REPORTED_PROBLEMS:
            self.kept.append(problem)

    def __len__(self) -> int:
        return self.count


def _check_size(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RosterError(f"roster file {path} not found", [(0, "file", "not found")]) from None
    except OSError as exc:
        raise RosterError(f"roster file {path} cannot be read: {exc.strerror}", [(0, "file", str(exc))]) from None
    if path.is_dir():
        raise RosterError(f"roster file {path} is a directory", [(0, "file", "is a directory")])
    if size > MAX_ROSTER_BYTES:
        raise RosterError(
            f"{path.name} is {size} bytes, more than the {MAX_ROSTER_BYTES}-byte roster limit; split it per session",
            [(0, "file", f"larger than {MAX_ROSTER_BYTES} bytes")],
        )


def _json_records(path: Path) -> Iterator[tuple[int, Mapping[str, object]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster file {path} cannot be read as UTF-8: {exc}", [(0, "file", str(exc))]) from None
    except json.JSONDecodeError as exc:
        raise RosterError(f"{path.name} is not valid JSON", [(exc.lineno, "file", exc.msg)]) from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise RosterError(f"{path.name} must hold a JSON list of objects", [(1, "file", "not a list of objects")])
    yield from ((index + 1, item) for index, item in enumerate(data))


def _csv_records(path: Path) -> Iterator[tuple[int, Mapping[str, object]]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
            if missing:
                raise RosterError(
                    f"{path.name}: header lacks {', '.join(missing)}", [(1, name, "missing column") for name in missing]
                )
            # line numbers: header is line 1
            for row in reader:
                yield reader.line_num, dict(row)
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"roster file {path} cannot be read as UTF-8: {exc}", [(0, "file", str(exc))]) from None
    except csv.Error as exc:
        raise RosterError(f"{path.name} is not valid CSV: {exc}", [(0, "file", str(exc))]) from None


def _records(path: Path) -> Iterator[tuple[int, Mapping[str, object]]]:
    _check_size(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_records(path)
    if suffix != ".csv":
        raise RosterError(f"{path.name}: roster files must end in .csv or .json", [(0, "file", "unknown format")])
    return _csv_records(path)


def parse_roster(path: Path) -> list[RosterRow]:
    """Read and validate a whole roster. Raises RosterError with the bad rows (line, field, why), first 100 of them."""
    problems = _Problems()
    rows: list[RosterRow] = []
    seen_candidates: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for count, (line, record) in enumerate(_records(path), start=1):
        if count > MAX_ROSTER_ROWS:
            raise RosterError(
                f"{path.name} has more than {MAX_ROSTER_ROWS} rows; split it per session",
                [(line, "file", f"more than {MAX_ROSTER_ROWS} rows")],
            )
        row = _row(line, record, path.parent, problems)
        if row is None:
            continue
        for key, seen, field in (
            (row.candidate_id, seen_candidates, "candidate_id"),
            (row.personal_id, seen_ids, "personal_id"),
        ):
            if key in seen:
                problems.append((line, field, f"duplicate of line {seen[key]}"))
            else:
                seen[key] = line
        rows.append(row)
    if problems.count:
        shown = "" if problems.count <= len(problems.kept) else f" (the first {len(problems.kept)} are listed)"
        raise RosterError(f"{path.name}: {problems.count} problem(s){shown}; nothing was imported", problems.kept)
    if not rows:
        raise RosterError(f"{path.name} has no candidates", [(0, "file", "empty roster")])
    return rows


def _text(record: Mapping[str, object], key: str) -> str:
    """The field as text; a JSON number, list or object is not text and reads as empty (so it is reported)."""
    value = record.get(key)
    return value.strip() if isinstance(value, str) else ""


def _row(line: int, record: Mapping[str, object], base: Path, problems: _Problems) -> RosterRow | None:
    before = len(problems)
    for key in record:
        if key not in KNOWN:
            problems.append((line, str(key), f"unknown column (expected {', '.join(KNOWN)})"))
    candidate_id = _text(record, "candidate_id")
    personal_id = _text(record, "personal_id")
    full_name = _text(record, "full_name")
    if not _CANDIDATE_ID.match(candidate_id):
        problems.append((line, "candidate_id", "must be 1-64 letters, digits, '.', '_' or '-'"))
    if not _PERSONAL_ID.match(personal_id):
        problems.append((line, "personal_id", "must be the 12-digit CCCD number"))
    if not full_name:
        problems.append((line, "full_name", "must not be empty"))
    birth: dt.date | None = None
    if birth_text := _text(record, "birth_date"):
        try:
            birth = dt.date.fromisoformat(birth_text)
        except ValueError:
            problems.append((line, "birth_date", f"{birth_text!r} is not a date YYYY-MM-DD"))
        else:
            if not dt.date(1900, 1, 1) <= birth <= dt.date.today():
                problems.append((line, "birth_date", f"{birth_text} is not a plausible birth date"))
    photo: bytes | None = None
    if photo_text := _text(record, "photo"):
        photo = _photo(line, base / photo_text, problems)
    if len(problems) > before:
        return None
    return RosterRow(candidate_id, personal_id, full_name, birth, photo)


def _photo(line: int, path: Path, problems: _Problems) -> bytes | None:
    try:
        size = path.stat().st_size
        if size > MAX_PHOTO_BYTES:
            problems.append((line, "photo", f"{path.name} is {size} bytes, more than {MAX_PHOTO_BYTES}"))
            return None
        data = path.read_bytes()
    except FileNotFoundError:
        problems.append((line, "photo", f"{path.name} not found"))
        return None
    except OSError as exc:
        problems.append((line, "photo", f"{path.name} cannot be read: {exc.strerror}"))
        return None
    if not data.startswith(_IMAGE_MAGIC):
        problems.append((line, "photo", f"{path.name} is not a JPEG, PNG or JPEG 2000 image"))
        return None
    return data


def format_problems(problems: Iterable[tuple[int, str, str]]) -> str:
    return "\n".join(f"  line {line}: {field}: {why}" for line, field, why in problems)
