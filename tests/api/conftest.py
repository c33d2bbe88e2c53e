"""Fixtures of tests/api; the helpers live in api_env.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
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
