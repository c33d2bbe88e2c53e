"""A real mosquitto for the tests: free loopback ports, generated config/PKI/ACL, start/stop/kill/restart."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

MOSQUITTO = shutil.which("mosquitto") or next(
    (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "central"
ACL_FILE = DEPLOY / "acl"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    dir: Path

    def client(self, name: str) -> tuple[Path, Path]:
        return self.dir / f"{name}.crt", self.dir / f"{name}.key"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    valid: tuple[dt.datetime, dt.datetime],
    *,
    ca: bool,
) -> x509.CertificateBuilder:
    """What every certificate of the test PKI carries: names, public key, serial, validity, basic constraints."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid[0])
        .not_valid_after(valid[1])
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )


def make_pki(folder: Path, clients: tuple[str, ...]) -> Pki:
    """Test CA, a server certificate for 127.0.0.1/localhost and one client certificate per name (CN = name)."""
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    later = now + dt.timedelta(days=2)
    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "examgate test CA")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key, (now, later), ca=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.crt").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))

    def leaf(name: str, server: bool) -> None:
        key = _key()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = _builder(subject, ca_name, key, (now, later), ca=False).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(ca_key, hashes.SHA256())
        (folder / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(folder / f"{name}.key", key)

    leaf("server", server=True)
    for name in clients:
        leaf(name, server=False)
    return Pki(ca=folder / "ca.crt", server_cert=folder / "server.crt", server_key=folder / "server.key", dir=folder)


class Mosquitto:
    """One broker process with three listeners: plain (anonymous), mTLS (CN = username, ACL), TLS + password (ACL)."""

    def __init__(
        self, pki_clients: tuple[str, ...] = ("gate-a", "gate-b", "central-ops", "ingest"), *, sample: bool = False
    ) -> None:
        assert MOSQUITTO is not None
        self.dir = Path(tempfile.mkdtemp(prefix="examgate-mosq-"))
        self.pki = make_pki(self.dir, pki_clients)
        self.port = free_port()
        self.tls_port = free_port()
        self.pw_port = free_port()
        shutil.copyfile(ACL_FILE, self.dir / "acl")  # the committed sample ACL, as-is
        self.passwords = {"gate-p": "gate-p-secret", "central-ops": "ops-secret", "ingest": "ingest-secret"}
        pwfile = self.dir / "passwd"
        pwfile.write_text("")
        for user, password in self.passwords.items():
            subprocess.run(["mosquitto_passwd", "-b", str(pwfile), user, password], check=True, capture_output=True)
        self.config = self.dir / "mosquitto.conf"
        self.config.write_text(self._sample_text() if sample else self._config_text())
        self.log = self.dir / "mosquitto.log"
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("mosquitto")
            except KeyError:
                entry = None
            if entry is not None:
                for path in [self.dir, *self.dir.iterdir()]:
                    os.chown(path, entry.pw_uid, entry.pw_gid)
        self.dir.chmod(0o755)
        self.proc: subprocess.Popen[bytes] | None = None

    def _config_text(self) -> str:
        d = self.dir
        tls = "".join(  # what both TLS listeners present
            f"{line}\n"
            for line in (
                f"cafile {self.pki.ca}",
                f"certfile {self.pki.server_cert}",
                f"keyfile {self.pki.server_key}",
                "tls_version tlsv1.2",
            )
        )
        return f"""\
per_listener_settings true
persistence true
persistence_location {d}/
autosave_interval 1
log_dest file {d}/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
max_queued_messages 200000
message_size_limit 0
max_inflight_messages 100

listener {self.port} 127.0.0.1
allow_anonymous true

listener {self.tls_port} 127.0.0.1
{tls}require_certificate true
use_identity_as_username true
acl_file {d}/acl

listener {self.pw_port} 127.0.0.1
{tls}allow_anonymous false
password_file {d}/passwd
acl_file {d}/acl
"""

    def _sample_text(self) -> str:
        """deploy/central/mosquitto.conf with this instance's paths and ports."""
        d = self.dir
        text = (DEPLOY / "mosquitto.conf").read_text()
        text = text.replace("/etc/mosquitto/examgate/ca.crt", str(self.pki.ca))
        text = text.replace("/etc/mosquitto/examgate/server.crt", str(self.pki.server_cert))
        text = text.replace("/etc/mosquitto/examgate/server.key", str(self.pki.server_key))
        text = text.replace("/etc/mosquitto/examgate/", f"{d}/").replace("/var/lib/mosquitto/", f"{d}/")
        text = text.replace("log_dest syslog", f"log_dest file {d}/mosquitto.log")
        text = text.replace("listener 8883\n", f"listener {self.tls_port} 127.0.0.1\n")
        text = text.replace("listener 8884\n", f"listener {self.pw_port} 127.0.0.1\n")
        return text.replace("listener 1883 127.0.0.1", f"listener {self.port} 127.0.0.1")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.tls_port}"

    @property
    def pw_url(self) -> str:
        return f"mqtts://127.0.0.1:{self.pw_port}"

    def start(self, timeout_s: float = 10.0) -> None:
        assert MOSQUITTO is not None
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited: {err}\n{self.log_text()}")
            try:
                with (
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
                    socket.create_connection(("127.0.0.1", self.tls_port), timeout=0.2),
                ):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen within {timeout_s}s\n{self.log_text()}")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its persistence file, then exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
