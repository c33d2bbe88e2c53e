from __future__ import annotations

import datetime as dt

import pytest

from edge.identity.mrz import MrzError, check_digit, parse_dg1, parse_mrz
from edge.identity.tlv import TlvError
from edge.masking import mask_id
from firmware_bridge.sim import lds_build

# ICAO 9303-3/-5/-4 specimen MRZs (Anna Maria Eriksson of Utopia).
TD1_SPECIMEN = "I<UTOD231458907<<<<<<<<<<<<<<<" + "7408122F1204159UTO<<<<<<<<<<<6" + "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"
TD3_SPECIMEN = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<" + "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
TODAY = dt.date(2026, 11, 25)


@pytest.mark.parametrize(
    ("text", "digit"),
    [("L898902C3", "6"), ("740812", "2"), ("120415", "9"), ("D23145890", "7"), ("<<<<", "0"), ("AB2134<<<", "5")],
)
def test_check_digit_icao_examples(text: str, digit: str) -> None:
    assert check_digit(text) == digit


def test_check_digit_rejects_lowercase() -> None:
    with pytest.raises(MrzError):
        check_digit("abc")


def test_td1_specimen() -> None:
    mrz = parse_mrz(TD1_SPECIMEN, today=TODAY)
    assert (mrz.format, mrz.document_code, mrz.issuing_state) == ("TD1", "I", "UTO")
    assert mrz.document_number == "D23145890"
    assert mrz.birth_date == dt.date(1974, 8, 12)
    assert mrz.expiry_date == dt.date(2012, 4, 15)
    assert (mrz.sex, mrz.nationality) == ("F", "UTO")
    assert (mrz.surname, mrz.given_names) == ("ERIKSSON", "ANNA MARIA")
    assert mrz.personal_id is None


def test_td3_specimen() -> None:
    mrz = parse_mrz(TD3_SPECIMEN, today=TODAY)
    assert (mrz.format, mrz.document_number, mrz.optional_data) == ("TD3", "L898902C3", "ZE184226B")
    assert mrz.birth_date == dt.date(1974, 8, 12)
    assert mrz.full_name == "ERIKSSON ANNA MARIA"


def test_cccd_dg1_round_trip() -> None:
    dg1 = lds_build.build_dg1_td1(
        "099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", "VNM", "Nguyễn", "Văn An", "001099012345"
    )
    mrz = parse_dg1(dg1, today=TODAY)
    assert mrz.document_number == "099012345"
    assert mrz.personal_id == "001099012345"
    assert (mrz.surname, mrz.given_names) == ("NGUYEN", "VAN AN")
    assert mrz.birth_date == dt.date(1999, 1, 1)
    assert mrz.birth_date_yymmdd == "990101"
    assert mrz.expiry_date_yymmdd == "390101"
    assert "001099012345" not in repr(mrz)


def test_cccd_reference_shape_parses() -> None:
    """The CCCD line-1 shape (trailing digit after the ID in the optional data), with a correct check digit."""
    line1 = "IDVNM0990123459001099012345<<7"
    line2 = "9901018M3901016VNM<<<<<<<<<<<"
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += check_digit(composite)
    mrz = parse_mrz(line1 + line2 + "NGUYEN<<VAN<AN".ljust(30, "<"), today=TODAY)
    assert mrz.personal_id == "001099012345"
    assert mrz.document_number == "099012345"


def test_cccd_id_must_end_with_document_number() -> None:
    text = lds_build.build_mrz_td1(
        "099012345", dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", "VNM", "A", "B", "001099012399"
    )
    with pytest.raises(MrzError, match="does not end with"):
        parse_mrz(text, today=TODAY)


def test_long_document_number_overflow() -> None:
    text = lds_build.build_mrz_td1(
        "AB1234567890123", dt.date(1980, 5, 6), dt.date(2030, 1, 2), "F", "UTO", "X", "Y", None,
        issuing_state="UTO",
    )  # fmt: skip
    assert text[14] == "<"
    mrz = parse_mrz(text, today=TODAY)
    assert mrz.document_number == "AB1234567890123"


@pytest.mark.parametrize("position", [14, 36, 44, 59])
def test_every_check_digit_is_verified(position: int) -> None:
    wrong = str((int(TD1_SPECIMEN[position]) + 1) % 10)
    with pytest.raises(MrzError, match="check digit"):
        parse_mrz(TD1_SPECIMEN[:position] + wrong + TD1_SPECIMEN[position + 1 :], today=TODAY)


@pytest.mark.parametrize("position", [53, 63, 71, 86, 87])
def test_every_td3_check_digit_is_verified(position: int) -> None:
    wrong = str((int(TD3_SPECIMEN[position]) + 1) % 10)
    with pytest.raises(MrzError, match="check digit"):
        parse_mrz(TD3_SPECIMEN[:position] + wrong + TD3_SPECIMEN[position + 1 :], today=TODAY)


def test_birth_century_pivots_on_today() -> None:
    def mrz_born(born: dt.date) -> str:
        return lds_build.build_mrz_td1("X1", born, dt.date(2035, 1, 1), "M", "VNM", "A", "B", None)

    assert parse_mrz(mrz_born(dt.date(2005, 3, 4)), today=TODAY).birth_date == dt.date(2005, 3, 4)
    assert parse_mrz(mrz_born(dt.date(1930, 3, 4)), today=TODAY).birth_date == dt.date(1930, 3, 4)
    # born "261126" seen on 2026-11-25 is in the future this century, so it is 1926
    assert parse_mrz(mrz_born(dt.date(1926, 11, 26)), today=TODAY).birth_date == dt.date(1926, 11, 26)
    assert parse_mrz(mrz_born(dt.date(2026, 11, 25)), today=TODAY).birth_date == dt.date(2026, 11, 25)


def test_impossible_date_is_typed_error() -> None:
    line2 = "7413322F1204159UTO<<<<<<<<<<<"
    bad = TD1_SPECIMEN[:30] + line2[:6] + check_digit(line2[:6]) + line2[7:]
    composite = bad[5:30] + bad[30:37] + bad[38:45] + bad[48:59]
    bad = bad[:59] + check_digit(composite) + TD1_SPECIMEN[60:]
    with pytest.raises(MrzError, match="calendar date"):
        parse_mrz(bad, today=TODAY)


@pytest.mark.parametrize(
    "text", ["", "I<UTO", TD1_SPECIMEN[:-1], TD1_SPECIMEN.lower(), TD1_SPECIMEN[:-1] + "é", TD3_SPECIMEN + "<<"]
)
def test_malformed_mrz_text(text: str) -> None:
    with pytest.raises(MrzError):
        parse_mrz(text, today=TODAY)


def test_dg1_wrong_tag_and_missing_mrz() -> None:
    with pytest.raises(MrzError, match="expected 61"):
        parse_dg1(bytes.fromhex("7503010203"))
    with pytest.raises(TlvError):
        parse_dg1(bytes.fromhex("6103800100"))
    with pytest.raises(MrzError, match="ASCII"):
        parse_dg1(lds_build.build_dg1("x").replace(b"x", b"\xff"))


def test_mask_id() -> None:
    assert mask_id("001099012345") == "0010******45"
    assert mask_id("123456789") == "1*******9"
    assert mask_id("12") == "**"
