"""The gate's TLS identity: an EC P-256 key, a CSR with CN ``{site}-{gate}`` for the centre's CA, and the
checks an issued certificate must pass before it is installed."""

from __future__ import annotations

import datetime as dt
import secrets

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.provision.errors import ProvisionError

DATA_KEY_BYTES = 32


def common_name(site_id: str, gate_id: str) -> str:
    return f"{site_id}-{gate_id}"


def new_device_key_pem() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def new_data_key() -> bytes:
    """Raw random bytes for encrypting face images at rest (``privacy.key_file``)."""
    return secrets.token_bytes(DATA_KEY_BYTES)


def load_device_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ProvisionError(
            f"the device key cannot be read: {exc}",
            code="E_PROVISION_KEY_INVALID",
            remedy="the key file is damaged: re-provision this gate (move the credentials folder away first)",
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ProvisionError(
            "the device key is not an EC P-256 key",
            code="E_PROVISION_KEY_INVALID",
            remedy="re-provision this gate (move the credentials folder away first)",
        )
    return key


def is_device_key(pem: bytes) -> bool:
    try:
        load_device_key(pem)
    except ProvisionError:
        return False
    return True


def make_csr_pem(key_pem: bytes, cn: str) -> bytes:
    key = load_device_key(key_pem)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def _spki(public_key: object) -> bytes:
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def csr_matches(csr_pem: bytes, key_pem: bytes, cn: str) -> bool:
    """True when the CSR is signed by this key and names this gate."""
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError:
        return False
    names = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    public = csr.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        return False
    return (
        csr.is_signature_valid
        and _spki(public) == _spki(load_device_key(key_pem).public_key())
        and ([n.value for n in names] == [cn])
    )


def csr_common_name(csr_pem: bytes) -> str | None:
    try:
        names = x509.load_pem_x509_csr(csr_pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    except ValueError:
        return None
    return str(names[0].value) if names else None


def load_certificate(data: bytes, what: str) -> x509.Certificate:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise ProvisionError(
            f"{what} is not a readable X.509 certificate: {exc}",
            code="E_PROVISION_CERT_INVALID",
            remedy="ask the centre for the certificate as PEM (-----BEGIN CERTIFICATE-----) or DER",
        ) from exc


def check_certificate(
    cert: x509.Certificate,
    *,
    key_pem: bytes,
    csr_pem: bytes,
    ca: x509.Certificate | None,
    now: dt.datetime | None = None,
) -> None:
    """Raise a typed error unless ``cert`` is this gate's: same public key, same subject as the CSR, valid now,
    and (when ``ca`` is given) issued by that CA."""
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or _spki(public) != _spki(
        load_device_key(key_pem).public_key()
    ):
        raise ProvisionError(
            "the certificate does not match this gate's key",
            code="E_PROVISION_CERT_KEY_MISMATCH",
            remedy="this certificate was issued for another CSR; send this gate's device.csr to the centre again",
        )
    csr = x509.load_pem_x509_csr(csr_pem)
    if cert.subject != csr.subject:
        raise ProvisionError(
            f"the certificate names {cert.subject.rfc4514_string()!r}, the CSR {csr.subject.rfc4514_string()!r}",
            code="E_PROVISION_CERT_SUBJECT_MISMATCH",
            remedy="ask the centre to issue the certificate with the subject of this gate's CSR",
        )
    moment = now or dt.datetime.now(dt.UTC)
    if moment < cert.not_valid_before_utc:
        raise ProvisionError(
            f"the certificate is valid only from {cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            code="E_PROVISION_CERT_NOT_YET_VALID",
            remedy="check the gate's clock (`timedatectl`: NTP synchronised?) or wait until the validity starts",
        )
    if moment > cert.not_valid_after_utc:
        raise ProvisionError(
            f"the certificate expired on {cert.not_valid_after_utc:%Y-%m-%d} UTC",
            code="E_PROVISION_CERT_EXPIRED",
            remedy="ask the centre for a new certificate for this gate's CSR",
        )
    if ca is not None:
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise ProvisionError(
                f"the certificate was not issued by the given CA ({ca.subject.rfc4514_string()})",
                code="E_PROVISION_CERT_NOT_ISSUED_BY_CA",
                remedy="use the CA certificate of the centre that signed this gate's certificate",
            ) from exc


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
