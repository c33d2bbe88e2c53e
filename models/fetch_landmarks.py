"""Extract MediaPipe's face landmark model (468-point face mesh) from the ``mediapipe==0.10.21`` wheel.

Same route as ``fetch_detector.py`` (whose download and checksum helpers it uses): ``pip download --no-deps``,
extract ``mediapipe/modules/face_landmark/face_landmark.tflite``, check it against ``models/SHA256SUMS``.
Apache-2.0 like the detector. The result is committed; the device never runs this script.

    python models/fetch_landmarks.py [--out models/face_landmark.tflite] [--pip PYTHON]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import zipfile
from pathlib import Path

from fetch_detector import SUMS_FILE, FetchError, download_wheel, expected_sha256

MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
DEFAULT_OUT = Path(__file__).resolve().parent / "face_landmark.tflite"


def fetch(out: Path, python: str = sys.executable, sums_file: Path = SUMS_FILE) -> str:
    want = expected_sha256(sums_file, out.name)
    with (
        tempfile.TemporaryDirectory(prefix="examgate-mp-") as tmp,
        zipfile.ZipFile(download_wheel(Path(tmp), python)) as zf,
    ):
        data = zf.read(MEMBER)
    got = hashlib.sha256(data).hexdigest()
    if got != want:
        raise FetchError(f"checksum mismatch for {out.name}: got {got}, SHA256SUMS says {want}")
    out.write_bytes(data)
    return got


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--pip", default=sys.executable)
    parser.add_argument("--sums", type=Path, default=SUMS_FILE)
    args = parser.parse_args(argv)
    try:
        digest = fetch(args.out, args.pip, args.sums)
    except (FetchError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{digest}  {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
