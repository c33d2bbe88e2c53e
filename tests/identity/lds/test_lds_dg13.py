from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from asn1crypto import core

from edge.identity import tlv
from edge.identity.dg13 import SENSITIVE_FIELDS, Dg13, Dg13Error, parse_dg13
from edge.identity.tlv import TlvError
from firmware_bridge.sim import lds_build

FULL = {
    1: "001099012345",
    2: "Nguyễn Văn An",
    3: "01/01/1999",
    4: "Nam",
    5: "Việt Nam",
    6: "Kinh",
    7: "Phật giáo",
    8: "Xã Tân Hòa, Huyện X",
    9: "Phường 1, Quận 3, TP HCM",
    10: "Nốt ruồi cách 2cm",
    11: "15/07/2021",
    12: "01/01/2039",
    13: ("Nguyễn Văn Bố", "Trần Thị Mẹ"),
    14: "Lê Thị Vợ",
    15: "123456789",
    16: "Ghi chú",
}


def test_full_record_keeps_only_non_sensitive_fields() -> None:
    parsed = parse_dg13(lds_build.build_dg13(FULL))
    assert parsed.id_number == "001099012345"
    assert parsed.full_name == "Nguyễn Văn An"
    assert parsed.birth_date == dt.date(1999, 1, 1)
    assert (parsed.sex, parsed.nationality) == ("Nam", "Việt Nam")
    assert parsed.issue_date == dt.date(2021, 7, 15)
    assert parsed.expiry_date == dt.date(2039, 1, 1)
    assert parsed.old_id_number == "123456789"
    assert parsed.field_numbers == tuple(range(1, 17))
    # no attribute holds a sensitive value
    values = [str(v) for v in vars(parsed).values()]
    for number in SENSITIVE_FIELDS:
        sensitive = FULL[number]
        for text in sensitive if isinstance(sensitive, tuple) else (sensitive,):
            assert all(text not in value for value in values), number
    assert "001099012345" not in repr(parsed)


def test_missing_fields_and_no_expiry() -> None:
    parsed = parse_dg13(lds_build.build_dg13({2: "Trần Thị B", 12: "Không thời hạn"}))
    assert parsed == Dg13(full_name="Trần Thị B", expiry_text="Không thời hạn", field_numbers=(2, 12))


def test_decomposed_unicode_is_nfc_normalised() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    assert parse_dg13(lds_build.build_dg13({2: nfd})).full_name == "Nguyễn Văn An"


def _dg13(entries: list[bytes], container_tag: int = 0x31, version: bytes = b"\x02\x01\x01") -> bytes:
    oid = core.ObjectIdentifier(lds_build.DG13_OID).dump()
    return tlv.encode(0x6D, tlv.encode(0x30, version + oid + tlv.encode(container_tag, b"".join(entries))))


def _entry(number: int, value: bytes) -> bytes:
    return tlv.encode(0x30, core.Integer(number).dump() + value)


def test_other_string_types_and_unknown_fields() -> None:
    data = _dg13(
        [
            _entry(1, core.PrintableString("001099012345").dump()),
            _entry(2, core.BMPString("Lê Văn C").dump()),
            _entry(4, core.OctetString("Nữ".encode()).dump()),
            _entry(42, core.UTF8String("future field").dump()),
            _entry(3, core.Integer(5).dump()),  # not a string: ignored
            _entry(5, b""),  # no value at all
        ]
    )
    parsed = parse_dg13(data)
    assert parsed.id_number == "001099012345"
    assert parsed.full_name == "Lê Văn C"
    assert parsed.sex == "Nữ"
    assert parsed.birth_date is None
    assert parsed.nationality is None
    assert parsed.field_numbers == (1, 2, 3, 4, 5, 42)


def test_sequence_of_instead_of_set_and_bare_entries() -> None:
    seq = _dg13([_entry(2, core.UTF8String("A B").dump())], container_tag=0x30)
    assert parse_dg13(seq).full_name == "A B"
    oid = core.ObjectIdentifier(lds_build.DG13_OID).dump()
    bare = tlv.encode(0x6D, tlv.encode(0x30, b"\x02\x01\x01" + oid + _entry(2, core.UTF8String("C D").dump())))
    assert parse_dg13(bare).full_name == "C D"


def test_nested_sequence_in_field_13_never_decoded() -> None:
    # a field 13 whose value is not even valid DER inside must not break the parse: it is skipped unread
    broken = tlv.encode(0x30, b"\x0c\x05ab")
    data = _dg13([_entry(13, broken), _entry(2, core.UTF8String("X").dump())])
    assert parse_dg13(data).full_name == "X"


def test_old_id_must_look_like_an_id() -> None:
    assert parse_dg13(lds_build.build_dg13({15: "ghi chú", 16: "987654321"})).old_id_number == "987654321"
    assert parse_dg13(lds_build.build_dg13({15: "12345"})).old_id_number is None


def test_malformed() -> None:
    with pytest.raises(Dg13Error, match="expected 6D"):
        parse_dg13(tlv.encode(0x61, b""))
    with pytest.raises(Dg13Error):
        parse_dg13(tlv.encode(0x6D, b"\x30\x03\x02\x01"))
    with pytest.raises(Dg13Error):
        parse_dg13(_dg13([b"\x30\x03\x04\x01\x00"]))
    with pytest.raises(TlvError):
        parse_dg13(b"\x6d\x05\x30")


def test_field_13_with_names_side_by_side() -> None:
    """Some cards may put father and mother as two values in the entry itself; still dropped, still parsed."""
    parents = core.UTF8String("Nguyễn Văn Bố").dump() + core.UTF8String("Trần Thị Mẹ").dump()
    nested = tlv.encode(0x30, core.UTF8String("Bố").dump()) + tlv.encode(0x30, core.UTF8String("Mẹ").dump())
    data = _dg13([_entry(13, parents), _entry(14, nested), _entry(2, core.UTF8String("Nguyễn Văn An").dump())])
    parsed = parse_dg13(data)
    assert parsed.full_name == "Nguyễn Văn An"
    assert parsed.field_numbers == (2, 13, 14)
    assert "Bố" not in repr(vars(parsed))
