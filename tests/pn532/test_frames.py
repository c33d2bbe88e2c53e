"""PN532 frame codec: known frames from UM0701, checksums, extended frames, incremental decoding and resync."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_bridge.pn532.errors import FrameChecksumError, FrameError, FrameLengthError
from firmware_bridge.pn532.frames import (
    ACK,
    ERROR_FRAME,
    NACK,
    TFI_HOST,
    TFI_PN532,
    Frame,
    FrameDecoder,
    checksum,
    encode_command,
    encode_info,
    encode_response,
)


@pytest.mark.parametrize(
    ("command", "params", "expected"),
    [
        (0x02, b"", "0000ff02fed4022a00"),  # GetFirmwareVersion
        (0x14, bytes([1, 0, 0]), "0000ff05fbd41401000017" + "00"),  # SAMConfiguration, normal mode
        (0x4A, bytes([1, 0]), "0000ff04fcd44a0100e100"),  # InListPassiveTarget 106 kbps Type A
    ],
)
def test_encode_matches_the_user_manual(command: int, params: bytes, expected: str) -> None:
    assert encode_command(command, params) == bytes.fromhex(expected)


def decode_all(data: bytes) -> list[Frame]:
    decoder = FrameDecoder()
    decoder.feed(data)
    return decoder.pop_all()


def test_checksum_zeroes_the_sum() -> None:
    for data in (b"", b"\x00", b"\xd4\x02", bytes(range(256))):
        assert (sum(data) + checksum(data)) & 0xFF == 0


def test_ack_nack_and_error_frames() -> None:
    assert decode_all(ACK + NACK + ERROR_FRAME) == [Frame("ack"), Frame("nack"), Frame("error")]


def test_response_frame_round_trip() -> None:
    frame = decode_all(encode_response(0x02, bytes([0x32, 1, 6, 7])))
    assert frame == [Frame("info", tfi=TFI_PN532, body=bytes([0x03, 0x32, 1, 6, 7]))]


@pytest.mark.parametrize("size", [253, 254, 255, 262, 265, 500])
def test_extended_frames_above_254_bytes(size: int) -> None:
    body = bytes(i & 0xFF for i in range(size))
    encoded = encode_info(TFI_HOST, body)
    assert (encoded[3:5] == b"\xff\xff") is (size + 1 > 254)
    assert decode_all(encoded) == [Frame("info", tfi=TFI_HOST, body=body, extended=size + 1 > 254)]


def test_forced_extended_frame_for_short_payload() -> None:
    encoded = encode_info(TFI_HOST, b"\x02", extended=True)
    assert encoded[:8] == bytes.fromhex("0000ffffff0002fe")
    assert decode_all(encoded)[0].body == b"\x02"


def test_payload_too_large_is_refused() -> None:
    with pytest.raises(FrameLengthError):
        encode_info(TFI_HOST, b"\x00" * 0x10000)
    with pytest.raises(FrameLengthError):
        encode_info(TFI_HOST, b"\x00" * 300, extended=False)


def test_byte_by_byte_feeding() -> None:
    stream = ACK + encode_response(0x40, b"\x00" + bytes(300)) + encode_response(0x4A, b"\x00")
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for byte in stream:
        decoder.feed(bytes([byte]))
        frames.extend(decoder.pop_all())
    assert [f.kind for f in frames] == ["ack", "info", "info"]
    assert frames[1].body == b"\x41\x00" + bytes(300)
    assert frames[2].body == b"\x4b\x00"
    assert decoder.pending <= 1  # a trailing 00 is kept: it may start the next start code


def test_garbage_before_a_frame_is_skipped() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"\x55\x55\x13\x37\xff\x00" + ACK)
    assert decoder.pop() == Frame("ack")
    assert decoder.garbage_bytes == 6  # the 00 just before the start code is a preamble, not garbage


def test_bad_lcs_raises_then_resyncs() -> None:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex("0000ff05070102") + ACK)
    with pytest.raises(FrameChecksumError) as info:
        decoder.pop()
    assert info.value.code == "E_PN532_FRAME_CHECKSUM"
    assert decoder.pop() == Frame("ack")


def test_bad_dcs_raises_then_resyncs() -> None:
    good = encode_response(0x02, b"\x32\x01\x06\x07")
    bad = bytearray(good)
    bad[-3] ^= 0x01
    decoder = FrameDecoder()
    decoder.feed(bytes(bad) + good)
    with pytest.raises(FrameChecksumError, match="data checksum"):
        decoder.pop()
    assert decoder.pop() == Frame("info", tfi=TFI_PN532, body=b"\x03\x32\x01\x06\x07")


def test_bad_extended_length_checksum() -> None:
    decoder = FrameDecoder()
    decoder.feed(bytes.fromhex("0000ffffff010000") + ACK)
    with pytest.raises(FrameChecksumError):
        decoder.pop()
    assert decoder.pop() == Frame("ack")


def test_impossible_extended_length_is_not_awaited() -> None:
    decoder = FrameDecoder()
    length = bytes([0x7F, 0xFF])
    decoder.feed(b"\x00\x00\xff\xff\xff" + length + bytes([checksum(length)]) + ACK)
    with pytest.raises(FrameLengthError) as info:
        decoder.pop()
    assert info.value.code == "E_PN532_FRAME_LENGTH"
    assert decoder.pop() == Frame("ack")


def test_short_frames_are_rejected() -> None:
    # LEN 1 with TFI D5 and no command code
    lone_tfi = bytes.fromhex("0000ff01ffd52b00")
    with pytest.raises(FrameLengthError, match="too short"):
        decode_all(lone_tfi)
    # LEN 0 that is not an ACK: 00 00 FF 00 00
    with pytest.raises(FrameLengthError):
        decode_all(bytes.fromhex("0000ff000000"))


def test_incomplete_frame_waits_for_more() -> None:
    decoder = FrameDecoder()
    frame = encode_response(0x40, b"\x00\x90\x00")
    decoder.feed(frame[:-3])
    assert decoder.pop() is None
    assert decoder.pending == len(frame) - 4  # the preamble byte is consumed, the rest held
    decoder.feed(frame[-3:])
    assert decoder.pop() is not None


def test_split_start_code_survives() -> None:
    decoder = FrameDecoder()
    decoder.feed(b"\x99\x00")
    assert decoder.pop() is None
    decoder.feed(ACK[2:])
    assert decoder.pop() == Frame("ack")


def test_false_start_code_after_a_postamble_recovers() -> None:
    first, second = encode_response(0x4A, b"\x00"), encode_response(0x02, b"\x32\x01\x06\x07")
    decoder = FrameDecoder()
    frames: list[Frame] = []
    errors = 0
    for byte in first + b"\xff\x01" + second:  # postamble 00 + noise FF = a false start code
        decoder.feed(bytes([byte]))
        while True:
            try:
                frame = decoder.pop()
            except FrameError:
                errors += 1
                continue
            if frame is None:
                break
            frames.append(frame)
    assert [f.body for f in frames] == [b"\x4b\x00", b"\x03\x32\x01\x06\x07"]
    assert errors == 1


def test_errors_are_frame_errors_with_remedy() -> None:
    with pytest.raises(FrameError) as info:
        decode_all(bytes.fromhex("0000ff05070102"))
    assert info.value.remedy


bodies = st.binary(min_size=1, max_size=600)
# Noise with no 00 byte that does not start with FF cannot form a start code, not even with the postamble 00
# of the frame before it; noise that can is covered by the resync tests above (it raises, then recovers).
noise = st.binary(max_size=40).filter(lambda b: b"\x00" not in b and not b.startswith(b"\xff"))


@given(st.lists(st.tuples(noise, bodies), min_size=1, max_size=5), st.integers(min_value=1, max_value=64))
def test_frames_survive_noise_and_any_chunking(items: list[tuple[bytes, bytes]], chunk: int) -> None:
    stream = b"".join(junk + encode_info(TFI_PN532, body) for junk, body in items)
    decoder = FrameDecoder()
    frames: list[Frame] = []
    for i in range(0, len(stream), chunk):
        decoder.feed(stream[i : i + chunk])
        frames.extend(decoder.pop_all())
    assert [f.body for f in frames] == [body for _, body in items]
    assert decoder.garbage_bytes >= sum(len(junk) for junk, _ in items)
