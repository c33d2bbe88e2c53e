"""Fixtures of tests/api; the helpers live in api_env.py, which builds its gate with the lane helpers of tests/core
(their folder goes on sys.path, as tests/central does for tests/mqtt)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from api_env import Env, LiveServer, build_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    built = build_env(tmp_path)
    try:
        yield built
    finally:
        built.lane.stop()
        built.gate.close()


@pytest.fixture
def live(env: Env) -> Iterator[LiveServer]:
    server = LiveServer(env.app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
