"""A gate database with real sealed face evidence from the shared `examgate demo` run; each test works on a copy."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))  # privacy_helpers uses tests/core's lane helpers

from privacy_helpers import write_config


@pytest.fixture
def gate(demo_workdir: Path, tmp_path: Path) -> Path:
    """A config (returned) over a copy of the demo's database and data key."""
    shutil.copy(demo_workdir / "examgate.db", tmp_path / "gate.db")
    shutil.copy(demo_workdir / "data.key", tmp_path / "data.key")
    (tmp_path / "data.key").chmod(0o600)
    return write_config(tmp_path)
