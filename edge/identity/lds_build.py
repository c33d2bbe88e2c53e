"""Encoders for LDS test data: DG1, DG2, DG13, EF.COM, EF.SOD and a throw-away CSCA/DS PKI.

Used by the virtual chip (``firmware_bridge/sim``) and by tests. Nothing here runs on a real gate's read path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from asn1crypto import algos, cms, core, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from edge.errors import ExamGateError
from edge.identity import tlv
from edge.identity.mrz import check_digit
from edge.identity.sod import LDS_SECURITY_OBJECT_OID, DataGroupHash, LdsSecurityObject, LdsVersionInfo
from edge.identity.trust_store import CSCA_MASTER_LIST_OID, CscaMasterList

DG_TAGS: dict[int, int] = {
    1: 0x61, 2: 0x75, 3: 0x63, 4: 0x76, 5: 0x65, 6: 0x66, 7: 0x67, 8: 0x68,
    9: 0x69, 10: 0x6A, 11: 0x6B, 12: 0x6C, 13: 0x6D, 14: 0x6E, 15: 0x6F, 16: 0x70,
}  # fmt: skip
DG13_OID = "1.0.10646.1.0.8"
Curve = Literal["P-256", "P-384", "brainpoolP256r1", "brainpoolP384r1"]
_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "brainpoolP256r1": ec.BrainpoolP256R1(),
    "brainpoolP384r1": ec.BrainpoolP384R1(),
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 - old SODs use it; we must be able to build them for tests
    "sha224": hashes.SHA224(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class LdsBuildError(ExamGateError):
    code = "E_LDS_BUILD_INVALID"
    remedy = "fix the identity data given to the builder (see the message)"


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


def build_dg1_td1(
    document_number: str,
    birth_date: dt.date,
    expiry_date: dt.date,
    sex: str,
    nationality: str,
    surname: str,
    given_names: str,
    personal_id: str | None,
) -> bytes:
    """DG1 of a CCCD: TD1 MRZ, issuing state VNM, the 12-digit ID in the optional data."""
    mrz = build_mrz_td1(document_number, birth_date, expiry_date, sex, nationality, surname, given_names, personal_id)
    return build_dg1(mrz)


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


# ----------------------------------------------------------------------- PKI
@dataclass(frozen=True)
class TestPki:
    """A throw-away country signing CA (CSCA) and a document signer (DS) it issued."""

    __test__ = False  # not a pytest test class

    csca_key: PrivateKey
    csca_cert: cx509.Certificate
    ds_key: PrivateKey
    ds_cert: cx509.Certificate

    @property
    def csca_pem(self) -> bytes:
        return self.csca_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def ds_pem(self) -> bytes:
        return self.ds_cert.public_bytes(serialization.Encoding.PEM)


def _new_key(key_type: Literal["ec", "rsa"], curve: Curve) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(_CURVES[curve])


def _cert_hash(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


def make_certificate(
    subject: cx509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issuer: cx509.Name,
    issuer_key: PrivateKey,
    *,
    ca: bool,
    not_before: dt.datetime,
    not_after: dt.datetime,
    serial: int | None = None,
) -> cx509.Certificate:
    """One X.509 v3 certificate with the extensions ICAO 9303-12 expects of a CSCA or a DS."""
    usage_ca = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    usage = cx509.KeyUsage(**{**usage_ca, "digital_signature": not ca}, key_cert_sign=ca, crl_sign=ca)
    builder = (
        cx509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(serial or cx509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(cx509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(cx509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(cx509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, _cert_hash(issuer_key))


def make_test_pki(
    country: str = "VN",
    *,
    curve: Curve = "P-256",
    key_type: Literal["ec", "rsa"] = "ec",
    csca: tuple[PrivateKey, cx509.Certificate] | None = None,
    ds_not_before: dt.datetime | None = None,
    ds_not_after: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> TestPki:
    """Generate a CSCA (or reuse ``csca``) and a DS it signs. Keys are ECDSA on ``curve`` unless ``key_type="rsa"``."""
    moment = now or dt.datetime.now(dt.UTC)
    if csca is None:
        csca_key = _new_key(key_type, curve)
        csca_name = cx509.Name(
            [
                cx509.NameAttribute(NameOID.COUNTRY_NAME, country),
                cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "ExamGate test PKI"),
                cx509.NameAttribute(NameOID.COMMON_NAME, f"CSCA {country} test"),
            ]
        )
        csca_cert = make_certificate(
            csca_name,
            csca_key.public_key(),
            csca_name,
            csca_key,
            ca=True,
            not_before=moment - dt.timedelta(days=365),
            not_after=moment + dt.timedelta(days=15 * 365),
        )
    else:
        csca_key, csca_cert = csca
    ds_key = _new_key(key_type, curve)
    ds_name = cx509.Name(
        [
            cx509.NameAttribute(NameOID.COUNTRY_NAME, country),
            cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "ExamGate test PKI"),
            cx509.NameAttribute(NameOID.COMMON_NAME, f"DS {country} test"),
        ]
    )
    ds_cert = make_certificate(
        ds_name,
        ds_key.public_key(),
        csca_cert.subject,
        csca_key,
        ca=False,
        not_before=ds_not_before or moment - dt.timedelta(days=30),
        not_after=ds_not_after or moment + dt.timedelta(days=10 * 365),
    )
    return TestPki(csca_key, csca_cert, ds_key, ds_cert)


# --------------------------------------------------------------------- CMS
def _sign(
    key: PrivateKey, data: bytes, hash_alg: str, rsa_padding: Literal["pkcs1v15", "pss"]
) -> tuple[bytes, algos.SignedDigestAlgorithm]:
    digest = _HASHES[hash_alg]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(digest)), algos.SignedDigestAlgorithm({"algorithm": f"{hash_alg}_ecdsa"})
    if rsa_padding == "pss":
        signature = key.sign(data, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size), digest)
        params = algos.RSASSAPSSParams(
            {
                "hash_algorithm": {"algorithm": hash_alg},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_alg}},
                "salt_length": digest.digest_size,
            }
        )
        return signature, algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": params})
    return key.sign(data, padding.PKCS1v15(), digest), algos.SignedDigestAlgorithm({"algorithm": f"{hash_alg}_rsa"})


def build_signed_data(
    econtent_type: str,
    econtent: bytes,
    signer_key: PrivateKey,
    signer_cert: cx509.Certificate,
    *,
    hash_alg: str = "sha256",
    rsa_padding: Literal["pkcs1v15", "pss"] = "pkcs1v15",
    include_certificate: bool = True,
) -> bytes:
    """CMS ContentInfo(SignedData) over ``econtent`` with signed attributes contentType + messageDigest."""
    if hash_alg not in _HASHES:
        raise LdsBuildError(f"hash algorithm {hash_alg!r} is not one of {sorted(_HASHES)}")
    cert = x509.Certificate.load(signer_cert.public_bytes(serialization.Encoding.DER))
    attrs = cms.CMSAttributes(
        [
            cms.CMSAttribute({"type": "content_type", "values": [econtent_type]}),
            cms.CMSAttribute({"type": "message_digest", "values": [hashlib.new(hash_alg, econtent).digest()]}),
        ]
    )
    signature, signature_algorithm = _sign(signer_key, attrs.dump(), hash_alg, rsa_padding)
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.issuer,
                        "serial_number": cert.serial_number,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": hash_alg},
            "signed_attrs": attrs,
            "signature_algorithm": signature_algorithm,
            "signature": signature,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": hash_alg}],
            "encap_content_info": {
                "content_type": econtent_type,
                "content": core.ParsableOctetString(econtent),
            },
            "certificates": [cert] if include_certificate else None,
            "signer_infos": [signer],
        }
    )
    if not include_certificate:
        del signed["certificates"]
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


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
    if hash_alg not in _HASHES:
        raise LdsBuildError(f"hash algorithm {hash_alg!r} is not one of {sorted(_HASHES)}")
    lso = build_lds_security_object(dg_bytes, hash_alg, lds_version)
    content_info = build_signed_data(
        LDS_SECURITY_OBJECT_OID, lso, pki.ds_key, pki.ds_cert, hash_alg=hash_alg, rsa_padding=rsa_padding
    )
    return tlv.encode(0x77, content_info)


def build_master_list(
    cscas: Sequence[cx509.Certificate], signer_key: PrivateKey, signer_cert: cx509.Certificate
) -> bytes:
    """An ICAO CSCA master list: CMS SignedData over CscaMasterList{version 0, SET OF Certificate}."""
    certs = [x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in cscas]
    body = CscaMasterList({"version": 0, "cert_list": certs})
    return build_signed_data(CSCA_MASTER_LIST_OID, bytes(body.dump()), signer_key, signer_cert)
