"""Encoders for LDS test data: DG1, DG2, DG13, EF.COM and EF.SOD (signed with a ``firmware_bridge.sim.pki`` PKI).

Used by the virtual chip (``firmware_bridge/sim``), the demo and tests. Nothing here runs on a real gate's read path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, ParamSpec

from asn1crypto import core

from edge.identity import tlv
from edge.identity.mrz import check_digit
from edge.identity.sod import LDS_SECURITY_OBJECT_OID, DataGroupHash, LdsSecurityObject, LdsVersionInfo
from firmware_bridge.sim.pki import HASHES, LdsBuildError, TestPki, build_signed_data

DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
DG13_OID = "1.0.10646.1.0.8"
_P = ParamSpec("_P")


# ------------------------------------------------------------------ DG1 (MRZ)
def mrz_field(text: str, length: int) -> str:
    """Transliterate to the MRZ alphabet (Vietnamese diacritics dropped, Đ → D), pad with '<', cut to length."""
    text = text.replace("Đ", "D").replace("đ", "d")
    ascii_text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    out = "".join(c if c.isascii() and c.isalnum() else "<" for c in ascii_text.upper())
    return out[:length].ljust(length, "<")


def _yymmdd(value: dt.date) -> str:
    return value.strftime("%y%m%d")


def build_mrz_td1(
    document_number: str,
    birth_date: dt.date,
    expiry_date: dt.date,
    sex: str,
    nationality: str,
    surname: str,
    given_names: str,
    personal_id: str | None,
    *,
    document_code: str = "ID",
    issuing_state: str = "VNM",
) -> str:
    """The 90-character TD1 MRZ. A document number over 9 characters overflows into the optional data."""
    if not document_number or len(document_number) > 22:
        raise LdsBuildError("document number must have 1–22 characters")
    number = mrz_field(document_number, len(document_number))
    if len(number) <= 9:
        number_part = number.ljust(9, "<") + check_digit(number.ljust(9, "<"))
        optional1 = personal_id or ""
    else:
        number_part = number[:9] + "<"
        optional1 = number[9:] + check_digit(number) + "<" + (personal_id or "")
    line1 = mrz_field(document_code, 2) + mrz_field(issuing_state, 3) + number_part + mrz_field(optional1, 15)
    sex_char = {"M": "M", "F": "F"}.get(sex.upper()[:1], "<")
    birth, expiry = _yymmdd(birth_date), _yymmdd(expiry_date)
    line2 = birth + check_digit(birth) + sex_char + expiry + check_digit(expiry) + mrz_field(nationality, 3)
    line2 += "<" * 11
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += check_digit(composite)
    name = mrz_field(surname, len(surname)).rstrip("<") + "<<" + mrz_field(given_names, len(given_names))
    line3 = mrz_field(name.rstrip("<"), 30)
    return line1 + line2 + line3


def build_dg1(mrz: str) -> bytes:
    """DG1 around an MRZ string (any format)."""
    return tlv.encode(0x61, tlv.encode(0x5F1F, mrz.encode("ascii")))


def _in_dg1(build_mrz: Callable[_P, str]) -> Callable[_P, bytes]:
    """A DG1 builder that takes the same arguments as the MRZ builder it wraps."""

    def build(*args: _P.args, **kwargs: _P.kwargs) -> bytes:
        return build_dg1(build_mrz(*args, **kwargs))

    return build


# DG1 of a CCCD: TD1 MRZ (issuing state VNM unless told otherwise), the 12-digit ID in the optional data.
build_dg1_td1 = _in_dg1(build_mrz_td1)


# ------------------------------------------------------------------ DG2 (face)
def build_face_record(image: bytes, image_format: Literal["jpeg", "jpeg2000"], width: int, height: int) -> bytes:
    """An ISO/IEC 19794-5:2005 facial record with one face, no feature points."""
    image_info = struct.pack(
        ">BBHHBBHH",
        1,  # face image type: full frontal
        0 if image_format == "jpeg" else 1,
        width,
        height,
        1,  # colour space: sRGB
        2,  # source: digital still camera
        0,
        0,
    )
    # length, feature points, gender, eye, hair, feature mask (3), expression, pose (3), pose uncertainty (3)
    face_info_length = 20 + len(image_info) + len(image)
    face_info = struct.pack(">IHBBB3sH3s3s", face_info_length, 0, 0, 0, 0, b"\0\0\0", 0, b"\0\0\0", b"\0\0\0")
    header = b"FAC\0" + b"010\0" + struct.pack(">IH", 14 + face_info_length, 1)
    return header + face_info + image_info + image


def build_dg2(image: bytes, image_format: Literal["jpeg", "jpeg2000"], width: int, height: int) -> bytes:
    """DG2: 75 → 7F61 (one instance) → 7F60 → A1 biometric header + 5F2E facial record."""
    if not 0 < width < 65536 or not 0 < height < 65536:
        raise LdsBuildError(f"image size {width}x{height} does not fit a facial record")
    header = b"".join(
        [
            tlv.encode(0x80, b"\x01\x01"),  # patron header version
            tlv.encode(0x81, b"\x02"),  # biometric type: facial features
            tlv.encode(0x87, b"\x01\x01"),  # format owner: ISO/IEC JTC 1/SC 37
            tlv.encode(0x88, b"\x00\x08"),  # format type: face image
        ]
    )
    instance = tlv.encode(
        0x7F60, tlv.encode(0xA1, header) + tlv.encode(0x5F2E, build_face_record(image, image_format, width, height))
    )
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + instance))


# ----------------------------------------------------------- DG13 (Vietnam)
class _Dg13Entry(core.Sequence):  # type: ignore[misc]
    _fields = [("number", core.Integer), ("value", core.Any)]  # noqa: RUF012


class _Dg13Entries(core.SetOf):  # type: ignore[misc]
    _child_spec = _Dg13Entry


class _Dg13Pair(core.SequenceOf):  # type: ignore[misc]
    _child_spec = core.UTF8String


class _Dg13Body(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("oid", core.ObjectIdentifier),
        ("entries", _Dg13Entries),
    ]


def build_dg13(fields: Mapping[int, str | tuple[str, str]]) -> bytes:
    """DG13 (6D): SEQUENCE{1, OID, SET OF SEQUENCE{field number, UTF8String or SEQUENCE of two}}."""
    entries = []
    for number in sorted(fields):
        value = fields[number]
        encoded = core.UTF8String(value) if isinstance(value, str) else _Dg13Pair([value[0], value[1]])
        entries.append(_Dg13Entry({"number": number, "value": core.Any.load(encoded.dump())}))
    body = _Dg13Body({"version": 1, "oid": DG13_OID, "entries": _Dg13Entries(entries)})
    return tlv.encode(0x6D, body.dump())


# -------------------------------------------------------------------- EF.COM
def build_ef_com(dg_tags: Sequence[int]) -> bytes:
    """EF.COM (60): LDS 1.7, Unicode 4.0.0, tag list. Accepts DG tags (0x61…) or DG numbers (1–16)."""
    tags = bytes(DG_TAGS.get(t, t) for t in dg_tags)
    return tlv.encode(0x60, tlv.encode(0x5F01, b"0107") + tlv.encode(0x5F36, b"040000") + tlv.encode(0x5C, tags))


def build_lds_security_object(
    dg_bytes: Mapping[int, bytes], hash_alg: str = "sha256", lds_version: str | None = None
) -> bytes:
    """The DER LDSSecurityObject: hashes of each DG (keyed by DG number); v1 with ``lds_version`` ("0108")."""
    entries = [
        DataGroupHash({"data_group_number": n, "data_group_hash_value": hashlib.new(hash_alg, dg_bytes[n]).digest()})
        for n in sorted(dg_bytes)
    ]
    value: dict[str, object] = {
        "version": 0 if lds_version is None else 1,
        "hash_algorithm": {"algorithm": hash_alg},
        "data_group_hash_values": entries,
    }
    if lds_version is not None:
        value["lds_version_info"] = LdsVersionInfo({"lds_version": lds_version, "unicode_version": "040000"})
    return bytes(LdsSecurityObject(value).dump())


def build_sod(
    dg_bytes: Mapping[int, bytes],
    pki: TestPki,
    hash_alg: str = "sha256",
    *,
    rsa_padding: Literal["pkcs1v15", "pss"] = "pkcs1v15",
    lds_version: str | None = None,
) -> bytes:
    """EF.SOD (77) signed by ``pki``'s DS over the hashes of ``dg_bytes`` (keyed by DG number)."""
    if hash_alg not in HASHES:
        raise LdsBuildError(f"hash algorithm {hash_alg!r} is not one of {sorted(HASHES)}")
    lso = build_lds_security_object(dg_bytes, hash_alg, lds_version)
    content_info = build_signed_data(
        LDS_SECURITY_OBJECT_OID, lso, pki.ds_key, pki.ds_cert, hash_alg=hash_alg, rsa_padding=rsa_padding
    )
    return tlv.encode(0x77, content_info)
