"""Fixtures for the LDS tests: a dev identity's data groups and a throw-away PKI (no committed keys)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from firmware_bridge.sim import lds_build
from firmware_bridge.sim import pki as sim_pki

DEV_ID = "001099012345"


@pytest.fixture(scope="session")
def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 64), (200, 150, 120)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture(scope="session")
def dev_dgs(jpeg_bytes: bytes) -> dict[int, bytes]:
    return {
        1: lds_build.build_dg1_td1(
            DEV_ID[-9:], dt.date(1999, 1, 1), dt.date(2039, 1, 1), "M", "VNM", "Nguyễn", "Văn An", DEV_ID
        ),
        2: lds_build.build_dg2(jpeg_bytes, "jpeg", 48, 64),
        13: lds_build.build_dg13({1: DEV_ID, 2: "Nguyễn Văn An", 3: "01/01/1999", 7: "Không"}),
    }


@pytest.fixture(scope="session")
def pki() -> sim_pki.TestPki:
    return sim_pki.make_test_pki()
