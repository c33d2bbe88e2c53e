"""EF.SOD: the CMS SignedData that carries the LDS Security Object (ICAO 9303-10 §4.6.2, 9303-12 §4.6).

``parse_sod`` only decodes; the checks live in ``passive_auth``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import ecdsa
import ecdsa.curves
import ecdsa.der
import ecdsa.errors
import ecdsa.util
from asn1crypto import algos, cms, core, x509
from cryptography import x509 as cx509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from edge.errors import ExamGateError
from edge.identity import tlv

_T = TypeVar("_T")
SOD_TAG = 0x77
LDS_SECURITY_OBJECT_OID = "2.23.136.1.1.1"

# asn1crypto raises these (and nothing else we know of) on malformed DER.
ASN1_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OverflowError,
    AttributeError,
    UnicodeDecodeError,
)

# What cryptography raises on a malformed or odd certificate when loading or inspecting it.
CERT_ERRORS: tuple[type[Exception], ...] = (
    ValueError,
    UnsupportedAlgorithm,
    cx509.InvalidVersion,
    cx509.DuplicateExtension,
    cx509.UnsupportedGeneralNameType,
)
_ECDSA_KEY_ERRORS: tuple[type[Exception], ...] = (
    ecdsa.der.UnexpectedDER,
    ecdsa.curves.UnknownCurveError,
    ecdsa.errors.MalformedPointError,
    ValueError,
    TypeError,
    ArithmeticError,
)


class SodError(ExamGateError):
    code = "E_CHIP_SOD_INVALID"
    remedy = "EF.SOD on the card does not parse; tap the card again, and if it repeats check the card by hand"


class DataGroupHash(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("data_group_number", core.Integer),
        ("data_group_hash_value", core.OctetString),
    ]


class DataGroupHashValues(core.SequenceOf):  # type: ignore[misc]
    _child_spec = DataGroupHash


class LdsVersionInfo(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("lds_version", core.PrintableString),
        ("unicode_version", core.PrintableString),
    ]


class LdsSecurityObject(core.Sequence):  # type: ignore[misc]
    _fields = [  # noqa: RUF012
        ("version", core.Integer),
        ("hash_algorithm", algos.DigestAlgorithm),
        ("data_group_hash_values", DataGroupHashValues),
        ("lds_version_info", LdsVersionInfo, {"optional": True}),
    ]


@dataclass(frozen=True)
class Sod:
    """Decoded EF.SOD. ``signed_data`` and friends are asn1crypto objects for ``passive_auth``."""

    raw: bytes
    hash_algorithm: str  # hashlib name, e.g. "sha256"
    dg_hashes: dict[int, bytes]
    lds_version: str | None
    econtent: bytes  # the DER of the LDSSecurityObject, as signed
    econtent_type: str
    certificates: tuple[x509.Certificate, ...]
    signer_infos: tuple[cms.SignerInfo, ...]
    signed_data: cms.SignedData


def _hash_name(algorithm: Any) -> str:
    name = algorithm["algorithm"].native
    if not isinstance(name, str) or name not in HASHES:
        raise SodError(f"unsupported hash algorithm {name!r} in EF.SOD")
    return name


def parse_tagged(
    data: bytes, tag: int, parse: Callable[[bytes], _T], error: type[ExamGateError], name: str, structure: str
) -> _T:
    """``parse`` applied to the body of the TLV ``data``, whose tag must be ``tag``. A wrong tag, or a body that is
    malformed DER (``ASN1_ERRORS``), raises ``error`` naming the file (``name``) and what it should hold."""
    outer = tlv.decode(data)
    if outer.tag != tag:
        raise error(f"{name} starts with tag {outer.tag:X}, expected {tag:X}")
    try:
        return parse(outer.value)
    except ASN1_ERRORS as exc:
        raise error(f"{name} is not {structure}: {exc}") from exc


def parse_sod(data: bytes) -> Sod:
    """Decode EF.SOD (tag 77 around a CMS ContentInfo) into hashes, certificates and signer infos."""
    return parse_tagged(
        data, SOD_TAG, lambda body: _parse_content_info(data, body), SodError, "EF.SOD", "valid CMS SignedData"
    )


def _parse_content_info(raw: bytes, der: bytes) -> Sod:
    info = cms.ContentInfo.load(der, strict=True)
    if info["content_type"].native != "signed_data":
        raise SodError(f"EF.SOD holds {info['content_type'].native!r}, expected signed data")
    signed = info["content"]
    encap = signed["encap_content_info"]
    econtent_type = encap["content_type"].dotted
    if econtent_type != LDS_SECURITY_OBJECT_OID:
        raise SodError(f"EF.SOD signs content type {econtent_type}, expected the LDS security object")
    content = encap["content"]
    if not isinstance(content, core.OctetString | core.ParsableOctetString):
        raise SodError("EF.SOD has no encapsulated LDS security object")
    econtent = bytes(content.native if isinstance(content.native, bytes) else content.contents)
    lso = LdsSecurityObject.load(econtent, strict=True)
    hashes: dict[int, bytes] = {}
    for entry in lso["data_group_hash_values"]:
        number = entry["data_group_number"].native
        if not isinstance(number, int) or not 1 <= number <= 16:
            raise SodError(f"EF.SOD names data group {number!r}; valid numbers are 1–16")
        if number in hashes:
            raise SodError(f"EF.SOD lists data group {number} twice")
        hashes[number] = bytes(entry["data_group_hash_value"].native)
    version_info = lso["lds_version_info"]
    lds_version = None if isinstance(version_info, core.Void) else str(version_info["lds_version"].native)
    certificates = tuple(
        choice.chosen for choice in signed["certificates"] or [] if isinstance(choice.chosen, x509.Certificate)
    )
    signer_infos = tuple(signed["signer_infos"])
    if not signer_infos:
        raise SodError("EF.SOD has no signer info")
    # Touch everything passive_auth will use so that malformed DER fails here, as a SodError.
    for signer in signer_infos:
        _ = signer["sid"].native, signer["digest_algorithm"].native, signer["signature_algorithm"].native
        _ = signer["signed_attrs"].native, signer["signature"].native
    for cert in certificates:
        _ = cert.native
    return Sod(
        raw=bytes(raw),
        hash_algorithm=_hash_name(lso["hash_algorithm"]),
        dg_hashes=hashes,
        lds_version=lds_version,
        econtent=econtent,
        econtent_type=econtent_type,
        certificates=certificates,
        signer_infos=signer_infos,
        signed_data=signed,
    )


# ------------------------------------------------------------ signature check
HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),  # noqa: S303 - early SODs are signed with it
    "sha224": hashes.SHA224(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
# BSI TR-03111 ecdsa-plain-SHA* (r || s instead of DER), used by some issuers.
_ECDSA_PLAIN = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}


def _hash(name: str) -> hashes.HashAlgorithm:
    try:
        return HASHES[name]
    except KeyError:
        raise UnsupportedAlgorithm(f"hash {name!r} is not supported") from None


def signed_bytes(signer: cms.SignerInfo, econtent: bytes) -> bytes:
    """What the signature covers: the DER SET of signed attributes, or the content itself when there are none."""
    attrs = signer["signed_attrs"]
    if isinstance(attrs, core.Void) or len(attrs) == 0:
        return econtent
    # The attributes travel as [0] IMPLICIT but are signed as a universal SET (RFC 5652 §5.4).
    return tlv.encode(0x31, bytes(attrs.contents))


def _check_signed_attrs(signer: cms.SignerInfo, econtent: bytes, econtent_type: str | None) -> None:
    attrs = signer["signed_attrs"]
    if isinstance(attrs, core.Void) or len(attrs) == 0:
        return
    digest_name = str(signer["digest_algorithm"]["algorithm"].native)
    _hash(digest_name)
    digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
    if len(digests) != 1:
        raise InvalidSignature("signed attributes must hold exactly one messageDigest")
    if digests[0] != hashlib.new(digest_name, econtent).digest():
        raise InvalidSignature("messageDigest does not match the signed content")
    types = [a["values"][0].dotted for a in attrs if a["type"].native == "content_type"]
    if econtent_type is not None and types and types[0] != econtent_type:
        raise InvalidSignature("contentType attribute does not match the signed content")


def _plain_to_der(signature: bytes) -> bytes:
    if not signature or len(signature) % 2:
        raise InvalidSignature("plain ECDSA signature has an odd length")
    half = len(signature) // 2
    return encode_dss_signature(int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big"))


def _ecdsa_fallback(cert: cx509.Certificate, signature: bytes, data: bytes, hash_name: str) -> None:
    """Verify with python-ecdsa: for keys OpenSSL will not load, such as explicit brainpool domain parameters
    (common in CSCA and DS certificates) or curves like brainpoolP224r1."""
    spki = x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))["tbs_certificate"][
        "subject_public_key_info"
    ]
    try:
        key = ecdsa.VerifyingKey.from_der(spki.dump())
    except _ECDSA_KEY_ERRORS as exc:
        raise UnsupportedAlgorithm(f"signer key is not usable: {exc}") from exc
    _hash(hash_name)
    try:
        ok = key.verify(signature, data, hashfunc=getattr(hashlib, hash_name), sigdecode=ecdsa.util.sigdecode_der)
    except (ecdsa.BadSignatureError, *_ECDSA_KEY_ERRORS) as exc:
        raise InvalidSignature(str(exc)) from exc
    if not ok:
        raise InvalidSignature("ECDSA signature does not verify")


def verify_ecdsa(cert: cx509.Certificate, signature: bytes, data: bytes, hash_name: str) -> None:
    """ECDSA (DER signature) with ``cert``'s key; raises ``InvalidSignature`` or ``UnsupportedAlgorithm``."""
    try:
        public_key = cert.public_key()
    except CERT_ERRORS:
        _ecdsa_fallback(cert, signature, data, hash_name)
        return
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise InvalidSignature("ECDSA signature but the certificate holds no EC key")
    public_key.verify(signature, data, ec.ECDSA(_hash(hash_name)))


def check_certificate(cert: cx509.Certificate) -> None:
    """Touch the lazily parsed parts of ``cert`` so that a malformed one fails now (with ``CERT_ERRORS``)."""
    _ = cert.subject.rfc4514_string(), cert.issuer.rfc4514_string(), list(cert.extensions)
    _ = cert.not_valid_before_utc, cert.not_valid_after_utc, cert.tbs_certificate_bytes, cert.signature


def verify_signer_info(
    signer: cms.SignerInfo, econtent: bytes, cert: cx509.Certificate, econtent_type: str | None = None
) -> None:
    """Verify one CMS signer over ``econtent`` with ``cert``'s key (messageDigest too).

    Raises ``InvalidSignature`` when it does not verify (malformed attributes included) and
    ``UnsupportedAlgorithm`` for algorithms we lack.
    """
    try:
        _verify_signer_info(signer, econtent, cert, econtent_type)
    except (*ASN1_ERRORS, *_ECDSA_KEY_ERRORS) as exc:
        raise InvalidSignature(f"malformed signer information: {exc}") from exc


def _verify_signer_info(
    signer: cms.SignerInfo, econtent: bytes, cert: cx509.Certificate, econtent_type: str | None
) -> None:
    _check_signed_attrs(signer, econtent, econtent_type)
    data = signed_bytes(signer, econtent)
    signature = bytes(signer["signature"].native)
    sig_alg = signer["signature_algorithm"]
    digest_name = str(signer["digest_algorithm"]["algorithm"].native)
    dotted = sig_alg["algorithm"].dotted
    if dotted in _ECDSA_PLAIN:
        kind, hash_name = "ecdsa_plain", _ECDSA_PLAIN[dotted]
    else:
        try:
            kind = sig_alg.signature_algo
        except ValueError as exc:
            raise UnsupportedAlgorithm(f"signature algorithm {dotted} is not supported") from exc
        try:
            hash_name = sig_alg.hash_algo
        except ValueError:
            hash_name = digest_name  # rsaEncryption / bare ecdsa OIDs name no hash
    if kind in ("ecdsa", "ecdsa_plain"):
        if kind == "ecdsa_plain":
            signature = _plain_to_der(signature)
        else:
            try:
                decode_dss_signature(signature)
            except ValueError:
                signature = _plain_to_der(signature)  # some issuers put r || s under the DER OID
        verify_ecdsa(cert, signature, data, hash_name)
        return
    try:
        public_key = cert.public_key()
    except CERT_ERRORS as exc:
        raise UnsupportedAlgorithm(f"signer key is not usable: {exc}") from exc
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise InvalidSignature(f"{kind} signature but the certificate holds no RSA key")
    if kind == "rsassa_pss":
        params = sig_alg["parameters"]
        pss_hash = _hash(str(params["hash_algorithm"]["algorithm"].native))
        mgf_hash = _hash(str(params["mask_gen_algorithm"]["parameters"]["algorithm"].native))
        salt_length = int(params["salt_length"].native)
        public_key.verify(signature, data, padding.PSS(padding.MGF1(mgf_hash), salt_length), pss_hash)
        return
    if kind == "rsassa_pkcs1v15":
        public_key.verify(signature, data, padding.PKCS1v15(), _hash(hash_name))
        return
    raise UnsupportedAlgorithm(f"signature algorithm {kind} is not supported")
