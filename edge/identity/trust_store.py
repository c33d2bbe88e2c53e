"""CSCA trust store: country signing CA certificates the gate trusts, loaded from a folder the operator updates.

The folder may hold PEM or DER certificates and ICAO/BSI CSCA master lists (CMS SignedData over a CscaMasterList).
A file that does not parse is reported in ``problems`` and skipped; the rest still load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from edge.errors import ExamGateError
from edge.identity.sod import ASN1_ERRORS, CERT_ERRORS, check_certificate, verify_ecdsa, verify_signer_info

log = logging.getLogger(__name__)

CSCA_MASTER_LIST_OID = "2.23.136.1.1.2"
MAX_FILE_BYTES = 50 * 1024 * 1024
_SIGNER_ERRORS: tuple[type[Exception], ...] = (InvalidSignature, ExamGateError, *CERT_ERRORS)
_EXTENSION_ERRORS: tuple[type[Exception], ...] = (x509.ExtensionNotFound, *CERT_ERRORS)


class TrustStoreError(ExamGateError):
    code = "E_TRUST_STORE_INVALID"
    remedy = "point reader.csca_dir at a readable folder of CSCA certificates (PEM/DER) or ICAO master lists"


class _CertificateSet(core.SetOf):  # type: ignore[misc]
    _child_spec = ax509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """ICAO 9303-12 CscaMasterList ::= SEQUENCE { version INTEGER, certList SET OF Certificate }."""

    _fields = [("version", core.Integer), ("cert_list", _CertificateSet)]  # noqa: RUF012


@dataclass(frozen=True)
class MasterListInfo:
    path: str
    certificates: int
    signer_verified: bool  # the list's signature and its signer's certificate check out against a CSCA in it


@dataclass
class TrustStore:
    """CSCA certificates indexed by subject DN and subject key identifier."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    folder: Path | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, why it was skipped)
    master_lists: list[MasterListInfo] = field(default_factory=list)

    @classmethod
    def from_certificates(cls, certificates: Iterable[x509.Certificate]) -> TrustStore:
        return cls(certificates=_dedupe(certificates))

    @classmethod
    def load(cls, folder: str | Path) -> TrustStore:
        store = cls(folder=Path(folder))
        store.reload()
        return store

    def reload(self) -> None:
        """Read the folder again (the operator dropped in new certificates or a new master list)."""
        if self.folder is None:
            raise TrustStoreError("this trust store was not loaded from a folder, so it cannot be reloaded")
        if not self.folder.is_dir():
            raise TrustStoreError(f"trust store folder {self.folder} does not exist or is not a folder")
        certificates: list[x509.Certificate] = []
        problems: list[tuple[str, str]] = []
        master_lists: list[MasterListInfo] = []
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            try:
                data = _read(path)
                found, info = _parse_file(path, data)
            except TrustStoreError as exc:
                problems.append((str(path), exc.message))
                log.warning("trust store: skipped %s: %s", path, exc.message)
                continue
            certificates.extend(found)
            if info is not None:
                master_lists.append(info)
        self.certificates = _dedupe(certificates)
        self.problems = problems
        self.master_lists = master_lists
        log.info("trust store: %d CSCA certificates from %s", len(self.certificates), self.folder)

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """CSCA certificates that may have issued ``cert``: same DN as its issuer, and the same key identifier
        when both sides name one (a CSCA renewed under the same DN has a new key)."""
        aki = _authority_key_id(cert)
        issuer = _name_key(cert.issuer)
        found: list[x509.Certificate] = []
        for candidate in self.certificates:
            ski = _subject_key_id(candidate)
            if aki is not None and ski is not None:
                if ski == aki:
                    found.append(candidate)
            elif _name_key(candidate.subject) == issuer:
                found.append(candidate)
        return found

    def __len__(self) -> int:
        return len(self.certificates)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise TrustStoreError(f"file is larger than {MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"cannot read: {exc.strerror}") from exc


def _parse_file(path: Path, data: bytes) -> tuple[list[x509.Certificate], MasterListInfo | None]:
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return x509.load_pem_x509_certificates(data), None
        except CERT_ERRORS as exc:
            raise TrustStoreError(f"PEM certificate does not parse: {exc}") from exc
    try:
        return [x509.load_der_x509_certificate(data)], None
    except CERT_ERRORS:
        pass
    return parse_master_list(data, str(path))


def parse_master_list(data: bytes, name: str = "<memory>") -> tuple[list[x509.Certificate], MasterListInfo]:
    """Certificates of a CSCA master list, and whether its signature verifies against a CSCA it contains."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise TrustStoreError("neither a certificate nor a CMS master list")
        signed = info["content"]
        encap = signed["encap_content_info"]
        if encap["content_type"].dotted != CSCA_MASTER_LIST_OID:
            raise TrustStoreError(f"CMS content {encap['content_type'].dotted} is not a CSCA master list")
        content = encap["content"]
        econtent = bytes(content.native if isinstance(content.native, bytes) else content.contents)
        body = CscaMasterList.load(econtent, strict=True)
        ders = [cert.dump() for cert in body["cert_list"]]
        signer_certs = [c.chosen.dump() for c in signed["certificates"] or []]
        signer_infos = list(signed["signer_infos"])
    except ASN1_ERRORS as exc:
        raise TrustStoreError(f"neither a certificate nor a valid master list: {exc}") from exc
    certificates: list[x509.Certificate] = []
    for der in ders:
        try:
            certificates.append(x509.load_der_x509_certificate(der))
        except CERT_ERRORS as exc:
            log.warning("trust store: %s: skipped one certificate in the master list: %s", name, exc)
    verified = _verify_master_list_signer(signer_infos, signer_certs, econtent, certificates)
    return certificates, MasterListInfo(name, len(certificates), verified)


def _verify_master_list_signer(
    signer_infos: list[cms.SignerInfo], signer_ders: list[bytes], econtent: bytes, cscas: list[x509.Certificate]
) -> bool:
    inside = TrustStore.from_certificates(cscas)
    for der in signer_ders:
        try:
            signer = x509.load_der_x509_certificate(der)
            check_certificate(signer)
        except CERT_ERRORS:
            continue
        for info in signer_infos:
            try:
                verify_signer_info(info, econtent, signer)
            except _SIGNER_ERRORS:
                continue
            for csca in inside.issuers_of(signer):
                try:
                    verify_issued_by(signer, csca)
                except (InvalidSignature, UnsupportedAlgorithm):
                    continue
                return True
    return False


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """Check ``cert``'s signature with ``issuer``'s key (names are matched by ``issuers_of``, not here).

    Raises ``InvalidSignature`` or ``UnsupportedAlgorithm``.
    """
    try:
        hash_algorithm = cert.signature_hash_algorithm
        params = cert.signature_algorithm_parameters
    except CERT_ERRORS as exc:
        raise UnsupportedAlgorithm(f"cannot check this certificate signature: {exc}") from exc
    try:
        _verify_issued_by(cert, issuer, hash_algorithm, params)
    except (ValueError, TypeError) as exc:
        raise InvalidSignature(f"malformed certificate signature: {exc}") from exc


def _verify_issued_by(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    hash_algorithm: hashes.HashAlgorithm | None,
    params: object,
) -> None:
    if isinstance(params, ec.ECDSA):
        if not isinstance(params.algorithm, hashes.HashAlgorithm):
            raise UnsupportedAlgorithm("prehashed ECDSA certificate signature")
        verify_ecdsa(issuer, cert.signature, cert.tbs_certificate_bytes, params.algorithm.name)
        return
    try:
        public_key = issuer.public_key()
    except CERT_ERRORS as exc:
        raise UnsupportedAlgorithm(f"issuer key is not usable: {exc}") from exc
    if isinstance(public_key, rsa.RSAPublicKey) and isinstance(params, padding.PKCS1v15 | padding.PSS):
        if hash_algorithm is None:
            raise UnsupportedAlgorithm("RSA certificate signature without a hash algorithm")
        public_key.verify(cert.signature, cert.tbs_certificate_bytes, params, hash_algorithm)
        return
    raise InvalidSignature("the issuer's key type does not match the certificate's signature algorithm")


def _dedupe(certificates: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """Drop duplicates and certificates whose names or extensions do not parse."""
    seen: set[bytes] = set()
    out: list[x509.Certificate] = []
    for cert in certificates:
        try:
            check_certificate(cert)
        except CERT_ERRORS as exc:
            log.warning("trust store: skipped a malformed certificate: %s", exc)
            continue
        der = cert.public_bytes(serialization.Encoding.DER)
        if der not in seen:
            seen.add(der)
            out.append(cert)
    return out


def _name_key(name: x509.Name) -> str:
    # String types (PrintableString vs UTF8String) and case differ between CSCA and DS encodings.
    return name.rfc4514_string().casefold()


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except _EXTENSION_ERRORS:
        return None


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    except _EXTENSION_ERRORS:
        return None
