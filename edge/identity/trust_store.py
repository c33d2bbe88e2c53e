"""CSCA trust store: country signing CA certificates the gate trusts, loaded from a folder the operator manages.

The folder is written only by ``examgate trust import`` / ``import-crl`` / ``remove`` (``edge.identity.trust_admin``):
``manifest.json`` lists every CSCA and CRL with its SHA-256; the reader loads exactly those files and ignores anything
else in the folder (with a warning), so dropping a file into the folder does not extend what the gate trusts.
A master list contributes CSCAs only when its CMS signature verifies and its signer chains to a signer CA the operator
pinned at import (``parse_master_list(..., signer_cas=...)``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from asn1crypto import cms, core
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from edge.errors import ExamGateError
from edge.identity.sod import ASN1_ERRORS, CERT_ERRORS, check_certificate, verify_ecdsa, verify_signer_info

log = logging.getLogger(__name__)
_T = TypeVar("_T")

CSCA_MASTER_LIST_OID = "2.23.136.1.1.2"
MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
MAX_FILE_BYTES = 50 * 1024 * 1024
# What the operator must be told when no Vietnamese CSCA is trusted (selftest, daemon start, `chip read`).
NO_VNM = "no CSCA for VNM: every candidate goes to review"
_SIGNER_ERRORS: tuple[type[Exception], ...] = (InvalidSignature, ExamGateError, *CERT_ERRORS)
_EXTENSION_ERRORS: tuple[type[Exception], ...] = (x509.ExtensionNotFound, *CERT_ERRORS)


class TrustStoreError(ExamGateError):
    code = "E_TRUST_STORE_INVALID"
    remedy = (
        "point reader.csca_dir at a trust store folder built with `examgate trust import FILE --store DIR "
        "--signer-ca PEM` (see docs/chip.md, Trust store)"
    )


class _CertificateSet(core.SetOf):  # type: ignore[misc]
    _child_spec = ax509.Certificate


class CscaMasterList(core.Sequence):  # type: ignore[misc]
    """ICAO 9303-12 CscaMasterList ::= SEQUENCE { version INTEGER, certList SET OF Certificate }."""

    _fields = [("version", core.Integer), ("cert_list", _CertificateSet)]  # noqa: RUF012


@dataclass(frozen=True)
class MasterListInfo:
    path: str
    certificates: int
    signer_verified: bool  # the list's CMS signature verifies and its signer chains to a pinned signer CA
    signer_subject: str | None = None  # the master list signer's certificate subject, when one verified


@dataclass
class TrustStore:
    """CSCA certificates indexed by subject DN and subject key identifier, plus the CRLs their issuers published."""

    certificates: list[x509.Certificate] = field(default_factory=list)
    folder: Path | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, why it was skipped)
    master_lists: list[MasterListInfo] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    manifest_found: bool = False

    @classmethod
    def from_certificates(
        cls, certificates: Iterable[x509.Certificate], crls: Sequence[x509.CertificateRevocationList] = ()
    ) -> TrustStore:
        return cls(certificates=_dedupe(certificates), crls=list(crls))

    @classmethod
    def load(cls, folder: str | Path) -> TrustStore:
        store = cls(folder=Path(folder))
        store.reload()
        return store

    def reload(self) -> None:
        """Read the manifest again (the operator imported or removed something) and load exactly what it lists."""
        if self.folder is None:
            raise TrustStoreError("this trust store was not loaded from a folder, so it cannot be reloaded")
        if not self.folder.is_dir():
            raise TrustStoreError(f"trust store folder {self.folder} does not exist or is not a folder")
        manifest = read_manifest(self.folder)
        self.manifest_found = manifest is not None
        problems: list[tuple[str, str]] = []
        listed: set[str] = {MANIFEST_NAME}
        entries = manifest or {}
        certificates = self._load_listed(
            entries.get("cscas", []), x509.load_der_x509_certificate, "certificate", listed, problems
        )
        crls = self._load_listed(entries.get("crls", []), x509.load_der_x509_crl, "CRL", listed, problems)
        for entry in entries.get("signer_cas", []):
            listed.add(entry["file"])
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            name = path.relative_to(self.folder).as_posix()
            if name not in listed:
                why = "not listed in manifest.json: ignored (import it with `examgate trust import`)"
                problems.append((name, why))
                log.warning("trust store: %s %s", name, why)
        if manifest is None:
            log.warning(
                "trust store: %s has no %s, so no CSCA is trusted; build it with `examgate trust import`",
                self.folder,
                MANIFEST_NAME,
            )
        self.certificates = _dedupe(certificates)
        self.crls = crls
        self.problems = problems
        log.info("trust store: %d CSCA certificates, %d CRLs from %s", len(self.certificates), len(crls), self.folder)
        if "VN" not in self.countries():
            log.warning("trust store %s: %s", self.folder, NO_VNM)

    def _load_listed(
        self,
        entries: list[dict[str, str]],
        load: Callable[[bytes], _T],
        what: str,
        listed: set[str],
        problems: list[tuple[str, str]],
    ) -> list[_T]:
        """Load each listed DER file whose SHA-256 matches; mark every file listed and record each failure."""
        loaded: list[_T] = []
        for entry in entries:
            listed.add(entry["file"])
            data = self._listed_file(entry, problems)
            if data is not None:
                try:
                    loaded.append(load(data))
                except CERT_ERRORS as exc:
                    problems.append((entry["file"], f"not a DER {what}: {exc}"))
        return loaded

    def _listed_file(self, entry: dict[str, str], problems: list[tuple[str, str]]) -> bytes | None:
        assert self.folder is not None
        try:
            data = read_capped(self.folder / entry["file"])
        except TrustStoreError as exc:
            problems.append((entry["file"], exc.message))
            log.warning("trust store: listed file %s skipped: %s", entry["file"], exc.message)
            return None
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            why = "content does not match the SHA-256 in manifest.json: ignored"
            problems.append((entry["file"], why))
            log.warning("trust store: %s %s", entry["file"], why)
            return None
        return data

    def countries(self) -> set[str]:
        """ISO 3166 alpha-2 country codes of the CSCAs (upper case)."""
        return {c for c in (certificate_country(cert) for cert in self.certificates) if c}

    def is_revoked(self, cert: x509.Certificate, issuer: x509.Certificate) -> bool:
        """Whether a CRL from ``issuer`` (signature checked at import) lists ``cert``'s serial number."""
        for crl in self.crls:
            if _name_key(crl.issuer) != _name_key(issuer.subject):
                continue
            if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
                return True
        return False

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


def read_capped(
    path: Path, error: type[ExamGateError] = TrustStoreError, *, name: str = "file", shown: str = ""
) -> bytes:
    """The bytes of ``path``, at most ``MAX_FILE_BYTES``; else ``error``, naming the file as ``name`` (too large)
    or ``shown`` (unreadable)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise error(f"{name} is larger than {MAX_FILE_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read{shown}: {exc.strerror}") from exc


def read_manifest(folder: Path) -> dict[str, list[dict[str, str]]] | None:
    """The store's manifest, or None when the folder has none."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        data = json.loads(read_capped(path))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrustStoreError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise TrustStoreError(f"{path} is not an ExamGate trust manifest (version {MANIFEST_VERSION})")
    out: dict[str, list[dict[str, str]]] = {}
    for key in ("cscas", "crls", "signer_cas"):
        entries = data.get(key, [])
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("file"), str) and isinstance(e.get("sha256"), str) for e in entries
        ):
            raise TrustStoreError(f"{path}: {key} must be a list of objects with file and sha256")
        for entry in entries:
            if entry["file"].startswith("/") or ".." in Path(entry["file"]).parts:
                raise TrustStoreError(f"{path}: {key} names {entry['file']!r}, outside the store")
        out[key] = entries
    return out


def sha256_hex(cert: x509.Certificate) -> str:
    """The certificate's fingerprint (SHA-256 over its DER), lower-case hex: the id ``trust remove`` takes."""
    return cert.fingerprint(hashes.SHA256()).hex()


def certificate_country(cert: x509.Certificate) -> str | None:
    try:
        values = cert.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)
    except CERT_ERRORS:
        return None
    return str(values[0].value).upper() if values else None


def vnm_gap(folder: Path | None, now: dt.datetime | None = None) -> str | None:
    """``NO_VNM`` when no Vietnamese CSCA valid ``now`` loads from ``folder`` (unset, unreadable, none listed)."""
    if folder is None:
        return NO_VNM
    try:
        store = TrustStore.load(folder)
    except ExamGateError:
        return NO_VNM
    return None if valid_vnm(store, now or dt.datetime.now(dt.UTC)) else NO_VNM


def valid_vnm(store: TrustStore, now: dt.datetime) -> list[x509.Certificate]:
    """The Vietnamese CSCAs in ``store`` valid at ``now``."""
    return [
        c
        for c in store.certificates
        if certificate_country(c) == "VN" and c.not_valid_before_utc <= now <= c.not_valid_after_utc
    ]


def parse_master_list(
    data: bytes, name: str = "<memory>", signer_cas: Sequence[x509.Certificate] = ()
) -> tuple[list[x509.Certificate], MasterListInfo]:
    """Certificates of a CSCA master list, and whether its CMS signature verifies under a signer certificate that
    chains to one of ``signer_cas`` (never to a CSCA inside the same list: a forger can put their own there)."""
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
    signer = _verify_master_list_signer(signer_infos, signer_certs, econtent, signer_cas)
    return certificates, MasterListInfo(
        name, len(certificates), signer is not None, None if signer is None else signer.subject.rfc4514_string()
    )


def _verify_master_list_signer(
    signer_infos: list[cms.SignerInfo],
    signer_ders: list[bytes],
    econtent: bytes,
    signer_cas: Sequence[x509.Certificate],
) -> x509.Certificate | None:
    """The list's signer certificate when the CMS signature verifies under it and it is (or was issued by) a pinned
    signer CA; None otherwise."""
    pinned = TrustStore.from_certificates(signer_cas)
    pinned_der = {c.public_bytes(serialization.Encoding.DER) for c in pinned.certificates}
    for der in signer_ders:
        try:
            signer = x509.load_der_x509_certificate(der)
            check_certificate(signer)
        except CERT_ERRORS:
            continue
        for info in signer_infos:
            try:
                verify_signer_info(info, econtent, signer, CSCA_MASTER_LIST_OID)
            except _SIGNER_ERRORS:
                continue
            if der in pinned_der:
                return signer
            for ca in pinned.issuers_of(signer):
                try:
                    verify_issued_by(signer, ca)
                except (InvalidSignature, UnsupportedAlgorithm):
                    continue
                return signer
    return None


def verify_crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> None:
    """Check the CRL's signature with ``issuer``'s key; raises ``InvalidSignature`` or ``UnsupportedAlgorithm``."""
    _verify_signature(crl, issuer)


def crl_next_update(crl: x509.CertificateRevocationList) -> dt.datetime | None:
    return crl.next_update_utc


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """Check ``cert``'s signature with ``issuer``'s key (names are matched by ``issuers_of``, not here).

    Raises ``InvalidSignature`` or ``UnsupportedAlgorithm``.
    """
    _verify_signature(cert, issuer)


def _verify_signature(signed: x509.Certificate | x509.CertificateRevocationList, issuer: x509.Certificate) -> None:
    """Check the signature of a certificate or CRL with ``issuer``'s ECDSA or RSA key."""
    what = "certificate" if isinstance(signed, x509.Certificate) else "CRL"
    try:
        params = signed.signature_algorithm_parameters
        hash_algorithm = signed.signature_hash_algorithm
        signature = signed.signature
        tbs = signed.tbs_certificate_bytes if isinstance(signed, x509.Certificate) else signed.tbs_certlist_bytes
    except CERT_ERRORS as exc:
        raise UnsupportedAlgorithm(f"cannot check this {what} signature: {exc}") from exc
    try:
        if isinstance(params, ec.ECDSA):
            if not isinstance(params.algorithm, hashes.HashAlgorithm):
                raise UnsupportedAlgorithm(f"prehashed ECDSA {what} signature")
            verify_ecdsa(issuer, signature, tbs, params.algorithm.name)
            return
        try:
            public_key = issuer.public_key()
        except CERT_ERRORS as exc:
            raise UnsupportedAlgorithm(f"issuer key is not usable: {exc}") from exc
        if isinstance(public_key, rsa.RSAPublicKey) and isinstance(params, padding.PKCS1v15 | padding.PSS):
            if hash_algorithm is None:
                raise UnsupportedAlgorithm(f"RSA {what} signature without a hash algorithm")
            public_key.verify(signature, tbs, params, hash_algorithm)
            return
    except (ValueError, TypeError) as exc:
        raise InvalidSignature(f"malformed {what} signature: {exc}") from exc
    raise InvalidSignature(f"the issuer's key type does not match the {what}'s signature algorithm")


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
