"""Fixtures for eMRTD end-to-end tests: identities built once per module, a virtual chip behind an in-memory channel."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from firmware_bridge.sim import pki as sim_pki
from firmware_bridge.sim.identity_builder import build_identity
from firmware_bridge.sim.vchip.card import VirtualCccdChip
from firmware_bridge.sim.vchip.identity import identity_from_json

PERSONAL_ID = "001099012345"
BIRTH, EXPIRY = dt.date(1999, 1, 1), dt.date(2039, 1, 1)


@pytest.fixture(scope="session")
def face_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("face") / "face.jpg"
    image = Image.new("RGB", (96, 128))
    image.putdata([((x * 7) % 256, (y * 5) % 256, 128) for y in range(128) for x in range(96)])
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture(scope="session")
def pki() -> sim_pki.TestPki:
    return sim_pki.make_test_pki("VN")


@pytest.fixture(scope="session")
def make_document(face_path: Path, pki: sim_pki.TestPki) -> Callable[..., dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}

    def make(**options: Any) -> dict[str, Any]:
        key = repr(sorted(options.items()))
        if key not in cache:
            cache[key] = build_identity("Nguyễn Văn An", PERSONAL_ID, BIRTH, EXPIRY, "M", face_path, pki=pki, **options)
        return cache[key]

    return make


@pytest.fixture
def make_card(make_document: Callable[..., dict[str, Any]]) -> Callable[..., VirtualCccdChip]:
    def make(faults: dict[str, Any] | None = None, **options: Any) -> VirtualCccdChip:
        return VirtualCccdChip(identity_from_json(make_document(**options)), **(faults or {}))

    return make
