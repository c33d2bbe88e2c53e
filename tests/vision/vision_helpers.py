"""Helpers of the vision tests (imported as a plain module: tests/ is not a package): encoded test images and the
``examgate face`` commands run through the real parser."""

from __future__ import annotations

import argparse
import io
import json
import struct
import zlib
from typing import Any

import pytest
from PIL import Image

from edge.vision.cli import register


def encode(img: Image.Image, fmt: str, **kwargs: object) -> bytes:
    """``img`` saved in format ``fmt`` (PIL's save options in ``kwargs``)."""
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height but which carries no pixel data: enough for the header checks."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def run_face_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    """Exit code and output of ``examgate <argv>`` (the face commands), the output parsed when ``--json`` asks."""
    parser = argparse.ArgumentParser(prog="examgate")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out
