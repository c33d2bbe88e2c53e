"""The cloud-init first-boot template: valid YAML once filled in, and it runs the same provisioning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="PyYAML not installed (dev dependency pyyaml)")

TEMPLATE = Path(__file__).resolve().parents[2] / "provisioning" / "cloud-init" / "user-data.yaml"
VALUES = {
    "__SITE__": "hcm-01",
    "__GATE__": "lane-2",
    "__BROKER_URL__": "mqtts://broker.centre.example:8883",
    "__TECHNICIAN_KEY__": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample technician@centre",
    "__SOURCE_URL__": "https://git.centre.example/examgate.git",
    "__VERSION__": "v0.1.0",
}


def _filled() -> str:
    text = TEMPLATE.read_text(encoding="utf-8")
    for placeholder, value in VALUES.items():
        text = text.replace(placeholder, value)
    return text


def test_every_placeholder_is_documented_and_known() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    used = set(re.findall(r"__[A-Z_]+__", text))
    assert used == set(VALUES)
    header = text.split("\n\n", 1)[0]
    for placeholder in VALUES:
        assert placeholder in header


def test_filled_template_is_cloud_config_that_provisions_the_gate() -> None:
    text = _filled()
    assert text.startswith("#cloud-config\n")
    doc = yaml.safe_load(text)
    assert doc["hostname"] == "eg-hcm-01-lane-2"
    assert "python3-picamera2" in doc["packages"]
    commands = [c if isinstance(c, list) else [c] for c in doc["runcmd"]]
    provision = [c for c in commands if c[1:3] == ["provision", "init"]]
    assert provision == [
        [
            "/opt/examgate/venv/bin/examgate",
            "provision",
            "init",
            "--site",
            "hcm-01",
            "--gate",
            "lane-2",
            "--broker",
            "mqtts://broker.centre.example:8883",
            "--source",
            "/opt/examgate/src",
        ]
    ]
    venv = [c for c in commands if c[:3] == ["python3", "-m", "venv"]]
    assert venv
    assert "--system-site-packages" in venv[0]  # picamera2/libcamera come from apt
    assert doc["users"][0]["ssh_authorized_keys"] == [VALUES["__TECHNICIAN_KEY__"]]
    assert doc["ssh_pwauth"] is False
