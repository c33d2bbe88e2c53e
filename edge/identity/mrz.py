"""ICAO 9303 machine-readable zone: check digits and the DG1 parser (TD1 ID cards and TD3 passports)."""

from __future__ import annotations

from edge.errors import ExamGateError

_WEIGHTS = (7, 3, 1)


class MrzError(ExamGateError):
    code = "E_CHIP_MRZ_INVALID"
    remedy = "the MRZ data does not verify; tap the card again, and if it repeats check the card by hand"


def _char_value(char: str) -> int:
    if char.isdigit():
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
