"""Structured logging: one line per record, ``key=value`` or JSON. No biometrics and no full ID numbers ever go in."""

from __future__ import annotations

import json
import logging
import re
import sys
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
