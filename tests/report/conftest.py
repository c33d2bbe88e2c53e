"""One `examgate demo` run shared by the report tests (the demo is the real lane on simulated hardware)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo")
    done = subprocess.run(
        [sys.executable, "-m", "edge.cli.main", "demo", "--no-broker", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    # 1 = the run finished but a candidate's outcome differed from the scenario's expectation: still a real database
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return workdir / "examgate.db"
