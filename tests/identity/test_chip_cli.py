"""``examgate chip read`` end to end: a subprocess against ``examgate sim reader`` in another subprocess."""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from chip_helpers import PERSONAL_ID, identity_set

from edge.cli import chip as chip_cli
from edge.cli import sim as sim_cli
from edge.identity.chip_read import NoCardError
from edge.identity.emrtd.errors import (
    AccessDeniedError,
    CardRemovedError,
    ChipCommunicationError,
    ChipStatusError,
    MalformedResponseError,
    SecureMessagingError,
    UnsupportedError,
)
from edge.identity.mrz import MrzError
from firmware_bridge.pn532.errors import Pn532TimeoutError
from firmware_bridge.sim.identity_builder import build_identity

pytestmark = pytest.mark.timeout(60)

CAN = "012345"
# The same parsers and handlers `examgate` mounts (edge.cli.main calls these modules' register()); run through
# the modules' own entry points so these tests do not depend on every other command group importing.
CHIP = [sys.executable, "-m", "edge.cli.chip"]
SIM = [sys.executable, "-m", "edge.cli.sim"]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("chip_cli")
    files = identity_set(folder, "Trần Thị Bích Ngọc", "F", seed=3)
    birth, expiry = dt.date(1999, 1, 1), dt.date(2039, 1, 1)
    build_identity("Lê Văn Bình", "079201004321", birth, expiry, "M", files["face"], out_path=folder / "second.json")
    (folder / "broken.json").write_text('{"format": "something-else"}')
    return {**files, "broken": folder / "broken.json", "second": folder / "second.json"}


@contextmanager
def sim_reader(identity: Path, *extra: str) -> Iterator[str]:
    """``examgate sim reader`` in a subprocess; yields the pty path from its first line; SIGTERM → exit 0."""
    process = subprocess.Popen(
        [*SIM, "sim", "reader", "--identity", str(identity), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        if not first.startswith("PTY /dev/"):
            process.kill()
            pytest.fail(f"sim reader did not start: {first!r} {process.communicate(timeout=10)[1]}")
        yield first.removeprefix("PTY ")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "stopped:" in err


def chip_read(port: str, *args: str, timeout_s: float = 40) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [*CHIP, "chip", "read", "--port", port, "--json", *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


def test_read_json_contract(files: dict[str, Path], tmp_path: Path) -> None:
    face_out = tmp_path / "face.jpg"
    with sim_reader(files["pace"]) as port:
        code, document, err = chip_read(port, "--can", CAN, "--csca", str(files["csca"]), "--face-out", str(face_out))
    assert code == 0, err
    assert list(document) == ["access_protocol", "dg1", "dg13", "face", "passive_auth", "chip_auth", "timings_ms"]
    assert document["access_protocol"] == "PACE"
    assert document["dg1"] == {
        "document_code": "ID",
        "issuing_state": "VNM",
        "document_number": PERSONAL_ID[-9:],
        "birth_date": "1999-01-01",
        "expiry_date": "2039-01-01",
        "sex": "F",
        "nationality": "VNM",
        "surname": "TRAN",
        "given_names": "THI BICH NGOC",
        "optional_data": document["dg1"]["optional_data"],  # type: ignore[index]
    }
    assert PERSONAL_ID in str(document["dg1"]["optional_data"])  # type: ignore[index]
    dg13 = document["dg13"]
    assert isinstance(dg13, dict)
    assert dg13["full_name"] == "Trần Thị Bích Ngọc"
    assert dg13["birth_date"] == "1999-01-01"
    assert 9 in dg13["field_numbers"]  # residence was on the card …
    assert "Phường" not in json.dumps(document, ensure_ascii=False)  # … and is never printed
    face = files["face"].read_bytes()
    assert document["face"] == {"format": "jpeg", "bytes": len(face), "sha256": hashlib.sha256(face).hexdigest()}
    assert face_out.read_bytes() == face
    passive = document["passive_auth"]
    assert isinstance(passive, dict)
    assert passive["status"] == "valid"
    assert passive["failed_check"] is None
    assert document["chip_auth"] == {"status": "valid", "active_auth": "valid", "clone_check": "valid"}
    timings = document["timings_ms"]
    assert isinstance(timings, dict)
    assert timings["total"] >= timings["read_DG2"] > 0


def test_bac_with_mrz_and_no_trust_anchor(files: dict[str, Path]) -> None:
    with sim_reader(files["bac"], "--no-uart-timing") as port:
        code, document, err = chip_read(
            port, "--document-number", PERSONAL_ID[-9:], "--birth-date", "990101", "--expiry-date", "390101"
        )
    assert code == 0, err
    assert document["access_protocol"] == "BAC"
    assert document["passive_auth"]["status"] == "no_trust_anchor"  # type: ignore[index]


def test_cards_tapped_in_turn(files: dict[str, Path]) -> None:
    with sim_reader(
        files["pace"], "--identity", str(files["second"]), "--tap-interval-s", "0.3", "--no-uart-timing"
    ) as port:
        code, first, err = chip_read(port, "--can", CAN)
        assert code == 0, err
        code, second, err = chip_read(port, "--can", "004321", "--wait-s", "5")
        assert code == 0, err
        code, third, err = chip_read(port, "--can", CAN, "--wait-s", "5")
        assert code == 0, err
    assert first["dg1"]["document_number"] == third["dg1"]["document_number"] == PERSONAL_ID[-9:]  # type: ignore[index]
    assert second["dg1"]["document_number"] == "201004321"  # type: ignore[index]
    assert second["dg13"]["full_name"] == "Lê Văn Bình"  # type: ignore[index]


def test_wrong_can_exits_3(files: dict[str, Path]) -> None:
    with sim_reader(files["pace"], "--no-uart-timing") as port:
        code, document, _ = chip_read(port, "--can", "111111")
    assert code == chip_cli.EXIT_ACCESS_DENIED == 3
    assert document["code"] == "E_CHIP_ACCESS_DENIED"
    assert set(document) == {"code", "message", "remedy"}


def test_no_card_exits_4(files: dict[str, Path]) -> None:
    with sim_reader(files["pace"], "--no-card", "--no-uart-timing") as port:
        code, document, _ = chip_read(port, "--can", CAN, "--wait-s", "0.5")
    assert code == chip_cli.EXIT_NO_CARD == 4
    assert document["code"] == "E_CHIP_NO_CARD"


def test_card_removed_mid_read_exits_4(files: dict[str, Path]) -> None:
    with sim_reader(files["pace"], "--remove-after-apdus", "40") as port:
        code, document, _ = chip_read(port, "--can", CAN, timeout_s=20)
    assert code == 4
    assert document["code"] == "E_CHIP_CARD_REMOVED"
    assert "hold the card still" in str(document["remedy"])


def test_noisy_wire_still_reads(files: dict[str, Path]) -> None:
    with sim_reader(files["pace"], "--corrupt-every", "5", "--no-uart-timing") as port:
        code, document, err = chip_read(port, "--can", CAN)
    assert code == 0, err
    assert document["face"]["bytes"] == len(files["face"].read_bytes())  # type: ignore[index]


def test_every_frame_corrupt_is_a_comm_error(files: dict[str, Path]) -> None:
    with sim_reader(files["pace"], "--corrupt-every", "1", "--corrupt-mode", "dcs", "--no-uart-timing") as port:
        code, document, _ = chip_read(port, "--can", CAN, "--wait-s", "1")
    assert code == chip_cli.EXIT_COMM == 5
    assert str(document["code"]).startswith("E_PN532_")


def test_sim_reader_stops_cleanly_on_sigint(files: dict[str, Path]) -> None:
    process = subprocess.Popen(
        [*SIM, "sim", "reader", "--identity", str(files["pace"])], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().startswith("PTY /dev/")
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    assert process.returncode == 0


def test_sim_reader_rejects_a_broken_identity(files: dict[str, Path]) -> None:
    done = subprocess.run(
        [*SIM, "sim", "reader", "--identity", str(files["broken"])],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 2
    assert "E_SIM_IDENTITY_INVALID" in done.stderr


# ------------------------------------------------------------------ in-process: arguments and exit codes
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="examgate")
    sub = top.add_subparsers(dest="command")
    chip_cli.register(sub)
    sim_cli.register(sub)
    return top


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--can", "12345"], "6 digits"),
        (["--can", "012345", "--birth-date", "990101"], "not both"),
        (["--document-number", "099012345", "--birth-date", "990101"], "no access key"),
        (["--document-number", "099012345", "--birth-date", "1999-01-01", "--expiry-date", "390101"], "YYMMDD"),
        ([], "no access key"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    parsed = parser().parse_args(["chip", "read", "--port", "/dev/null", "--json", *args])
    assert parsed.func(parsed) == chip_cli.EXIT_USAGE == 2
    document = json.loads(capsys.readouterr().out)
    assert document["code"] == "E_CHIP_USAGE"
    assert message in document["message"]


def test_bad_baud_and_face_out_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parser().parse_args(["chip", "read", "--port", "/dev/null", "--can", CAN, "--baud", "1000000"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "reader", "--identity", "x.json", "--baud", "12345"])
    capsys.readouterr()
    missing = tmp_path / "nowhere" / "face.jpg"
    parsed = parser().parse_args(["chip", "read", "--port", "/dev/null", "--can", CAN, "--face-out", str(missing)])
    assert parsed.func(parsed) == 2
    assert "E_CHIP_USAGE" in capsys.readouterr().err


def test_missing_port_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    parsed = parser().parse_args(["chip", "read", "--port", "/dev/does-not-exist-pn532", "--can", CAN])
    assert parsed.func(parsed) == 5
    err = capsys.readouterr().err
    assert "E_PN532_FAULT" in err
    assert "remedy:" in err


def test_silent_port_exits_5(capsys: pytest.CaptureFixture[str]) -> None:
    master, slave = os.openpty()
    try:
        parsed = parser().parse_args(["chip", "read", "--port", os.ttyname(slave), "--can", CAN, "--json"])
        assert parsed.func(parsed) == 5
    finally:
        os.close(master)
        os.close(slave)
    assert json.loads(capsys.readouterr().out)["code"] == "E_PN532_TIMEOUT"


def test_sim_reader_arguments() -> None:
    parsed = parser().parse_args(
        [
            "sim",
            "reader",
            "--identity",
            "x.json",
            "--baud",
            "921600",
            "--remove-after-apdus",
            "7",
            "--corrupt-every",
            "3",
        ]
    )
    assert (parsed.baud, parsed.remove_after_apdus, parsed.corrupt_every, parsed.no_card) == (921600, 7, 3, False)
    assert parsed.identity == [Path("x.json")]
    assert parsed.tap_interval_s is None
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "reader", "--identity", "x.json", "--corrupt-every", "0"])


def test_sim_group_is_shared() -> None:
    top = argparse.ArgumentParser()
    sub = top.add_subparsers(dest="command")
    other = sub.add_parser("sim").add_subparsers(dest="sim_command")
    other.add_parser("turnstile")
    sim_cli.register(sub)
    assert top.parse_args(["sim", "reader", "--identity", "f"]).sim_command == "reader"
    assert top.parse_args(["sim", "turnstile"]).sim_command == "turnstile"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AccessDeniedError("x"), 3),
        (NoCardError("x"), 4),
        (CardRemovedError("x"), 4),
        (ChipCommunicationError("x"), 5),
        (SecureMessagingError("x"), 5),
        (Pn532TimeoutError("x"), 5),
        (MalformedResponseError("x"), 6),
        (MrzError("x"), 6),
        (UnsupportedError("x"), 7),
        (ChipStatusError("x", sw=0x6F00), 7),
    ],
)
def test_exit_code_classes(error: Exception, code: int) -> None:
    assert chip_cli.exit_code_for(error) == code  # type: ignore[arg-type]


def test_examgate_mounts_chip_read_and_sim_reader() -> None:
    from edge.cli.main import build_parser  # noqa: PLC0415 - only this test needs every command group

    chip = build_parser().parse_args(["chip", "read", "--port", "/dev/null", "--can", CAN, "--json"])
    assert chip.func.__module__ == "edge.cli.chip"
    sim = build_parser().parse_args(["sim", "reader", "--identity", "x.json", "--no-card"])
    assert sim.func.__module__ == "edge.cli.sim"


def test_link_gone_mid_read_exits_5_with_code_and_remedy(files: dict[str, Path]) -> None:
    """Issue 14 fault 1: the USB adapter pulled (pty closed) in the middle of a read is exit 5, no traceback."""
    with sim_reader(files["pace"], "--unplug-after-apdus", "20", "--no-uart-timing") as port:  # PACE done, DGs next
        code, document, err = chip_read(port, "--can", CAN)
    assert code == chip_cli.EXIT_COMM == 5, err
    assert document["code"] == "E_CHIP_READER_LINK"
    assert "E_PN532_FAULT" in str(document["message"])  # the serial link, not the card
    assert "cable" in str(document["remedy"])
    assert "Traceback" not in err
    assert "retrying" not in err  # no secure-channel recovery on a reader that is gone
