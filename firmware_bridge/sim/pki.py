"""A throw-away test PKI (CSCA + document signer) and CMS SignedData signing: EF.SOD and CSCA master lists.

For the virtual chip (``firmware_bridge/sim``), the demo and tests. Nothing here runs on a real gate's read path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from asn1crypto import algos, cms, core, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from edge.errors import ExamGateError
from edge.identity.trust_store import CSCA_MASTER_LIST_OID, CscaMasterList

Curve = Literal["P-256", "P-384", "brainpoolP256r1", "brainpoolP384r1"]
_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "brainpoolP256r1": ec.BrainpoolP256R1(),
    "brainpoolP384r1": ec.BrainpoolP384R1(),
}
HASHES: dict[str, hashes.HashAlgorithm] = {
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


def _test_name(country: str, role: str) -> cx509.Name:
    return cx509.Name(
        [
            cx509.NameAttribute(NameOID.COUNTRY_NAME, country),
            cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "ExamGate test PKI"),
            cx509.NameAttribute(NameOID.COMMON_NAME, f"{role} {country} test"),
        ]
    )


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
        csca_name = _test_name(country, "CSCA")
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
    ds_name = _test_name(country, "DS")
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
    digest = HASHES[hash_alg]
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
    if hash_alg not in HASHES:
        raise LdsBuildError(f"hash algorithm {hash_alg!r} is not one of {sorted(HASHES)}")
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


def build_master_list(
    cscas: Sequence[cx509.Certificate], signer_key: PrivateKey, signer_cert: cx509.Certificate
) -> bytes:
    """An ICAO CSCA master list: CMS SignedData over CscaMasterList{version 0, SET OF Certificate}."""
    certs = [x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in cscas]
    body = CscaMasterList({"version": 0, "cert_list": certs})
    return build_signed_data(CSCA_MASTER_LIST_OID, bytes(body.dump()), signer_key, signer_cert)
