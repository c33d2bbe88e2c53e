"""Transport status words: 61xx (GET RESPONSE loop) and 6Cxx (re-issue with the right Le), bounded."""

from __future__ import annotations

import pytest

from edge.identity.emrtd.apdu import CommandApdu, transceive
from edge.identity.emrtd.errors import ChipStatusError, WrongLengthError

H = bytes.fromhex


class Scripted:
    def __init__(self, answers: dict[bytes, list[bytes]]) -> None:
        self.answers = answers
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.answers[apdu].pop(0)


def test_get_response_loop() -> None:
    channel = Scripted(
        {
            H("00B0000000"): [H("0102") + H("6104")],
            H("00C0000004"): [H("03040506") + H("6102")],
            H("00C0000002"): [H("0708") + H("9000")],
        }
    )
    response = transceive(channel, CommandApdu(0, 0xB0, 0, 0, b"", 256))
    assert response.data == H("0102030405060708")
    assert response.sw == 0x9000
    assert len(channel.sent) == 3


def test_6cxx_reissues_with_le() -> None:
    channel = Scripted({H("00B0000010"): [H("6C05")], H("00B0000005"): [H("1122334455") + H("9000")]})
    response = transceive(channel, CommandApdu(0, 0xB0, 0, 0, b"", 16))
    assert response.data == H("1122334455")


def test_6cxx_twice_is_typed() -> None:
    channel = Scripted({H("00B0000010"): [H("6C05")], H("00B0000005"): [H("6C04")]})
    with pytest.raises(WrongLengthError):
        transceive(channel, CommandApdu(0, 0xB0, 0, 0, b"", 16))


def test_endless_61xx_is_bounded() -> None:
    class Endless:
        count = 0

        def transmit(self, apdu: bytes) -> bytes:
            self.count += 1
            return H("AA6101")

    channel = Endless()
    with pytest.raises(ChipStatusError):
        transceive(channel, CommandApdu(0, 0xB0, 0, 0, b"", 256))
    assert channel.count < 100
