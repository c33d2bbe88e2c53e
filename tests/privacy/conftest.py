"""A gate database with real sealed face evidence, made by one `examgate demo` run; each test works on a copy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from privacy_helpers import write_config


@pytest.fixture(scope="session")
def demo_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("privacy-demo")
    done = subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "demo", "--no-broker", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # 1 = the run finished but a candidate's outcome differed from the scenario's expectation: still a real database
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return workdir


@pytest.fixture
def gate(demo_workdir: Path, tmp_path: Path) -> Path:
    """A config (returned) over a copy of the demo's database and data key."""
    shutil.copy(demo_workdir / "examgate.db", tmp_path / "gate.db")
    shutil.copy(demo_workdir / "data.key", tmp_path / "data.key")
    (tmp_path / "data.key").chmod(0o600)
    return write_config(tmp_path)
