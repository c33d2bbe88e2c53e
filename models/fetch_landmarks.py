"""Extract MediaPipe's face landmark model (468-point face mesh) from the ``mediapipe==0.10.21`` wheel.

Same route as ``fetch_detector.py`` (whose download and checksum helpers it uses): ``pip download --no-deps``,
extract ``mediapipe/modules/face_landmark/face_landmark.tflite``, check it against ``models/SHA256SUMS``.
Apache-2.0 like the detector. The result is committed; the device never runs this script.

    python models/fetch_landmarks.py [--out models/face_landmark.tflite] [--pip PYTHON]
"""

from __future__ import annotations

import sys
from pathlib import Path

import fetch_detector

MEMBER = "mediapipe/modules/face_landmark/face_landmark.tflite"
DEFAULT_OUT = Path(__file__).resolve().parent / "face_landmark.tflite"


def main(argv: list[str] | None = None) -> int:
    return fetch_detector.main(argv, member=MEMBER, default_out=DEFAULT_OUT, doc=__doc__)


if __name__ == "__main__":
    sys.exit(main())
