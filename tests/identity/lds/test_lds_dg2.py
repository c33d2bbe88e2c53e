from __future__ import annotations

import io
import struct

import pytest
from PIL import Image

from edge.identity import tlv
from edge.identity.dg2 import Dg2Error, image_format, parse_dg2, parse_face_record
from firmware_bridge.sim import lds_build


def encode_image(fmt: str, size: tuple[int, int] = (48, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 150, 120)).save(out, format=fmt)
    return out.getvalue()


def test_jpeg_round_trip(jpeg_bytes: bytes) -> None:
    face = parse_dg2(lds_build.build_dg2(jpeg_bytes, "jpeg", 48, 64))
    assert face.format == "jpeg"
    assert face.data == jpeg_bytes
    assert (face.width, face.height) == (48, 64)
    assert face.image_data_type == 0
    assert face.faces_in_record == 1
    assert face.record_version == "010"
    assert Image.open(io.BytesIO(face.data)).size == (48, 64)
    assert str(len(jpeg_bytes)) in repr(face)


@pytest.mark.parametrize("pil_format", ["JPEG2000"])
def test_jpeg2000_jp2_round_trip(pil_format: str) -> None:
    jp2 = encode_image(pil_format)
    assert jp2.startswith(b"\x00\x00\x00\x0cjP  ")
    face = parse_dg2(lds_build.build_dg2(jp2, "jpeg2000", 48, 64))
    assert face.format == "jpeg2000"
    assert face.image_data_type == 1
    assert face.data == jp2


def test_raw_j2k_codestream_detected() -> None:
    assert image_format(b"\xff\x4f\xff\x51\x00\x2f") == "jpeg2000"
    assert image_format(b"\xff\xd8\xff\xe0") == "jpeg"
    assert image_format(b"\x89PNG\r\n") is None


def test_feature_points_are_skipped(jpeg_bytes: bytes) -> None:
    record = bytearray(lds_build.build_face_record(jpeg_bytes, "jpeg", 48, 64))
    points = b"".join(struct.pack(">BBHHH", 1, 0x12, 10 * i, 20 * i, 0) for i in range(3))
    # insert 3 feature points after the 20-byte face information block, fix the lengths and counts
    record[34:34] = points
    struct.pack_into(">I", record, 8, len(record))
    struct.pack_into(">IH", record, 14, len(record) - 14, 3)
    face = parse_face_record(bytes(record))
    assert face.feature_points == 3
    assert face.data == jpeg_bytes


def test_not_an_image_is_typed_error() -> None:
    with pytest.raises(Dg2Error, match="neither JPEG nor JPEG 2000"):
        parse_dg2(lds_build.build_dg2(b"\x89PNG\r\n\x1a\n" + bytes(40), "jpeg", 10, 10))


def test_7f2e_block_accepted(jpeg_bytes: bytes) -> None:
    record = lds_build.build_face_record(jpeg_bytes, "jpeg", 48, 64)
    template = tlv.encode(0x7F60, tlv.encode(0x7F2E, record))
    dg2 = tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + template))
    assert parse_dg2(dg2).data == jpeg_bytes


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: b"XYZ\0" + r[4:], "FAC"),
        (lambda r: r[:8] + struct.pack(">I", len(r) + 1) + r[12:], "claims"),
        (lambda r: r[:12] + b"\0\0" + r[14:], "no face"),
        (lambda r: r[:14] + struct.pack(">I", len(r)) + r[18:], "past the end"),
        (lambda r: r[:18] + b"\xff\xff" + r[20:], "feature points"),
        (lambda r: r[:30], "too short"),
    ],
)
def test_broken_records(jpeg_bytes: bytes, mutate: object, message: str) -> None:
    record = lds_build.build_face_record(jpeg_bytes, "jpeg", 48, 64)
    assert callable(mutate)
    with pytest.raises(Dg2Error, match=message):
        parse_face_record(mutate(record))


def test_structure_errors() -> None:
    with pytest.raises(Dg2Error, match="expected 75"):
        parse_dg2(tlv.encode(0x61, b""))
    with pytest.raises(Dg2Error, match="no biometric template"):
        parse_dg2(tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x00"))))
    with pytest.raises(Dg2Error, match="no biometric data block"):
        parse_dg2(tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x7F60, tlv.encode(0xA1, b"")))))
