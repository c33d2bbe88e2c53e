"""The report tests read the database of the shared `examgate demo` run (``demo_workdir`` in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_db(demo_workdir: Path) -> Path:
    return demo_workdir / "examgate.db"
