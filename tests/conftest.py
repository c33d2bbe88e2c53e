"""Shared fixtures. ``shared_dir`` points at the reference material beside the checkout and skips when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

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
