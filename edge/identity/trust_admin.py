"""Managing the CSCA trust store: import master lists, LDIF collections, certificates and CRLs; list; remove.

Every change is checked in full first; then the new store is written to a temporary folder next to the store and
renamed into place, so a refused import leaves the store exactly as it was. ``manifest.json`` pins the signer CAs
the operator named (by SHA-256) and lists every CSCA with where it came from.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from edge.clock import iso_ms
from edge.errors import ExamGateError
from edge.identity.sod import ASN1_ERRORS, CERT_ERRORS, check_certificate
from edge.identity.trust_store import (
    MANIFEST_NAME,
    MANIFEST_VERSION,
    TrustStore,
    TrustStoreError,
    certificate_country,
    parse_master_list,
    read_capped,
    read_manifest,
    sha256_hex,
    verify_crl_signed_by,
    verify_issued_by,
)


class TrustImportError(ExamGateError):
    code = "E_TRUST_IMPORT_REFUSED"
    remedy = "check the file's origin; nothing was added to the trust store"


class TrustSignatureError(TrustImportError):
    code = "E_TRUST_SIGNATURE"
    remedy = "the master list is forged or damaged: fetch it again from its publisher; nothing was added"


class TrustSignerError(TrustImportError):
    code = "E_TRUST_SIGNER_UNTRUSTED"
    remedy = (
        "pass --signer-ca with the certificate of the CA that issued the list's signer (e.g. the publishing "
        "country's CSCA, fingerprint checked out of band); nothing was added"
    )


class TrustFormatError(TrustImportError):
    code = "E_TRUST_FORMAT"
    remedy = "give a CSCA master list (CMS), an LDIF collection or a PEM/DER CA certificate; nothing was added"


class TrustNotCscaError(TrustImportError):
    code = "E_TRUST_NOT_CSCA"
    remedy = "only CA certificates (basicConstraints cA=true, keyCertSign) can be trust anchors; nothing was added"


class TrustCrlError(TrustImportError):
    code = "E_TRUST_CRL"
    remedy = "import the issuing CSCA first, then a CRL it signed (DER or PEM); nothing was added"


class TrustNotFoundError(ExamGateError):
    code = "E_TRUST_NOT_FOUND"
    remedy = "run `examgate trust list --store DIR` and pass one of the sha256 values shown"


@dataclass(frozen=True)
class ImportReport:
    kind: str  # "master_list", "ldif", "certificate", "crl"
    added: list[str]  # sha256 of each new entry
    already: int  # entries already in the store

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "added": self.added, "already_present": self.already}


# ------------------------------------------------------------------ reading input
def _read_input(path: Path) -> bytes:
    return read_capped(path, TrustFormatError, name=path.name, shown=f" {path}")


def _load_pem_or_der_certs(data: bytes) -> list[x509.Certificate] | None:
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return x509.load_pem_x509_certificates(data)
        except CERT_ERRORS as exc:
            raise TrustFormatError(f"PEM certificate does not parse: {exc}") from exc
    try:
        return [x509.load_der_x509_certificate(data)]
    except CERT_ERRORS:
        return None


def load_signer_cas(paths: list[Path]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in paths:
        certs = _load_pem_or_der_certs(_read_input(path))
        if not certs:
            raise TrustFormatError(f"--signer-ca {path.name} is not a PEM or DER certificate")
        out.extend(certs)
    return out


def _ldif_records(text: str) -> Iterator[list[tuple[str, bytes]]]:
    """LDIF (RFC 2849) records as (attribute, value) pairs; ``::`` values are base64. Folded lines are joined."""
    lines: list[str] = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    record: list[tuple[str, bytes]] = []
    for line in [*lines, ""]:
        if not line.strip():
            if record:
                yield record
            record = []
            continue
        if line.startswith("#") or ":" not in line:
            continue
        attr, _, rest = line.partition(":")
        if rest.startswith(":"):
            try:
                value = base64.b64decode(rest[1:].strip(), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise TrustFormatError(f"LDIF attribute {attr}: bad base64: {exc}") from exc
        else:
            value = rest.strip().encode()
        record.append((attr.strip().lower(), value))


def _require_ca(cert: x509.Certificate, where: str) -> None:
    try:
        check_certificate(cert)
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise TrustNotCscaError(f"{where}: {sha256_hex(cert)[:16]}… lacks {exc.oid._name}") from exc
    except CERT_ERRORS as exc:
        raise TrustNotCscaError(f"{where}: malformed certificate: {exc}") from exc
    if not basic.ca or not usage.key_cert_sign:
        subject = cert.subject.rfc4514_string()
        raise TrustNotCscaError(f"{where}: {subject} is not a CA certificate (a document signer?)")


@dataclass(frozen=True)
class _Candidate:
    cert: x509.Certificate
    source: dict[str, str | None]


def _from_master_list(data: bytes, name: str, signer_cas: list[x509.Certificate]) -> list[_Candidate]:
    try:
        certs, info = parse_master_list(data, name, signer_cas)
    except TrustStoreError as exc:
        raise TrustFormatError(f"{name}: {exc.message}") from exc
    if not signer_cas:
        raise TrustSignerError(f"{name} is a master list: --signer-ca is required to check who signed it")
    if not info.signer_verified:
        # Tell a broken signature apart from an unknown signer: check against the list's own certificates too.
        _, self_check = parse_master_list(data, name, [*certs, *_embedded_signers(data)])
        if self_check.signer_verified:
            raise TrustSignerError(
                f"{name}: the signature verifies, but its signer does not chain to the --signer-ca given"
            )
        raise TrustSignatureError(f"{name}: the master list's CMS signature does not verify")
    if not certs:
        raise TrustFormatError(f"{name}: the master list holds no certificate")
    now = dt.datetime.now(dt.UTC)
    signers = [c for c in _embedded_signers(data) if c.subject.rfc4514_string() == info.signer_subject]
    if signers and not any(c.not_valid_before_utc <= now <= c.not_valid_after_utc for c in signers):
        signer = signers[0]
        raise TrustSignerError(
            f"{name}: the list's signer certificate is valid {signer.not_valid_before_utc:%Y-%m-%d} to "
            f"{signer.not_valid_after_utc:%Y-%m-%d}, not now: fetch the publisher's current master list"
        )
    return [_Candidate(c, {"file": name, "kind": "master_list", "signer": info.signer_subject}) for c in certs]


def _embedded_signers(data: bytes) -> list[x509.Certificate]:
    from asn1crypto import cms  # noqa: PLC0415

    try:
        signed = cms.ContentInfo.load(data)["content"]
        return [x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"] or []]
    except (*ASN1_ERRORS, *CERT_ERRORS):
        return []


def _candidates(data: bytes, name: str, signer_cas: list[x509.Certificate]) -> tuple[str, list[_Candidate]]:
    head = data.lstrip()[:200]
    if head.startswith((b"dn:", b"version:", b"#")):
        out: list[_Candidate] = []
        for record in _ldif_records(data.decode("utf-8", "replace")):
            for attr, value in record:
                if attr.startswith("pkdmasterlistcontent"):
                    out.extend(_from_master_list(value, f"{name} (master list entry)", signer_cas))
                elif attr.startswith(("cacertificate", "usercertificate")):
                    try:
                        cert = x509.load_der_x509_certificate(value)
                    except CERT_ERRORS as exc:
                        raise TrustFormatError(f"{name}: an LDIF certificate does not parse: {exc}") from exc
                    _require_ca(cert, name)
                    out.append(_Candidate(cert, {"file": name, "kind": "ldif", "signer": "operator"}))
        if not out:
            raise TrustFormatError(f"{name}: the LDIF holds no master list and no certificate")
        return "ldif", out
    certs = _load_pem_or_der_certs(data)
    if certs is not None:
        for cert in certs:
            _require_ca(cert, name)
            try:
                verify_issued_by(cert, cert)
            except (InvalidSignature, UnsupportedAlgorithm):
                # a link certificate (new CSCA key signed by the old one) is fine; a broken self-signature is not
                if cert.issuer == cert.subject:
                    raise TrustSignatureError(f"{name}: the certificate's self-signature does not verify") from None
        return "certificate", [
            _Candidate(c, {"file": name, "kind": "certificate", "signer": "operator"}) for c in certs
        ]
    return "master_list", _from_master_list(data, name, signer_cas)


# ------------------------------------------------------------------ the store on disk
def _empty_manifest() -> dict[str, Any]:
    return {"version": MANIFEST_VERSION, "signer_cas": [], "cscas": [], "crls": []}


def _load_manifest(store: Path) -> dict[str, Any]:
    if not store.exists():
        return _empty_manifest()
    manifest = read_manifest(store)
    if manifest is None:
        return _empty_manifest()
    return {"version": MANIFEST_VERSION, **manifest}


def _commit(store: Path, manifest: dict[str, Any], new_files: dict[str, bytes], drop: set[str]) -> None:
    """Write the new store to a temporary sibling folder, then rename it into place."""
    store = store.absolute()
    if store.exists() and not store.is_dir():
        raise TrustStoreError(f"trust store {store} exists and is not a folder")
    store.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{store.name}.new-", dir=store.parent))
    try:
        if store.exists():
            # everything else in the folder stays as it was (loose files too: ignored by the reader, not deleted)
            shutil.copytree(store, staging, symlinks=True, dirs_exist_ok=True)
        for rel in drop:
            (staging / rel).unlink(missing_ok=True)
        for rel, data in new_files.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
        os.chmod(staging, 0o755)  # noqa: S103 - mkdtemp makes it 0700; the daemon user must read the store
        if store.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{store.name}.old-", dir=store.parent))
            old.rmdir()
            store.rename(old)
            staging.rename(store)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(store)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def import_file(store: Path, path: Path, signer_ca_paths: list[Path]) -> ImportReport:
    """Import a master list, LDIF collection or certificate(s) into ``store``; all or nothing."""
    signer_cas = load_signer_cas(signer_ca_paths)
    kind, candidates = _candidates(_read_input(path), path.name, signer_cas)
    manifest = _load_manifest(store)
    present = {e["sha256"] for e in manifest["cscas"]}
    new_files: dict[str, bytes] = {}
    added: list[str] = []
    already = 0
    used_signer = kind == "master_list" or any(c.source["kind"] == "master_list" for c in candidates)
    if used_signer:
        pinned = {e["sha256"] for e in manifest["signer_cas"]}
        for ca in signer_cas:
            digest = sha256_hex(ca)
            if digest not in pinned:
                rel = f"signer-ca/{digest}.der"
                new_files[rel] = _der(ca)
                manifest["signer_cas"].append(
                    {
                        "file": rel,
                        "sha256": hashlib.sha256(_der(ca)).hexdigest(),
                        "subject": ca.subject.rfc4514_string(),
                    }
                )
                pinned.add(digest)
    for candidate in candidates:
        cert = candidate.cert
        digest = sha256_hex(cert)
        if digest in present:
            already += 1
            continue
        present.add(digest)
        rel = f"csca/{digest}.der"
        new_files[rel] = _der(cert)
        manifest["cscas"].append(
            {
                "file": rel,
                "sha256": digest,
                "subject": cert.subject.rfc4514_string(),
                "country": certificate_country(cert),
                "not_before": iso_ms(cert.not_valid_before_utc),
                "not_after": iso_ms(cert.not_valid_after_utc),
                "source": candidate.source,
            }
        )
        added.append(digest)
    _commit(store, manifest, new_files, set())
    return ImportReport(kind, added, already)


def import_crl(store: Path, path: Path) -> ImportReport:
    """Import a CRL whose signature verifies under a CSCA already in the store."""
    data = _read_input(path)
    try:
        crl = x509.load_pem_x509_crl(data) if b"-----BEGIN X509 CRL-----" in data else x509.load_der_x509_crl(data)
        _ = crl.issuer.rfc4514_string(), crl.last_update_utc, crl.tbs_certlist_bytes
    except CERT_ERRORS as exc:
        raise TrustCrlError(f"{path.name} is not a PEM or DER CRL: {exc}") from exc
    if not store.is_dir():
        raise TrustCrlError(f"trust store {store} does not exist")
    trust = TrustStore.load(store)
    issuer_name = crl.issuer.rfc4514_string()
    issuers = [c for c in trust.certificates if c.subject.rfc4514_string().casefold() == issuer_name.casefold()]
    if not issuers:
        raise TrustCrlError(f"{path.name}: no CSCA in the store is named {issuer_name}")
    for issuer in issuers:
        try:
            verify_crl_signed_by(crl, issuer)
        except (InvalidSignature, UnsupportedAlgorithm):
            continue
        break
    else:
        raise TrustCrlError(f"{path.name}: the CRL's signature does not verify under the CSCA {issuer_name}")
    der = crl.public_bytes(serialization.Encoding.DER)
    digest = hashlib.sha256(der).hexdigest()
    manifest = _load_manifest(store)
    if any(e["sha256"] == digest for e in manifest["crls"]):
        return ImportReport("crl", [], 1)
    # a newer CRL from the same issuer replaces the older one
    drop = {e["file"] for e in manifest["crls"] if e.get("issuer", "").casefold() == issuer_name.casefold()}
    manifest["crls"] = [e for e in manifest["crls"] if e["file"] not in drop]
    next_update = crl.next_update_utc
    manifest["crls"].append(
        {
            "file": f"crl/{digest}.crl",
            "sha256": digest,
            "issuer": issuer_name,
            "this_update": iso_ms(crl.last_update_utc),
            "next_update": None if next_update is None else iso_ms(next_update),
            "revoked": len(list(crl)),
            "source": {"file": path.name},
        }
    )
    _commit(store, manifest, {f"crl/{digest}.crl": der}, drop)
    return ImportReport("crl", [digest], 0)


def list_entries(store: Path) -> list[dict[str, Any]]:
    """One object per CSCA: subject, country, not_before, not_after, sha256, source."""
    if not store.is_dir():
        raise TrustNotFoundError(f"trust store {store} does not exist")
    manifest = _load_manifest(store)
    keys = ("subject", "country", "not_before", "not_after", "sha256", "source")
    return [{k: e.get(k) for k in keys} for e in manifest["cscas"]]


def remove(store: Path, sha256: str) -> dict[str, Any]:
    """Remove one CSCA (by its SHA-256, as ``list`` shows it) from the store."""
    wanted = sha256.strip().lower().replace(":", "")
    manifest = _load_manifest(store)
    matches = [e for e in manifest["cscas"] if e["sha256"] == wanted]
    if not matches:
        raise TrustNotFoundError(f"no CSCA with sha256 {wanted} in {store}")
    manifest["cscas"] = [e for e in manifest["cscas"] if e["sha256"] != wanted]
    _commit(store, manifest, {}, {matches[0]["file"]})
    return {k: matches[0].get(k) for k in ("subject", "country", "sha256")}
