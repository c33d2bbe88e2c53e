"""The virtual PN532 itself, driven with raw bytes on its pty: what a real PN532 would answer."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
import serial

from firmware_bridge.pn532.frames import ACK, ERROR_FRAME, TFI_PN532, Frame, FrameDecoder, encode_command, encode_info
from firmware_bridge.sim.vchip.card import CardGone
from firmware_bridge.sim.virtual_pn532 import VirtualPn532

pytestmark = pytest.mark.timeout(20)

WAKE = b"\x55\x55" + bytes(14)


class Card:
    def __init__(self) -> None:
        self.uid = bytes.fromhex("08112233")
        self.ats = bytes.fromhex("0578807002")
        self.gone = False

    def process_apdu(self, apdu: bytes) -> bytes:
        if self.gone:
            raise CardGone("left")
        return apdu + b"\x90\x00"

    def reset(self) -> None:
        pass


class Line:
    """Raw host side of the pty: write bytes, collect frames."""

    def __init__(self, path: str, baud: int = 115200) -> None:
        self.port = serial.Serial(path, baud, timeout=0.05)
        self.decoder = FrameDecoder()
        self.raw = bytearray()

    def send(self, data: bytes) -> None:
        self.port.write(data)
        self.port.flush()

    def frames(self, count: int, timeout_s: float = 2.0) -> list[Frame]:
        found: list[Frame] = []
        deadline = time.monotonic() + timeout_s
        while len(found) < count and time.monotonic() < deadline:
            chunk = self.port.read(max(1, self.port.in_waiting))
            self.raw += chunk
            self.decoder.feed(chunk)
            found.extend(self.decoder.pop_all())
        return found

    def command(self, command: int, params: bytes = b"") -> Frame:
        self.send(encode_command(command, params))
        ack, answer = self.frames(2)
        assert ack == Frame("ack")
        return answer


@pytest.fixture
def card() -> Card:
    return Card()


@pytest.fixture
def sim(card: Card) -> Iterator[VirtualPn532]:
    with VirtualPn532(card) as virtual:
        yield virtual


@pytest.fixture
def line(sim: VirtualPn532) -> Iterator[Line]:
    host = Line(sim.slave_path)
    host.send(WAKE)
    yield host
    host.port.close()


def test_answers_use_tfi_d5_and_command_plus_one(line: Line) -> None:
    answer = line.command(0x02)
    assert (answer.tfi, answer.body) == (TFI_PN532, bytes([0x03, 0x32, 0x01, 0x06, 0x07]))


def test_bad_host_checksum_is_ignored_like_the_chip(sim: VirtualPn532, line: Line) -> None:
    bad = bytearray(encode_command(0x02))
    bad[-2] ^= 0xFF
    line.send(bytes(bad))
    assert line.frames(1, timeout_s=0.3) == []
    assert sim.stats.bad_frames_in == 1
    assert line.command(0x02).body[0] == 0x03


def test_wrong_tfi_and_unknown_command_get_the_error_frame(line: Line) -> None:
    line.send(encode_info(TFI_PN532, b"\x02"))
    assert line.frames(1) == [Frame("error")]
    line.send(encode_command(0x7E))
    assert line.frames(2) == [Frame("ack"), Frame("error")]
    assert ERROR_FRAME in bytes(line.raw)


def test_nack_repeats_the_last_answer(sim: VirtualPn532, line: Line) -> None:
    first = line.command(0x02)
    line.send(bytes.fromhex("0000ffff0000"))
    assert line.frames(1) == [first]
    assert sim.stats.nacks_received == 1


def test_long_answers_come_in_extended_frames(line: Line) -> None:
    assert line.command(0x4A, b"\x01\x00").body[1] == 1
    line.raw.clear()
    apdu = bytes(range(250))
    answer = line.command(0x40, b"\x01" + apdu)
    assert answer.extended
    assert answer.body == b"\x41\x00" + apdu + b"\x90\x00"
    assert bytes(line.raw[6:11]) == b"\x00\x00\xff\xff\xff"  # after the 6-byte ACK


def test_answer_chain_with_mi_status(line: Line) -> None:
    line.command(0x4A, b"\x01\x00")
    first = line.command(0x40, b"\x01" + bytes(400))
    assert first.body[1] == 0x40  # MI: more to come
    assert len(first.body) == 2 + 262
    rest = line.command(0x40, b"\x01")
    assert rest.body[1] == 0x00
    assert len(rest.body) == 2 + 400 + 2 - 262


def test_card_gone_is_status_01_and_stays_gone(card: Card, line: Line) -> None:
    line.command(0x4A, b"\x01\x00")
    card.gone = True
    assert line.command(0x40, b"\x01\x00\x84\x00\x00\x08").body == b"\x41\x01"
    assert line.command(0x4A, b"\x01\x00").body == b"\x4b\x00"


def test_remove_after_apdus_counts_across_taps(card: Card) -> None:
    with VirtualPn532(card, remove_after_apdus=2) as virtual:
        host = Line(virtual.slave_path)
        host.send(WAKE)
        for _ in range(2):
            host.command(0x4A, b"\x01\x00")
            assert host.command(0x40, b"\x01\x00").body[1] == 0x00
        host.command(0x4A, b"\x01\x00")
        assert host.command(0x40, b"\x01\x00").body == b"\x41\x01"
        assert virtual.stats.apdus == 2
        host.port.close()


def test_type_b_poll_with_afi(card: Card) -> None:
    with VirtualPn532(card, card_type="B") as virtual:
        host = Line(virtual.slave_path)
        host.send(WAKE)
        body = host.command(0x4A, b"\x01\x03\x00").body
        assert body[:3] == b"\x4b\x01\x01"
        assert body[3] == 0x50  # ATQB
        assert body[4:8] == card.uid
        host.port.close()


def test_uart_time_accounting_and_pacing(card: Card) -> None:
    with VirtualPn532(card, baud=9600, uart_timing=True) as virtual:
        host = Line(virtual.slave_path, 9600)
        host.send(WAKE)
        host.command(0x4A, b"\x01\x00")
        started = time.monotonic()
        host.command(0x40, b"\x01" + bytes(100))
        elapsed = time.monotonic() - started
        stats = virtual.stats
        assert stats.uart_time_s == pytest.approx((stats.bytes_in + stats.bytes_out) * 10 / 9600)
        # 100-byte command frame in, ACK + 103-byte answer frame out: at least ~0.23 s of line time at 9600 baud
        assert elapsed >= (109 + 6 + 112) * 10 / 9600 * 0.95
        host.port.close()


def test_line_speed_mismatch_loses_bytes(sim: VirtualPn532) -> None:
    host = Line(sim.slave_path, 57600)
    host.send(WAKE + encode_command(0x02))
    assert host.frames(1, timeout_s=0.3) == []
    assert sim.stats.bytes_lost_to_baud_mismatch > 0
    host.port.close()


def test_baud_switch_waits_for_the_host_ack(sim: VirtualPn532, line: Line) -> None:
    assert line.command(0x10, b"\x07").body == b"\x11"
    time.sleep(0.1)
    assert sim.baud == 115200  # no ACK from the host yet
    line.send(ACK)
    line.port.flush()
    deadline = time.monotonic() + 2
    while sim.baud != 921600 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sim.baud == 921600
    line.port.baudrate = 921600
    assert line.command(0x02).body[0] == 0x03


def test_invalid_baud_code_is_a_syntax_error(line: Line) -> None:
    line.send(encode_command(0x10, b"\x0c"))
    assert line.frames(2) == [Frame("ack"), Frame("error")]


def test_stop_ends_the_thread_and_is_idempotent(card: Card) -> None:
    virtual = VirtualPn532(card)
    path = virtual.start()
    assert os.path.exists(path)
    assert any(t.name == "virtual-pn532" for t in threading.enumerate())
    virtual.stop()
    virtual.stop()
    assert not any(t.name == "virtual-pn532" for t in threading.enumerate())
