"""Helpers of the privacy tests: a gate config over a copy of the demo's database."""

from __future__ import annotations

from pathlib import Path

from lane_helpers import gate_toml


def write_config(root: Path, privacy: str = "") -> Path:
    (root / "cards").mkdir(exist_ok=True)
    (root / "camera").mkdir(exist_ok=True)
    config = root / "examgate.toml"
    devices = f"""
[turnstile]
kind = "simulated"

[privacy]
key_file = "{root / "data.key"}"
{privacy}
"""
    config.write_text(gate_toml("privacy-site", "privacy-test", root=root, extra=devices), encoding="utf-8")
    return config
