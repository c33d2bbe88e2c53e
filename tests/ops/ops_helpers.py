"""A gate on simulated devices in a temp folder: config file, card fixture, camera folder, roster, scores table."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

from edge.store import RosterRow, Store

REPO = Path(__file__).resolve().parents[2]
FACES = REPO / "tests" / "data" / "faces"
SESSION = "SES-OPS"
PERSONAL_ID = "001099012345"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_sim_gate(root: Path, *, extra: str = "", min_free_mb: int = 1, roster: bool = True) -> Path:
    """Write a complete simulated gate under ``root``; returns the config file."""
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "camera").mkdir(exist_ok=True)
    shutil.copyfile(FACES / "obama.jpg", root / "camera" / "live.jpg")
    shutil.copyfile(FACES / "obama2.jpg", root / "cards" / "an.jpg")
    (root / "cards" / "an.json").write_text(
        json.dumps(
            {
                "format": "examgate-card-fixture/1",
                "personal_id": PERSONAL_ID,
                "full_name": "Nguyễn Văn An",
                "birth_date": "1999-01-01",
                "expiry_date": "2039-01-01",
                "face_image": "an.jpg",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    (root / "scores.json").write_text(json.dumps({"live": 0.9}), encoding="utf-8")
    config = root / "examgate.toml"
    config.write_text(
        f"""
[site]
site_id = "ops-site"
gate_id = "lane-1"

[store]
path = "{root / "gate.db"}"
min_free_mb = {min_free_mb}

[policy]
thresholds = {{ version = "ops-test", match = 0.6, review = 0.5 }}

[reader]
kind = "simulated"
cards_dir = "{root / "cards"}"

[camera]
kind = "folder"
path = "{root / "camera"}"

[turnstile]
kind = "simulated"

[matcher]
kind = "simulated"
scores_file = "{root / "scores.json"}"
{extra}
""",
        encoding="utf-8",
    )
    if roster:
        store = Store.open(root / "gate.db")
        store.replace_roster(SESSION, [RosterRow("C1", PERSONAL_ID, "Nguyễn Văn An")])
        store.close()
    return config
