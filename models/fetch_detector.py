"""Fetch MediaPipe's BlazeFace short-range face detector from the ``mediapipe==0.10.21`` wheel.

Current ``mediapipe`` wheels ship no model files, the 0.10.21 wheel does. This script downloads that
wheel with ``pip download --no-deps`` (whichever platform pip picks; the model file is the same in every
wheel), extracts ``mediapipe/modules/face_detection/face_detection_short_range.tflite`` and checks its
SHA-256 against the line in ``models/SHA256SUMS``. The model is Apache-2.0 (see
``models/cards/face_detector.md``); the result is committed, so the device never needs this script or the
network.

    python models/fetch_detector.py [--out models/face_detection_short_range.tflite] [--pip PYTHON]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MEDIAPIPE_VERSION = "0.10.21"
MEMBER = "mediapipe/modules/face_detection/face_detection_short_range.tflite"
MODELS_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = MODELS_DIR / "face_detection_short_range.tflite"
SUMS_FILE = MODELS_DIR / "SHA256SUMS"
# A wheel pip can always fetch whatever interpreter runs this (used when the plain download finds none).
FALLBACK_PLATFORM = ["--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--only-binary=:all:"]


class FetchError(RuntimeError):
    """The model could not be fetched or did not match its recorded checksum."""


def expected_sha256(sums_file: Path, name: str) -> str:
    """The SHA-256 recorded for ``name`` in a ``sha256sum``-style file."""
    if not sums_file.is_file():
        raise FetchError(f"{sums_file} not found: it must hold the recorded checksum of {name}")
    for line in sums_file.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == name:
            return parts[0].lower()
    raise FetchError(f"no checksum for {name} in {sums_file}")


def download_wheel(dest: Path, python: str) -> Path:
    """``pip download --no-deps mediapipe==0.10.21`` into ``dest``; returns the wheel's path."""
    base = [python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", str(dest)]
    spec = f"mediapipe=={MEDIAPIPE_VERSION}"
    for extra in ([], FALLBACK_PLATFORM):
        proc = subprocess.run([*base, *extra, spec], capture_output=True, text=True, check=False)
        wheels = sorted(dest.glob("mediapipe-*.whl"))
        if proc.returncode == 0 and wheels:
            return wheels[0]
    raise FetchError(f"pip could not download {spec}: {proc.stderr.strip()[-500:]}")


def extract_model(wheel: Path, member: str = MEMBER) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        try:
            return zf.read(member)
        except KeyError as exc:
            raise FetchError(f"{member} is not in {wheel.name}") from exc


def fetch(out: Path, python: str = sys.executable, sums_file: Path = SUMS_FILE, member: str = MEMBER) -> str:
    """Download, extract ``member``, verify and write it to ``out``; returns its SHA-256."""
    want = expected_sha256(sums_file, out.name)
    with tempfile.TemporaryDirectory(prefix="examgate-mp-") as tmp:
        data = extract_model(download_wheel(Path(tmp), python), member)
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise FetchError(f"checksum mismatch for {out.name}: got {got}, SHA256SUMS says {want}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_suffix(out.suffix + ".part")
    tmp_out.write_bytes(data)
    tmp_out.replace(out)
    return got


def main(
    argv: list[str] | None = None, member: str = MEMBER, default_out: Path = DEFAULT_OUT, doc: str | None = __doc__
) -> int:
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=default_out, help="where to write the .tflite file")
    parser.add_argument("--pip", default=sys.executable, help="the Python whose pip downloads the wheel")
    parser.add_argument("--sums", type=Path, default=SUMS_FILE, help="SHA256SUMS file with the expected hash")
    args = parser.parse_args(argv)
    try:
        digest = fetch(args.out, args.pip, args.sums, member)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{digest}  {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
