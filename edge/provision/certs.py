"""`examgate provision import-cert`: install the certificate the centre's CA issued for this gate's CSR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.provision import identity
from edge.provision.errors import ProvisionError
from edge.provision.layout import Layout
from edge.provision.steps import Runner


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProvisionError(
            f"cannot read {what} {path}: {exc.strerror}",
            code="E_PROVISION_CERT_INVALID",
            remedy=f"check the path of the {what}",
        ) from exc


def import_cert(cert_path: Path, *, root: Path, ca_path: Path | None = None, dry_run: bool = False) -> dict[str, Any]:
    layout = Layout(root)
    if not layout.device_key.is_file() or not layout.csr.is_file():
        raise ProvisionError(
            f"this gate has no device key/CSR under {layout.etc_dir}",
            code="E_PROVISION_NOT_INITIALISED",
            remedy="run `examgate provision init --site S --gate G --broker URL` first",
        )
    key_pem = layout.device_key.read_bytes()
    csr_pem = layout.csr.read_bytes()
    cert = identity.load_certificate(_read(cert_path, "certificate"), str(cert_path))
    ca = identity.load_certificate(_read(ca_path, "CA certificate"), str(ca_path)) if ca_path else None
    identity.check_certificate(cert, key_pem=key_pem, csr_pem=csr_pem, ca=ca)

    run = Runner(dry_run=dry_run)
    cert_pem = identity.certificate_pem(cert)
    run.ensure_file(layout.cert, lambda: cert_pem, 0o644, action="device certificate")
    if ca is not None:
        ca_pem = identity.certificate_pem(ca)
        run.ensure_file(layout.ca_cert, lambda: ca_pem, 0o644, action="CA certificate")
    # The key stays where it is; only its mode is checked (and put back to 0600 if someone loosened it).
    run.ensure_file(layout.device_key, lambda: key_pem, 0o600, action="device key", replace="never")
    return run.report(
        root=str(root),
        subject=cert.subject.rfc4514_string(),
        not_valid_after=cert.not_valid_after_utc.isoformat(),
        next=["systemctl restart examgate"],
    )
