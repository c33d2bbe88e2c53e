"""Identity files for the chip-reading tests (imported as a plain module: tests/ is not a package; tests/identity puts
this folder on sys.path in its conftest): a noise face photo, a PACE and a BAC identity, the trust manifest."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
from PIL import Image

from edge.identity import trust_admin
from firmware_bridge.sim.identity_builder import build_identity

PERSONAL_ID = "001099012345"


def face_jpeg(path: Path, seed: int = 7) -> bytes:
    """A noise JPEG of about 16 KB (a DG2 of realistic size), written to ``path``."""
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (200, 160, 3), dtype=np.uint8)).save(buffer, "JPEG", quality=60)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def identity_set(folder: Path, full_name: str, sex: str, *, seed: int = 7) -> dict[str, Path]:
    """One person (``PERSONAL_ID``, born 1999-01-01, card valid to 2039) as a PACE identity and a BAC-only one, their
    test CSCA imported as the only trust anchor, and the face photo: the files by role."""
    face_jpeg(folder / "face.jpg", seed)
    common = {
        "full_name": full_name,
        "personal_id": PERSONAL_ID,
        "birth_date": dt.date(1999, 1, 1),
        "expiry_date": dt.date(2039, 1, 1),
        "sex": sex,
        "face_image_path": folder / "face.jpg",
    }
    document = build_identity(**common, out_path=folder / "pace.json")  # type: ignore[arg-type]
    build_identity(**common, out_path=folder / "bac.json", pace=None)  # type: ignore[arg-type]
    (folder / "csca.pem").write_text(document["csca_certificate_pem"])
    trust_admin.import_file(folder / "csca", folder / "csca.pem", [])  # the reader trusts only the manifest
    return {
        "pace": folder / "pace.json",
        "bac": folder / "bac.json",
        "csca": folder / "csca",
        "face": folder / "face.jpg",
    }
