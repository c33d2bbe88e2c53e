"""Shared fixtures. ``shared_dir`` points at the reference material beside the checkout and skips when it is absent."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI replays the same generated cases every run (a failure there is then reproducible, never a coin toss);
# developers' runs stay random and explore further.
settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED_DIR / "reference").is_dir():
        pytest.skip(f"reference material not found beside the checkout ({SHARED_DIR.name}/ absent)")
    return SHARED_DIR


def run_examgate(*args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
    """``examgate <args>`` in a subprocess of this interpreter, output captured as text; any exit code returns."""
    return subprocess.run(
        [sys.executable, "-m", "edge.cli.main", *args], capture_output=True, text=True, timeout=timeout_s, check=False
    )


@pytest.fixture(scope="session")
def examgate() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_examgate`` for the tests of every folder: ``examgate("audit", "verify", "--config", path)``."""
    return run_examgate


@pytest.fixture(scope="session")
def demo_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `examgate demo` run (the real lane on simulated hardware) shared by the tests that read its database."""
    workdir = tmp_path_factory.mktemp("demo")
    done = run_examgate("demo", "--no-broker", "--workdir", str(workdir))
    # 1 = the run finished but a candidate's outcome differed from the scenario's expectation: still a real database
    assert done.returncode in (0, 1), done.stdout + done.stderr
    return workdir
