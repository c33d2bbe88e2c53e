"""Passive authentication (ICAO 9303-11 §5.1): are the data groups the ones the issuing state signed?

Checks, in order: (1) each read DG's hash equals EF.SOD's, (2) EF.SOD's signature under the DS certificate,
(3) the DS certificate was signed by a CSCA in the trust store and is not revoked by that CSCA's CRL, (4) the DS
certificate is a signing certificate (keyUsage digitalSignature, not a CA) valid at the SOD's signing time (or ``at``
when the SOD names none), (5) both certificates are valid at ``at``.
A failed check is a result, never an exception; only unusable input (not a parsed ``Sod``) raises.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from asn1crypto import cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from edge.identity.sod import CERT_ERRORS, Sod, check_certificate, verify_signer_info
from edge.identity.trust_store import TrustStore, verify_issued_by

log = logging.getLogger(__name__)

Status = Literal["valid", "invalid", "no_trust_anchor", "expired"]
FailedCheck = Literal["dg_hash", "sod_signature", "ds_signature", "revoked", "ds_certificate"]


@dataclass(frozen=True)
class PassiveAuthResult:
    status: Status
    failed_check: FailedCheck | None = None
    failed_dg: int | None = None
    details: str = ""
    hash_algorithm: str = ""
    checked_dgs: tuple[int, ...] = ()
    ds_subject: str | None = None
    csca_subject: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "valid"


def _signer_certificate(signer: cms.SignerInfo, certs: tuple[ax509.Certificate, ...]) -> ax509.Certificate | None:
    sid = signer["sid"]
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for cert in certs:
            if cert.serial_number == serial and cert.issuer == issuer:
                return cert
        return None
    key_id = sid.chosen.native
    for cert in certs:
        if cert.key_identifier == key_id:
            return cert
    return None


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _expired(cert: x509.Certificate, at: dt.datetime) -> bool:
    return not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc


def _signing_time(signer: cms.SignerInfo) -> dt.datetime | None:
    attrs = signer["signed_attrs"]
    try:
        for attr in attrs:
            if attr["type"].native == "signing_time":
                value = attr["values"][0].native
                return _utc(value) if isinstance(value, dt.datetime) else None
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return None


def _ds_certificate_problem(ds_cert: x509.Certificate, signed_at: dt.datetime | None) -> str | None:
    """Why this certificate cannot be a document signer's (ICAO 9303-12 §7.1.1), or None."""
    try:
        usage = ds_cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            return "document signer certificate's key usage lacks digitalSignature"
    except x509.ExtensionNotFound:
        return "document signer certificate has no key usage extension"
    try:
        basic = ds_cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        if basic.ca:
            return "document signer certificate is a CA certificate (basicConstraints cA=true)"
    except x509.ExtensionNotFound:
        pass
    if signed_at is not None and _expired(ds_cert, signed_at):  # without a signing time, the check at ``at`` runs
        return (
            f"document signer certificate is valid {ds_cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{ds_cert.not_valid_after_utc:%Y-%m-%d}, not when EF.SOD was signed ({signed_at:%Y-%m-%d %H:%M}Z)"
        )
    return None


def verify_passive(sod: Sod, dg_bytes: Mapping[int, bytes], trust: TrustStore, at: dt.datetime) -> PassiveAuthResult:
    """Run passive authentication over the DGs read (keyed by DG number, full TLV bytes as read)."""
    moment = _utc(at)
    checked = tuple(sorted(dg_bytes))

    def result(
        status: Status,
        failed_check: FailedCheck | None = None,
        failed_dg: int | None = None,
        details: str = "",
        ds_subject: str | None = None,
        csca_subject: str | None = None,
    ) -> PassiveAuthResult:
        outcome = PassiveAuthResult(
            status, failed_check, failed_dg, details, sod.hash_algorithm, checked, ds_subject, csca_subject
        )
        log.info("passive auth: %s %s %s", status, failed_check or "", details)
        return outcome

    for number in sorted(dg_bytes):
        expected = sod.dg_hashes.get(number)
        if expected is None:
            return result("invalid", "dg_hash", number, f"DG{number} is not listed in EF.SOD")
        actual = hashlib.new(sod.hash_algorithm, dg_bytes[number]).digest()
        if not hmac.compare_digest(actual, expected):
            return result("invalid", "dg_hash", number, f"DG{number} hash does not match EF.SOD")

    signer = sod.signer_infos[0]
    ds_asn1 = _signer_certificate(signer, sod.certificates)
    if ds_asn1 is None:
        return result("invalid", "sod_signature", None, "EF.SOD carries no document signer certificate")
    try:
        ds_cert = x509.load_der_x509_certificate(ds_asn1.dump())
        check_certificate(ds_cert)
        ds_subject = ds_cert.subject.rfc4514_string()
    except CERT_ERRORS as exc:
        return result("invalid", "sod_signature", None, f"document signer certificate is unusable: {exc}")
    try:
        verify_signer_info(signer, sod.econtent, ds_cert, sod.econtent_type)
    except InvalidSignature as exc:
        detail = str(exc) or "signature does not verify under the document signer key"
        return result("invalid", "sod_signature", None, detail, ds_subject=ds_subject)
    except UnsupportedAlgorithm as exc:
        return result("invalid", "sod_signature", None, f"unsupported: {exc}", ds_subject=ds_subject)

    candidates = trust.issuers_of(ds_cert)
    if not candidates:
        log.info("passive auth: no CSCA in the trust store for DS issuer %s", ds_cert.issuer.rfc4514_string())
        return result(
            "no_trust_anchor",
            None,
            None,
            f"no CSCA in the trust store matches issuer {ds_cert.issuer.rfc4514_string()}",
            ds_subject=ds_subject,
        )
    csca: x509.Certificate | None = None
    for candidate in candidates:
        try:
            verify_issued_by(ds_cert, candidate)
        except (InvalidSignature, UnsupportedAlgorithm):
            continue
        csca = candidate
        break
    if csca is None:
        return result(
            "invalid",
            "ds_signature",
            None,
            "document signer certificate is not signed by the matching CSCA",
            ds_subject=ds_subject,
        )
    csca_subject = csca.subject.rfc4514_string()
    if trust.is_revoked(ds_cert, csca):
        return result(
            "invalid",
            "revoked",
            None,
            f"document signer certificate serial {ds_cert.serial_number:X} is on the CRL of {csca_subject}",
            ds_subject=ds_subject,
            csca_subject=csca_subject,
        )
    problem = _ds_certificate_problem(ds_cert, _signing_time(signer))
    if problem is not None:
        return result("invalid", "ds_certificate", None, problem, ds_subject=ds_subject, csca_subject=csca_subject)
    for label, cert in (("document signer", ds_cert), ("CSCA", csca)):
        if _expired(cert, moment):
            return result(
                "expired",
                None,
                None,
                f"{label} certificate is valid {cert.not_valid_before_utc:%Y-%m-%d} to "
                f"{cert.not_valid_after_utc:%Y-%m-%d}, not at {moment:%Y-%m-%d %H:%M}Z",
                ds_subject=ds_subject,
                csca_subject=csca_subject,
            )
    return result("valid", ds_subject=ds_subject, csca_subject=csca_subject)
