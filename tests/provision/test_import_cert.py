"""`examgate provision import-cert`: a centre CA made in the test signs the gate's real CSR; the gate accepts
only a certificate for its own key and subject, valid now, from the given CA."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.provision.certs import import_cert
from edge.provision.errors import ProvisionError
from edge.provision.initialise import provision_init
from edge.provision.layout import Layout

NOW = dt.datetime.now(dt.UTC)


class CentreCa:
    def __init__(self, name: str = "Exam Centre CA") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def issue(
        self,
        public_key: ec.EllipticCurvePublicKey,
        cn: str,
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
    ) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - dt.timedelta(hours=1))
            .not_valid_after(not_after or NOW + dt.timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def sign_csr(self, csr_pem: bytes, **kw: dt.datetime) -> x509.Certificate:
        csr = x509.load_pem_x509_csr(csr_pem)
        public = csr.public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        cn = str(csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        return self.issue(public, cn, **kw)


def _write(path: Path, cert: x509.Certificate, encoding: serialization.Encoding = serialization.Encoding.PEM) -> Path:
    path.write_bytes(cert.public_bytes(encoding))
    return path


@pytest.fixture
def gate(tmp_path: Path) -> Layout:
    root = tmp_path / "root"
    provision_init(site_id="hcm-01", gate_id="lane-2", broker_url="mqtts://b.example:8883", root=root, dry_run=False)
    return Layout(root)


@pytest.fixture
def ca() -> CentreCa:
    return CentreCa()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_issued_certificate_is_installed_and_reimport_changes_nothing(
    gate: Layout, ca: CentreCa, tmp_path: Path
) -> None:
    cert_file = _write(tmp_path / "device.crt", ca.sign_csr(gate.csr.read_bytes()))
    ca_file = _write(tmp_path / "ca.crt", ca.cert)
    report = import_cert(cert_file, root=gate.root, ca_path=ca_file)
    assert report["subject"] == "CN=hcm-01-lane-2"
    assert _mode(gate.cert) == 0o644
    assert _mode(gate.ca_cert) == 0o644
    assert _mode(gate.device_key) == 0o600
    assert x509.load_pem_x509_certificate(gate.cert.read_bytes()).subject.rfc4514_string() == "CN=hcm-01-lane-2"
    again = import_cert(cert_file, root=gate.root, ca_path=ca_file)
    assert again["changed"] == 0
    assert again["summary"] == "nothing to do: already provisioned"


def test_der_certificate_and_renewal(gate: Layout, ca: CentreCa, tmp_path: Path) -> None:
    first = _write(tmp_path / "a.der", ca.sign_csr(gate.csr.read_bytes()), serialization.Encoding.DER)
    import_cert(first, root=gate.root)
    renewed = _write(tmp_path / "b.crt", ca.sign_csr(gate.csr.read_bytes()))
    report = import_cert(renewed, root=gate.root)
    (action,) = [a for a in report["actions"] if a["action"] == "device certificate"]
    assert action["status"] == "updated"
    assert gate.cert.read_bytes() == renewed.read_bytes()


def test_certificate_for_another_key_is_refused(gate: Layout, ca: CentreCa, tmp_path: Path) -> None:
    stranger = ec.generate_private_key(ec.SECP256R1()).public_key()
    cert_file = _write(tmp_path / "x.crt", ca.issue(stranger, "hcm-01-lane-2"))
    with pytest.raises(ProvisionError) as err:
        import_cert(cert_file, root=gate.root)
    assert err.value.code == "E_PROVISION_CERT_KEY_MISMATCH"
    assert not gate.cert.exists()


def test_certificate_with_another_subject_is_refused(gate: Layout, ca: CentreCa, tmp_path: Path) -> None:
    key = serialization.load_pem_private_key(gate.device_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    cert_file = _write(tmp_path / "x.crt", ca.issue(key.public_key(), "hcm-01-lane-9"))
    with pytest.raises(ProvisionError) as err:
        import_cert(cert_file, root=gate.root)
    assert err.value.code == "E_PROVISION_CERT_SUBJECT_MISMATCH"


def test_expired_and_future_certificates_are_refused(gate: Layout, ca: CentreCa, tmp_path: Path) -> None:
    csr = gate.csr.read_bytes()
    expired = ca.sign_csr(csr, not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(days=1))
    with pytest.raises(ProvisionError) as err:
        import_cert(_write(tmp_path / "old.crt", expired), root=gate.root)
    assert err.value.code == "E_PROVISION_CERT_EXPIRED"
    future = ca.sign_csr(csr, not_before=NOW + dt.timedelta(days=2), not_after=NOW + dt.timedelta(days=30))
    with pytest.raises(ProvisionError) as err2:
        import_cert(_write(tmp_path / "new.crt", future), root=gate.root)
    assert err2.value.code == "E_PROVISION_CERT_NOT_YET_VALID"
    assert "timedatectl" in err2.value.remedy


def test_certificate_from_another_ca_is_refused(gate: Layout, ca: CentreCa, tmp_path: Path) -> None:
    cert_file = _write(tmp_path / "d.crt", ca.sign_csr(gate.csr.read_bytes()))
    other_ca = _write(tmp_path / "other.crt", CentreCa("Someone Else CA").cert)
    with pytest.raises(ProvisionError) as err:
        import_cert(cert_file, root=gate.root, ca_path=other_ca)
    assert err.value.code == "E_PROVISION_CERT_NOT_ISSUED_BY_CA"
    assert not gate.ca_cert.exists()


def test_garbage_and_missing_files_are_typed(gate: Layout, tmp_path: Path) -> None:
    junk = tmp_path / "junk.crt"
    junk.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    with pytest.raises(ProvisionError) as err:
        import_cert(junk, root=gate.root)
    assert err.value.code == "E_PROVISION_CERT_INVALID"
    with pytest.raises(ProvisionError) as err2:
        import_cert(tmp_path / "absent.crt", root=gate.root)
    assert err2.value.code == "E_PROVISION_CERT_INVALID"


def test_not_initialised_gate(tmp_path: Path, ca: CentreCa) -> None:
    cert_file = _write(tmp_path / "d.crt", ca.cert)
    with pytest.raises(ProvisionError) as err:
        import_cert(cert_file, root=tmp_path / "fresh")
    assert err.value.code == "E_PROVISION_NOT_INITIALISED"


def test_dry_run_checks_but_writes_nothing(gate: Layout, ca: CentreCa, tmp_path: Path) -> None:
    cert_file = _write(tmp_path / "device.crt", ca.sign_csr(gate.csr.read_bytes()))
    report = import_cert(cert_file, root=gate.root, dry_run=True)
    assert not gate.cert.exists()
    assert [a["status"] for a in report["actions"] if a["action"] == "device certificate"] == ["would-create"]
