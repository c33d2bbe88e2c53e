"""Structured logging: one line per record, ``key=value`` or JSON. No biometrics and no full ID numbers ever go in."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import re
import sys
import threading
from typing import Literal

_FULL_ID = re.compile(r"(?<!\d)(\d{4})\d{6}(\d{2})(?!\d)")


def scrub(text: str) -> str:
    """Last line of defence: any 12-digit number that reaches a log line is masked."""
    return _FULL_ID.sub(r"\1******\2", text)


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        msg = scrub(record.getMessage())
        line = f"ts={self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} level={record.levelname} logger={record.name} {msg}"
        if record.exc_info:
            line += " exc=" + scrub(self.formatException(record.exc_info)).replace("\n", " | ")
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        if record.exc_info:
            payload["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


def configure(fmt: Literal["kv", "json"] = "kv", level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


# ------------------------------------------------------------------ native libraries' own log lines
# MediaPipe, LiteRT/TFLite and absl write from C++ straight to file descriptor 2, around Python's logging. Their
# environment switches are set (for the versions that honour them) and the lines they still write are dropped.
NATIVE_LOG_ENV = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_CPP_MAX_VLOG_LEVEL": "-1"}
_NATIVE_LINE = re.compile(
    rb"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w./-]+:\d+\]"  # absl/glog INFO and WARNING
    rb"|INFO: "  # the TFLite/LiteRT minimal logger
    rb"|WARNING: Logging before InitGoogle\(\)"
    rb"|WARNING: All log messages before absl::InitializeLog\(\))"
)


def is_native_noise(line: bytes) -> bool:
    """An INFO/WARNING line of MediaPipe/LiteRT/absl; their errors (E…/F…/ERROR:) are kept."""
    return _NATIVE_LINE.match(line) is not None


class _StderrFilter:
    """fd 2 → a pipe; a thread forwards every line but the native libraries' noise to the real stderr."""

    def __init__(self) -> None:
        sys.stderr.flush()
        self._real = os.dup(2)
        read_end, write_end = os.pipe()
        os.dup2(write_end, 2)
        os.close(write_end)
        self._read = read_end
        self._thread = threading.Thread(target=self._pump, name="stderr-filter", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def _pump(self) -> None:
        pending = b""
        while chunk := os.read(self._read, 65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            kept = b"".join(line + b"\n" for line in lines if not is_native_noise(line))
            if kept:
                os.write(self._real, kept)
        if pending and not is_native_noise(pending):
            os.write(self._real, pending)
        os.close(self._read)

    def close(self) -> None:
        """Give fd 2 back (the pipe then ends) and wait for the last lines to be forwarded."""
        with contextlib.suppress(ValueError, OSError):
            sys.stderr.flush()
        os.dup2(self._real, 2)
        self._thread.join(timeout=2.0)  # a child still holding the pipe must not keep the process alive


_filter: _StderrFilter | None = None


def quiet_native_logs() -> None:
    """Silence MediaPipe/LiteRT/absl/TF log lines for this process (CLI commands; not the daemon, not ``--verbose``).

    Call before the vision stack is imported so the environment switches apply; idempotent."""
    global _filter
    for name, value in NATIVE_LOG_ENV.items():
        os.environ.setdefault(name, value)
    logging.getLogger("absl").setLevel(logging.ERROR)
    if _filter is None:
        _filter = _StderrFilter()
