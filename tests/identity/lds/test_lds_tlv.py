"""Lying lengths and other malformed BER-TLV: every case must end in TlvError, never an IndexError or a hang."""

from __future__ import annotations

import pytest

from edge.identity import tlv
from edge.identity.tlv import TlvError


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bytes.fromhex("5F1F05414243"), "claims 5 bytes"),  # length > data
        (bytes.fromhex("6182FFFF00"), "claims 65535 bytes"),
        (bytes.fromhex("6184FFFFFFFF00"), "claims"),  # 4-byte length, far past the end
        (bytes.fromhex("61850100000000"), "5 octets"),  # 5-byte length
        (bytes.fromhex("61FF"), "127 octets"),
        (bytes.fromhex("6180"), "indefinite"),
        (bytes.fromhex("6182"), "runs past the end"),  # length octets missing
        (bytes.fromhex("5F"), "runs past the end"),  # multi-byte tag cut short
        (bytes.fromhex("5F8181818101"), "longer than 4 bytes"),
        (b"", "data ends"),
        (bytes.fromhex("61"), "data ends"),
    ],
)
def test_lying_headers(data: bytes, message: str) -> None:
    with pytest.raises(TlvError, match=message):
        tlv.decode(data)


def test_nested_overflow() -> None:
    # the outer TLV is honest (4 bytes), the inner claims 10
    outer = tlv.decode(bytes.fromhex("6104" + "5F1F0A41"))
    with pytest.raises(TlvError, match="claims 10 bytes"):
        outer.children()
    with pytest.raises(TlvError):
        outer.find(0x5F1F)


def test_trailing_garbage_vs_padding() -> None:
    assert tlv.decode(bytes.fromhex("8001AA0000FF")).value == b"\xaa"
    with pytest.raises(TlvError, match="unexpected bytes"):
        tlv.decode(bytes.fromhex("8001AA01"))


def test_primitive_has_no_children() -> None:
    with pytest.raises(TlvError, match="primitive"):
        tlv.decode(bytes.fromhex("8001AA")).children()


def test_require_missing() -> None:
    with pytest.raises(TlvError, match="missing"):
        tlv.decode(bytes.fromhex("6103800100")).require(0x5F1F)


@pytest.mark.parametrize("length", [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0xFFFF, 0x10000])
def test_length_round_trip(length: int) -> None:
    encoded = tlv.encode(0x5F2E, bytes(length))
    tag, constructed, offset, value_length = tlv.decode_header(encoded)
    assert offset == len(encoded) - length
    assert (tag, constructed, value_length) == (0x5F2E, False, length)
    assert tlv.decode(encoded).value == bytes(length)


def test_encode_rejects_negative_and_huge() -> None:
    with pytest.raises(TlvError):
        tlv.encode_length(-1)
    with pytest.raises(TlvError):
        tlv.encode_length(1 << 32)
    with pytest.raises(TlvError):
        tlv.encode_tag(-1)
