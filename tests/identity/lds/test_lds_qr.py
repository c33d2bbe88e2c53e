from __future__ import annotations

import argparse
import datetime as dt
import json
import unicodedata

import pytest

from edge.identity.cli import register
from edge.identity.qr import QrError, parse_qr

SEVEN = "001099012345|123456789|Nguyễn Văn An|01011999|Nam|Phường 1, Quận 3, TP HCM|15072021"


def test_seven_fields() -> None:
    qr = parse_qr(SEVEN)
    assert qr.id_number == "001099012345"
    assert qr.old_id_number == "123456789"
    assert qr.can == "012345"
    assert qr.full_name == "Nguyễn Văn An"
    assert qr.birth_date == dt.date(1999, 1, 1)
    assert qr.sex == "Nam"
    assert qr.address == "Phường 1, Quận 3, TP HCM"
    assert qr.issue_date == dt.date(2021, 7, 15)
    assert qr.extra == ()
    assert qr.masked_id == "0010******45"
    assert "001099012345" not in repr(qr)


def test_bom_six_fields_and_extra() -> None:
    six = "\ufeff001099012345|Trần Thị B|29022000|Nữ|Hà Nội|01022022\r\n"
    qr = parse_qr(six)
    assert qr.old_id_number is None
    assert qr.birth_date == dt.date(2000, 2, 29)
    assert qr.full_name == "Trần Thị B"
    extra = parse_qr(SEVEN + "|X|2024")
    assert extra.extra == ("X", "2024")
    assert parse_qr(SEVEN.replace("|123456789|", "||")).old_id_number is None


def test_trailing_separator_and_six_fields_with_extra() -> None:
    assert parse_qr(SEVEN + "|").extra == ()
    six_extra = "001099012345|Trần Thị B|29022000|Nữ|Hà Nội|01022022|X"
    qr = parse_qr(six_extra)
    assert (qr.old_id_number, qr.full_name, qr.extra) == (None, "Trần Thị B", ("X",))
    assert qr.issue_date == dt.date(2022, 2, 1)
    assert parse_qr("001099012345|Trần Thị B|29022000|Nữ|Hà Nội|01022022|").extra == ()


def test_nfd_input_is_normalised() -> None:
    qr = parse_qr(unicodedata.normalize("NFD", SEVEN))
    assert qr.full_name == "Nguyễn Văn An"
    assert qr.address == "Phường 1, Quận 3, TP HCM"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("001099012345|Nam", "fields"),
        ("", "fields"),
        ("00109901234|123456789|A|01011999|Nam|x|15072021", "12-digit"),
        ("００１０９９０１２３４５|123456789|A|01011999|Nam|x|15072021", "12-digit"),
        ("001099012345|12345|A|01011999|Nam|x|15072021", "CMND"),
        ("001099012345|123456789||01011999|Nam|x|15072021", "name"),
        ("001099012345|123456789|A|31021999|Nam|x|15072021", "calendar date"),
        ("001099012345|123456789|A|1999-01-01|Nam|x|15072021", "ddmmyyyy"),
        ("001099012345|123456789|A|01011999|Nam|x|", "date of issue"),
    ],
)
def test_invalid(text: str, message: str) -> None:
    with pytest.raises(QrError, match=message) as info:
        parse_qr(text)
    assert info.value.code == "E_QR_INVALID"
    assert "rescan" in info.value.remedy


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="examgate")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    result = args.func(args)
    assert isinstance(result, int)
    return result


def test_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["qr", "parse", SEVEN, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "id_number": "001099012345",
        "old_id_number": "123456789",
        "can": "012345",
        "full_name": "Nguyễn Văn An",
        "birth_date": "1999-01-01",
        "sex": "Nam",
        "address": "Phường 1, Quận 3, TP HCM",
        "issue_date": "2021-07-15",
        "extra": [],
    }


def test_cli_text_and_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["qr", "parse", SEVEN]) == 0
    text = capsys.readouterr().out
    assert "012345" in text
    assert "Nguyễn Văn An" in text
    assert _run(["qr", "parse", "nonsense"]) == 2
    assert "E_QR_INVALID" in capsys.readouterr().err
    assert _run(["qr", "parse", "nonsense", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "E_QR_INVALID"
