"""Helpers of the privacy tests: a gate config over a copy of the demo's database."""

from __future__ import annotations

from pathlib import Path


def write_config(root: Path, privacy: str = "") -> Path:
    (root / "cards").mkdir(exist_ok=True)
    (root / "camera").mkdir(exist_ok=True)
    config = root / "examgate.toml"
    config.write_text(
        f"""
[site]
site_id = "privacy-site"
gate_id = "lane-1"

[store]
path = "{root / "gate.db"}"

[policy]
thresholds = {{ version = "privacy-test", match = 0.6, review = 0.5 }}

[reader]
kind = "simulated"
cards_dir = "{root / "cards"}"

[camera]
kind = "folder"
path = "{root / "camera"}"

[turnstile]
kind = "simulated"

[privacy]
key_file = "{root / "data.key"}"
{privacy}
""",
        encoding="utf-8",
    )
    return config
