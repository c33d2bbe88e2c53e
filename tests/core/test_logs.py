"""Logs carry masked IDs only: the formatter masks any 12-digit number that reaches it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from edge.logs import JsonFormatter, KeyValueFormatter, configure, scrub


def record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("examgate.test", logging.INFO, __file__, 1, msg, args, None)


def test_scrub_masks_full_ids_but_not_other_numbers() -> None:
    assert scrub("id=001099012345 ok") == "id=0010******45 ok"
    assert scrub("attempt=1234 took 250 ms, 2026-11-25") == "attempt=1234 took 250 ms, 2026-11-25"
    assert scrub("1234567890123") == "1234567890123"  # 13 digits is not a CCCD number


def test_key_value_and_json_lines() -> None:
    kv = KeyValueFormatter().format(record("candidate id=%s outcome=%s", "001099012345", "pass"))
    assert "level=INFO" in kv and "id=0010******45" in kv and "001099012345" not in kv
    line = JsonFormatter().format(record("id=%s", "079301004567"))
    assert json.loads(line)["msg"] == "id=0793******67"


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_configure_installs_one_handler(capsys: pytest.CaptureFixture[str]) -> None:
    configure("json", "INFO")
    configure("json", "INFO")
    assert len(logging.getLogger().handlers) == 1
    logging.getLogger("examgate.test").info("id=%s", "001099012345")
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(err)["msg"] == "id=0010******45"
