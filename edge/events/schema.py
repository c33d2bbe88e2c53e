"""The published JSON Schema file and its drift check."""

from __future__ import annotations

import json
from pathlib import Path

from edge.events.models import json_schema

SCHEMA_FILE = "events.schema.json"


def render_schema() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed_schema_path(repo_root: Path) -> Path:
    return repo_root / "schemas" / SCHEMA_FILE
