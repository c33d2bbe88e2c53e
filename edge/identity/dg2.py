"""EF.DG2: the chip's face photo. 75 → 7F61 → 7F60 → 5F2E/7F2E → ISO/IEC 19794-5 record → JPEG or JPEG 2000."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from edge.errors import ExamGateError
from edge.identity import tlv

DG2_TAG = 0x75
BIOMETRIC_GROUP_TAG = 0x7F61
BIOMETRIC_TEMPLATE_TAG = 0x7F60
BIOMETRIC_DATA_TAGS = (0x5F2E, 0x7F2E)
RECORD_HEADER_BYTES = 14
FACE_INFO_BYTES = 20
FEATURE_POINT_BYTES = 8
IMAGE_INFO_BYTES = 12

_JPEG_MAGIC = b"\xff\xd8"
_JP2_MAGIC = b"\x00\x00\x00\x0cjP  "
_J2K_MAGIC = b"\xff\x4f\xff\x51"


class Dg2Error(ExamGateError):
    code = "E_CHIP_DG2_INVALID"
    remedy = "the chip's face photo cannot be read; send the candidate to the proctor for a manual check"


@dataclass(frozen=True)
class FaceImage:
    """The first face image of DG2, with the facial record's declared properties."""

    format: Literal["jpeg", "jpeg2000"]
    data: bytes
    width: int
    height: int
    face_image_type: int  # 0 basic, 1 full frontal, 2 token frontal
    image_data_type: int  # as declared: 0 JPEG, 1 JPEG 2000
    colour_space: int
    source_type: int
    feature_points: int
    gender: int
    expression: int
    record_version: str
    faces_in_record: int

    def __repr__(self) -> str:  # never dump biometric bytes into a log
        return f"FaceImage({self.format}, {self.width}x{self.height}, {len(self.data)} bytes)"


def image_format(data: bytes) -> Literal["jpeg", "jpeg2000"] | None:
    """Recognise JPEG or JPEG 2000 (JP2 box file or raw J2K codestream) by magic bytes."""
    if data.startswith(_JPEG_MAGIC):
        return "jpeg"
    if data.startswith((_JP2_MAGIC, _J2K_MAGIC)):
        return "jpeg2000"
    return None


def parse_face_record(record: bytes) -> FaceImage:
    """Parse an ISO/IEC 19794-5 facial record and return its first face image."""
    if len(record) < RECORD_HEADER_BYTES + FACE_INFO_BYTES + IMAGE_INFO_BYTES:
        raise Dg2Error(f"facial record of {len(record)} bytes is too short")
    if record[:4] != b"FAC\0":
        raise Dg2Error("biometric data is not an ISO 19794-5 facial record (no 'FAC' header)")
    version = record[4:8].rstrip(b"\0").decode("ascii", errors="replace")
    record_length, faces = struct.unpack(">IH", record[8:14])
    if record_length > len(record) or record_length < RECORD_HEADER_BYTES:
        raise Dg2Error(f"facial record claims {record_length} bytes but holds {len(record)}")
    if faces < 1:
        raise Dg2Error("facial record holds no face")
    pos = RECORD_HEADER_BYTES
    block_length, points, gender, _eye, _hair, _mask, expression = struct.unpack(">IHBBB3sH", record[pos : pos + 14])
    block_end = pos + block_length
    if block_end > record_length:
        raise Dg2Error(f"face block claims {block_length} bytes, past the end of the record")
    pos += FACE_INFO_BYTES + points * FEATURE_POINT_BYTES
    if pos + IMAGE_INFO_BYTES > block_end:
        raise Dg2Error(f"{points} feature points leave no room for the image information")
    face_type, data_type, width, height, colour, source = struct.unpack(">BBHHBB", record[pos : pos + 8])
    image = record[pos + IMAGE_INFO_BYTES : block_end]
    detected = image_format(image)
    if detected is None:
        raise Dg2Error("the face image in DG2 is neither JPEG nor JPEG 2000")
    return FaceImage(
        format=detected,
        data=bytes(image),
        width=width,
        height=height,
        face_image_type=face_type,
        image_data_type=data_type,
        colour_space=colour,
        source_type=source,
        feature_points=points,
        gender=gender,
        expression=expression,
        record_version=version,
        faces_in_record=faces,
    )


def parse_dg2(data: bytes) -> FaceImage:
    """Parse EF.DG2 and return the first face image."""
    outer = tlv.decode(data)
    if outer.tag != DG2_TAG:
        raise Dg2Error(f"DG2 starts with tag {outer.tag:X}, expected 75")
    group = outer.require(BIOMETRIC_GROUP_TAG)
    for template in group.children():
        if template.tag != BIOMETRIC_TEMPLATE_TAG:
            continue
        for child in template.children():
            if child.tag in BIOMETRIC_DATA_TAGS:
                return parse_face_record(child.value)
        raise Dg2Error("biometric template in DG2 holds no biometric data block (5F2E/7F2E)")
    raise Dg2Error("DG2 holds no biometric template (7F60)")
