"""EF.DG13, Vietnam's optional details: SEQUENCE { INTEGER 1, OID, SET OF SEQUENCE { INTEGER field, value } }.

Only non-sensitive fields are kept. Fields 6–10 (ethnicity, religion, origin, residence, marks), 13 (parents) and
14 (spouse) are never decoded: they are dropped at parse time, so nothing downstream can store them.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

from asn1crypto import core

from edge.errors import ExamGateError
from edge.identity.sod import ASN1_ERRORS, parse_tagged

DG13_TAG = 0x6D
ID_NUMBER, FULL_NAME, BIRTH_DATE, SEX, NATIONALITY = 1, 2, 3, 4, 5
ISSUE_DATE, EXPIRY_DATE = 11, 12
OLD_ID_FIELDS = (15, 16)  # varies between card generations
SENSITIVE_FIELDS = frozenset({6, 7, 8, 9, 10, 13, 14})
_KEPT = frozenset({ID_NUMBER, FULL_NAME, BIRTH_DATE, SEX, NATIONALITY, ISSUE_DATE, EXPIRY_DATE, *OLD_ID_FIELDS})


class Dg13Error(ExamGateError):
    code = "E_CHIP_DG13_INVALID"
    remedy = "DG13 on the card does not parse; the gate uses DG1 instead, no action needed unless it repeats"


class _Entry(core.SequenceOf):  # type: ignore[misc]
    """SEQUENCE { INTEGER field, value, ... }: read as a list so that extra elements (field 13 may carry the
    two parents' names side by side) do not break the parse."""

    _child_spec = core.Any


class _EntrySet(core.SetOf):  # type: ignore[misc]
    _child_spec = _Entry


class _EntrySequence(core.SequenceOf):  # type: ignore[misc]
    _child_spec = _Entry


class _Items(core.SequenceOf):  # type: ignore[misc]
    _child_spec = core.Any


@dataclass(frozen=True)
class Dg13:
    """The non-sensitive DG13 fields. Dates are None when absent or not a date ("Không thời hạn" = no expiry)."""

    id_number: str | None = field(default=None, repr=False)
    full_name: str | None = field(default=None, repr=False)
    birth_date: dt.date | None = field(default=None, repr=False)
    sex: str | None = None
    nationality: str | None = None
    issue_date: dt.date | None = None
    expiry_date: dt.date | None = None
    expiry_text: str | None = None
    old_id_number: str | None = field(default=None, repr=False)
    field_numbers: tuple[int, ...] = ()  # every field number seen, sensitive ones included (numbers only)


def _text(value: core.Any) -> str | None:
    try:
        parsed = value.parsed
        if isinstance(parsed, core.AbstractString):
            text = str(parsed.native)
        elif isinstance(parsed, core.OctetString):
            text = bytes(parsed.native).decode("utf-8")
        else:
            return None
    except ASN1_ERRORS:
        return None
    text = unicodedata.normalize("NFC", text).strip()
    return text or None


def _date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d%m%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _as_entry(entry: _Entry) -> tuple[int, core.Any | None] | None:
    """(field number, first value) of one entry, or None when it does not start with an INTEGER."""
    if len(entry) == 0:
        return None
    number = entry[0].parsed
    if not isinstance(number, core.Integer):
        return None
    return int(number.native), (entry[1] if len(entry) > 1 else None)


def _entries(body: bytes) -> list[tuple[int, core.Any | None]]:
    """Entries of every SET/SEQUENCE OF after the header, and bare entries if a card puts them there."""
    found: list[tuple[int, core.Any | None]] = []
    for item in _Items.load(body, strict=True):
        der = item.dump()
        if not der or der[0] not in (0x30, 0x31):
            continue  # the version INTEGER and the OID
        if der[0] == 0x30:
            bare = _as_entry(_Entry.load(der, strict=True))
            if bare is not None:
                found.append(bare)
                continue
        container = _EntrySet if der[0] == 0x31 else _EntrySequence
        for entry in container.load(der, strict=True):
            parsed = _as_entry(entry)
            if parsed is None:
                raise Dg13Error("a DG13 entry does not start with its field number")
            found.append(parsed)
    return found


def parse_dg13(data: bytes) -> Dg13:
    """Parse EF.DG13 and keep only non-sensitive fields (see module docstring)."""
    numbered = parse_tagged(data, DG13_TAG, _entries, Dg13Error, "DG13", "the expected DER structure")
    values: dict[int, str] = {}
    seen: list[int] = []
    for number, value in numbered:
        seen.append(number)
        if number not in _KEPT or number in values or value is None:
            continue  # sensitive and unknown fields are never decoded
        text = _text(value)
        if text is not None:
            values[number] = text
    old_id = next(
        (values[n] for n in OLD_ID_FIELDS if n in values and values[n].isdigit() and len(values[n]) in (9, 12)),
        None,
    )
    expiry_text = values.get(EXPIRY_DATE)
    return Dg13(
        id_number=values.get(ID_NUMBER),
        full_name=values.get(FULL_NAME),
        birth_date=_date(values.get(BIRTH_DATE)),
        sex=values.get(SEX),
        nationality=values.get(NATIONALITY),
        issue_date=_date(values.get(ISSUE_DATE)),
        expiry_date=_date(expiry_text),
        expiry_text=expiry_text,
        old_id_number=old_id,
        field_numbers=tuple(sorted(set(seen))),
    )
