"""Fault 9 (issue 14): what a new user's first run points at is installed, and the docs call the venv's python."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_mosquitto_sub_the_demo_suggests_is_installed_by_system_deps() -> None:
    suggests = any("mosquitto_sub" in p.read_text(encoding="utf-8") for p in (ROOT / "edge").rglob("*.py"))
    script = (ROOT / "provisioning" / "system-deps.sh").read_text(encoding="utf-8")
    installs = re.search(r"need\+=\(mosquitto-clients\)", script) is not None
    assert installs or not suggests


def test_docs_chip_calls_the_venvs_python() -> None:
    text = (ROOT / "docs" / "chip.md").read_text(encoding="utf-8")
    bare = [line for line in text.splitlines() if re.search(r"(^|`)python3? (-m|-c|\S+\.py)", line)]
    assert bare == []
