"""The QR code on a CCCD: ``ID12|CMND9|full name|DOB ddmmyyyy|sex|address|issue date ddmmyyyy``.

Variants met in the field: a leading BOM, 6 fields (no CMND), 7 fields (CMND may be empty), and more than 7
(the extra fields are kept as ``extra``). The QR has no expiry date, so it gives the CAN for PACE, not BAC keys.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field

from edge.errors import ExamGateError
from edge.masking import mask_id


class QrError(ExamGateError):
    code = "E_QR_INVALID"
    remedy = "rescan the QR code on the card (hold it flat, fill the scanner window); or type the 12-digit ID"


@dataclass(frozen=True)
class QrData:
    id_number: str = field(repr=False)
    old_id_number: str | None = field(repr=False)
    full_name: str = field(repr=False)
    birth_date: dt.date = field(repr=False)
    sex: str
    address: str = field(repr=False)
    issue_date: dt.date
    extra: tuple[str, ...] = ()

    @property
    def can(self) -> str:
        """The card access number for PACE: the last 6 digits of the 12-digit ID."""
        return self.id_number[-6:]

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number)

    def to_dict(self) -> dict[str, object]:
        return {
            "id_number": self.id_number,
            "old_id_number": self.old_id_number,
            "can": self.can,
            "full_name": self.full_name,
            "birth_date": self.birth_date.isoformat(),
            "sex": self.sex,
            "address": self.address,
            "issue_date": self.issue_date.isoformat(),
            "extra": list(self.extra),
        }


def _date(text: str, what: str) -> dt.date:
    if len(text) != 8 or not text.isascii() or not text.isdigit():
        raise QrError(f"{what} {text!r} is not 8 digits ddmmyyyy")
    try:
        return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))
    except ValueError as exc:
        raise QrError(f"{what} {text!r} is not a calendar date (ddmmyyyy)") from exc


def _is_ddmmyyyy(text: str) -> bool:
    return len(text) == 8 and _digits(text)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def parse_qr(text: str) -> QrData:
    """Parse the card's QR text; raise ``QrError`` (E_QR_INVALID) saying which field is wrong."""
    body = unicodedata.normalize("NFC", text).lstrip("\ufeff").strip()
    fields = [part.strip() for part in body.split("|")]
    # No CMND field: ID|name|DOB|sex|address|issue date[|extra…] (DOB third, not fourth).
    no_cmnd = len(fields) >= 3 and _is_ddmmyyyy(fields[2]) and not (len(fields) > 3 and _is_ddmmyyyy(fields[3]))
    while len(fields) > (6 if no_cmnd else 7) and not fields[-1]:
        fields.pop()  # scanners often add a trailing '|'
    if no_cmnd:
        fields.insert(1, "")
    if len(fields) < 7:
        raise QrError(
            f"QR text has {len(fields)} '|'-separated fields; a CCCD QR has 7 "
            "(ID|CMND|name|DOB|sex|address|issue date) or 6 (without CMND)"
        )
    id_number, old_id, name, birth, sex, address, issued = fields[:7]
    if len(id_number) != 12 or not _digits(id_number):
        raise QrError(f"first field must be the 12-digit ID number, got {len(id_number)} characters")
    if old_id and (len(old_id) not in (9, 12) or not _digits(old_id)):
        raise QrError(f"second field must be the 9-digit old ID (CMND) or empty, got {len(old_id)} characters")
    if not name:
        raise QrError("full name field is empty")
    return QrData(
        id_number=id_number,
        old_id_number=old_id or None,
        full_name=" ".join(name.split()),
        birth_date=_date(birth, "date of birth"),
        sex=sex,
        address=address,
        issue_date=_date(issued, "date of issue"),
        extra=tuple(fields[7:]),
    )
