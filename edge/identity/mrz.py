"""ICAO 9303 machine-readable zone: check digits and the DG1 parser (TD1 ID cards and TD3 passports).

Century rule for the two-digit years of the MRZ: a birth date is in the 2000s unless that would put it
after ``today`` (then 1900s); an expiry date is always in the 2000s (no card in service expires outside them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from edge.errors import ExamGateError
from edge.identity import tlv

_WEIGHTS = (7, 3, 1)
TD1_LENGTH = 90
TD3_LENGTH = 88
DG1_TAG = 0x61
MRZ_TAG = 0x5F1F


class MrzError(ExamGateError):
    code = "E_CHIP_MRZ_INVALID"
    remedy = "the MRZ data does not verify; tap the card again, and if it repeats check the card by hand"


def _char_value(char: str) -> int:
    if "0" <= char <= "9":
        return ord(char) - ord("0")
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise MrzError(f"character {char!r} is not allowed in an MRZ")


def check_digit(s: str) -> str:
    """ICAO 9303-3 check digit of ``s`` (digits, A–Z and '<'), weights 7-3-1, modulo 10."""
    total = sum(_char_value(char) * _WEIGHTS[i % 3] for i, char in enumerate(s))
    return str(total % 10)


@dataclass(frozen=True)
class Mrz:
    """A verified MRZ. ID-bearing fields are left out of ``repr`` so that logging the object is safe."""

    document_code: str
    issuing_state: str
    document_number: str = field(repr=False)
    birth_date: dt.date = field(repr=False)
    expiry_date: dt.date
    sex: str  # "M", "F" or "X"
    nationality: str
    surname: str = field(repr=False)
    given_names: str = field(repr=False)
    optional_data: str = field(repr=False)
    personal_id: str | None = field(repr=False)  # the 12-digit CCCD number when present
    birth_date_yymmdd: str = field(repr=False)
    expiry_date_yymmdd: str = field(repr=False)
    format: str = "TD1"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.surname, self.given_names) if part)


def _verify(name: str, value: str, digit: str) -> None:
    expected = check_digit(value)
    # ICAO allows '<' as the check digit of an empty optional field.
    if digit == "<" and not value.strip("<"):
        return
    if digit != expected:
        raise MrzError(f"check digit of the {name} is {digit!r}, computed {expected!r}")


def _date(raw: str, kind: str, today: dt.date) -> dt.date:
    if len(raw) != 6 or not raw.isdigit():
        raise MrzError(f"{kind} {raw!r} is not YYMMDD")
    yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:6])
    try:
        if kind == "expiry date":
            return dt.date(2000 + yy, mm, dd)
        candidate = dt.date(2000 + yy, mm, dd)
        if candidate > today:
            candidate = dt.date(1900 + yy, mm, dd)
    except ValueError as exc:
        raise MrzError(f"{kind} {raw!r} is not a calendar date") from exc
    return candidate


def _names(field_text: str) -> tuple[str, str]:
    surname, _, given = field_text.partition("<<")

    def clean(part: str) -> str:
        return " ".join(part.replace("<", " ").split())

    return clean(surname), clean(given)


def _sex(char: str) -> str:
    if char in ("M", "F"):
        return char
    if char in ("<", "X"):
        return "X"
    raise MrzError(f"sex {char!r} is not M, F or <")


def _personal_id(optional_data: str, document_number: str, issuing_state: str) -> str | None:
    digits = optional_data.split("<", 1)[0]
    if len(digits) < 12 or not digits[:12].isdigit():
        return None
    personal_id = digits[:12]
    if issuing_state == "VNM" and personal_id[-9:] != document_number:
        raise MrzError("the 12-digit ID in the optional data does not end with the document number")
    return personal_id


def _parse_td1(mrz: str, today: dt.date) -> Mrz:
    number_field, number_digit, optional1 = mrz[5:14], mrz[14], mrz[15:30]
    if number_digit == "<" and optional1[0] != "<":
        # Long document number: the rest and its check digit continue in the optional data, ended by '<'.
        overflow = optional1.split("<", 1)[0]
        if len(overflow) < 2:
            raise MrzError("long document number overflow in the optional data is too short")
        document_number = number_field + overflow[:-1]
        number_digit = overflow[-1]
        optional_rest = optional1[len(overflow) :]
    else:
        document_number = number_field
        optional_rest = optional1
    _verify("document number", document_number, number_digit)
    birth_raw, birth_digit = mrz[30:36], mrz[36]
    expiry_raw, expiry_digit = mrz[38:44], mrz[44]
    _verify("birth date", birth_raw, birth_digit)
    _verify("expiry date", expiry_raw, expiry_digit)
    _verify("whole MRZ (composite)", mrz[5:30] + mrz[30:37] + mrz[38:45] + mrz[48:59], mrz[59])
    document_number = document_number.rstrip("<")
    return _assemble(
        mrz,
        today,
        format="TD1",
        document_number=document_number,
        dates=(birth_raw, expiry_raw),
        sex=mrz[37],
        nationality=mrz[45:48],
        names=mrz[60:90],
        optional_data=(optional_rest.strip("<") + "<" + mrz[48:59].strip("<")).strip("<"),
        personal_id=lambda: _personal_id(optional_rest.lstrip("<"), document_number, _issuing_state(mrz)),
    )


def _parse_td3(mrz: str, today: dt.date) -> Mrz:
    line2 = mrz[44:]
    number_field, number_digit = line2[0:9], line2[9]
    birth_raw, birth_digit = line2[13:19], line2[19]
    expiry_raw, expiry_digit = line2[21:27], line2[27]
    personal, personal_digit = line2[28:42], line2[42]
    _verify("document number", number_field, number_digit)
    _verify("birth date", birth_raw, birth_digit)
    _verify("expiry date", expiry_raw, expiry_digit)
    _verify("personal number", personal, personal_digit)
    _verify("whole MRZ (composite)", line2[0:10] + line2[13:20] + line2[21:43], line2[43])
    optional_data = personal.strip("<")
    return _assemble(
        mrz,
        today,
        format="TD3",
        document_number=number_field.rstrip("<"),
        dates=(birth_raw, expiry_raw),
        sex=line2[20],
        nationality=line2[10:13],
        names=mrz[5:44],
        optional_data=optional_data,
        personal_id=lambda: optional_data if len(optional_data) == 12 and optional_data.isdigit() else None,
    )


def _issuing_state(mrz: str) -> str:
    return mrz[2:5].replace("<", "")


def _assemble(
    mrz: str,
    today: dt.date,
    *,
    format: str,
    document_number: str,
    dates: tuple[str, str],
    sex: str,
    nationality: str,
    names: str,
    optional_data: str,
    personal_id: Callable[[], str | None],
) -> Mrz:
    """The ``Mrz`` from the fields of a verified TD1 or TD3 zone; ``personal_id`` runs last, after the dates and sex
    have parsed, so a zone with several faults reports a date or sex fault first."""
    birth_raw, expiry_raw = dates
    surname, given = _names(names)
    return Mrz(
        document_code=mrz[0:2].replace("<", ""),
        issuing_state=_issuing_state(mrz),
        document_number=document_number,
        birth_date=_date(birth_raw, "birth date", today),
        expiry_date=_date(expiry_raw, "expiry date", today),
        sex=_sex(sex),
        nationality=nationality.replace("<", ""),
        surname=surname,
        given_names=given,
        optional_data=optional_data,
        personal_id=personal_id(),
        birth_date_yymmdd=birth_raw,
        expiry_date_yymmdd=expiry_raw,
        format=format,
    )


def parse_mrz(text: str, *, today: dt.date | None = None) -> Mrz:
    """Parse and verify an MRZ string (lines concatenated, no newlines): TD1 (90 chars) or TD3 (88 chars)."""
    mrz = text.replace("\n", "").replace("\r", "")
    for char in set(mrz):
        _char_value(char)
    day = today or dt.date.today()
    if len(mrz) == TD1_LENGTH:
        return _parse_td1(mrz, day)
    if len(mrz) == TD3_LENGTH:
        return _parse_td3(mrz, day)
    raise MrzError(f"MRZ has {len(mrz)} characters; expected {TD1_LENGTH} (TD1) or {TD3_LENGTH} (TD3)")


def parse_dg1(data: bytes, *, today: dt.date | None = None) -> Mrz:
    """Parse EF.DG1 (tag 61 holding 5F1F with the MRZ) and verify every check digit."""
    outer = tlv.decode(data)
    if outer.tag != DG1_TAG:
        raise MrzError(f"DG1 starts with tag {outer.tag:X}, expected 61")
    raw = outer.require(MRZ_TAG).value
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise MrzError("the MRZ in DG1 is not ASCII") from exc
    return parse_mrz(text, today=today)
