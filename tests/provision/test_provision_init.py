"""`examgate provision init` against a temporary root: files, modes, keys, config, units, idempotency, dry run."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import stat
import tomllib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge.config import load_config
from edge.provision.cli import register
from edge.provision.errors import ProvisionError
from edge.provision.initialise import provision_init
from edge.provision.layout import Layout

REPO = Path(__file__).resolve().parents[2]
BROKER = "mqtts://broker.centre.example:8883"


def _init(root: Path, *, site: str = "hcm-01", gate: str = "lane-2", dry_run: bool = False) -> dict:
    return provision_init(site_id=site, gate_id=gate, broker_url=BROKER, root=root, dry_run=dry_run)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _snapshot(root: Path) -> dict[str, tuple[int, int, bytes | str]]:
    out: dict[str, tuple[int, int, bytes | str]] = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        body: bytes | str = os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else b""
        out[str(path.relative_to(root))] = (stat.S_IMODE(st.st_mode), st.st_mtime_ns, body)
    return out


def test_init_creates_identity_config_and_units_with_safe_modes(tmp_path: Path) -> None:
    report = _init(tmp_path)
    layout = Layout(tmp_path)
    assert report["ok"] is True
    assert report["identity"] == "hcm-01-lane-2"

    assert _mode(layout.credentials_dir) == 0o700
    assert _mode(layout.device_key) == 0o600
    assert _mode(layout.data_key) == 0o600
    assert _mode(layout.data_dir) == 0o750
    assert _mode(layout.csr) == 0o644
    assert len(layout.data_key.read_bytes()) == 32

    key = serialization.load_pem_private_key(layout.device_key.read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"
    csr = x509.load_pem_x509_csr(layout.csr.read_bytes())
    assert csr.is_signature_valid
    assert [a.value for a in csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == ["hcm-01-lane-2"]
    assert csr.public_key() == key.public_key()

    cfg = load_config(layout.config, environ={})  # the daemon's own loader
    assert (cfg.site.site_id, cfg.site.gate_id) == ("hcm-01", "lane-2")
    assert cfg.mqtt is not None
    assert cfg.mqtt.broker_url == BROKER
    assert cfg.mqtt.key_file == Path("/run/credentials/examgate.service/mqtt-client-key")
    assert cfg.privacy.key_file == Path("/run/credentials/examgate.service/data-key")
    assert cfg.turnstile.kind == "gpio"
    assert cfg.camera.kind == "picamera2"

    for unit in ("examgate.service", "examgate-retention.service", "examgate-retention.timer"):
        assert (layout.units_dir / unit).read_bytes() == (REPO / "systemd" / unit).read_bytes()
    commands = [a["target"] for a in report["actions"] if a["status"] == "would-run"]
    assert any(c.startswith("useradd --system") and c.endswith(" examgate") for c in commands)
    assert {"groupadd --system video", "groupadd --system gpio", "groupadd --system dialout"} <= set(commands)


@pytest.mark.skipif(shutil.which("systemctl") is None, reason="systemctl not installed (Debian package `systemd`)")
def test_init_enables_the_units_in_the_root(tmp_path: Path) -> None:
    _init(tmp_path)
    wants = tmp_path / "etc/systemd/system/multi-user.target.wants/examgate.service"
    timer = tmp_path / "etc/systemd/system/timers.target.wants/examgate-retention.timer"
    assert os.readlink(wants) == "/etc/systemd/system/examgate.service"
    assert os.readlink(timer) == "/etc/systemd/system/examgate-retention.timer"


def test_rerun_changes_nothing_and_says_so(tmp_path: Path) -> None:
    _init(tmp_path)
    before = _snapshot(tmp_path)
    again = _init(tmp_path)
    assert again["changed"] == 0
    assert again["summary"].startswith("nothing to do: already provisioned")
    assert _snapshot(tmp_path) == before


def test_existing_accounts_in_the_root_are_not_recreated(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\nexamgate:x:990:990::/var/lib/examgate:/x\n")
    (tmp_path / "etc/group").write_text("video:x:44:\ngpio:x:993:\ndialout:x:20:\nexamgate:x:990:\n")
    report = _init(tmp_path)
    assert not [a for a in report["actions"] if a["action"] in ("user", "group") and a["status"] != "unchanged"]


def test_dry_run_writes_nothing_and_lists_every_action(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    report = _init(root, dry_run=True)
    assert list(root.iterdir()) == []
    statuses = {a["status"] for a in report["actions"]}
    assert statuses <= {"would-create", "would-run"}
    targets = " ".join(a["target"] for a in report["actions"])
    for expected in ("device.key", "data.key", "device.csr", "examgate.toml", "examgate.service", "enable"):
        assert expected in targets
    assert report["changed"] == 0


def test_dry_run_after_init_reports_nothing_to_change(tmp_path: Path) -> None:
    _init(tmp_path)
    report = _init(tmp_path, dry_run=True)
    assert not [a for a in report["actions"] if a["status"] not in ("unchanged", "would-run")]
    assert not [a for a in report["actions"] if a["status"] == "would-run" and a["action"] == "enable units"]


def test_keys_are_never_replaced_and_loosened_modes_are_fixed(tmp_path: Path) -> None:
    _init(tmp_path)
    layout = Layout(tmp_path)
    key_before = layout.device_key.read_bytes()
    layout.device_key.chmod(0o644)
    report = _init(tmp_path)
    assert _mode(layout.device_key) == 0o600
    assert layout.device_key.read_bytes() == key_before
    fixed = [a for a in report["actions"] if a["target"].endswith("device.key")]
    assert fixed[0]["status"] == "updated"


def test_operator_edits_to_the_config_are_kept(tmp_path: Path) -> None:
    _init(tmp_path)
    layout = Layout(tmp_path)
    edited = layout.config.read_text(encoding="utf-8").replace("pulse_ms = 300", "pulse_ms = 200")
    layout.config.write_text(edited, encoding="utf-8")
    report = _init(tmp_path)
    assert layout.config.read_text(encoding="utf-8") == edited
    (config_action,) = [a for a in report["actions"] if a["action"] == "config"]
    assert config_action["status"] == "kept"


def test_other_identity_on_a_provisioned_gate_is_refused(tmp_path: Path) -> None:
    _init(tmp_path)
    with pytest.raises(ProvisionError) as err:
        _init(tmp_path, gate="lane-3")
    assert err.value.code == "E_PROVISION_IDENTITY_CONFLICT"


@pytest.mark.parametrize("site", ["", "-x", "a b", "x/y", "é"])
def test_bad_ids_are_typed(tmp_path: Path, site: str) -> None:
    with pytest.raises(ProvisionError) as err:
        _init(tmp_path, site=site)
    assert err.value.code == "E_PROVISION_BAD_ID"
    assert list(tmp_path.iterdir()) == []


def test_plaintext_remote_broker_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ProvisionError) as err:
        provision_init(
            site_id="s", gate_id="g", broker_url="mqtt://broker.centre.example", root=tmp_path, dry_run=False
        )
    assert err.value.code == "E_PROVISION_CONFIG_INVALID"
    assert list(tmp_path.iterdir()) == []


def test_loopback_broker_gets_no_tls_section(tmp_path: Path) -> None:
    provision_init(site_id="lab", gate_id="g1", broker_url="mqtt://127.0.0.1:1883", root=tmp_path, dry_run=False)
    mqtt = tomllib.loads(Layout(tmp_path).config.read_text(encoding="utf-8"))["mqtt"]
    assert mqtt == {"broker_url": "mqtt://127.0.0.1:1883"}


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="examgate")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_prints_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["provision", "init", "--site", "dn-02", "--gate", "g1", "--broker", BROKER, "--root", str(tmp_path)]
    assert _cli([*argv, "--dry-run"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dry_run"] is True
    assert list(tmp_path.iterdir()) == []
    assert _cli(argv) == 0
    assert json.loads(capsys.readouterr().out)["changed"] > 0
    bad = ["provision", "init", "--site", "bad id", "--gate", "g", "--broker", BROKER, "--root", str(tmp_path)]
    assert _cli(bad) == 3  # EXIT_ERROR: an ExamGateError stopped the command
    failed = json.loads(capsys.readouterr().out)
    assert failed["ok"] is False
    assert failed["error"]["code"] == "E_PROVISION_BAD_ID"
