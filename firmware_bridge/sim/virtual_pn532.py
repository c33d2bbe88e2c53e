"""A virtual PN532 on a real pseudo-terminal, speaking the HSU protocol of UM0701 to whatever opens the slave.

It ACKs commands, answers in normal or extended frames, chains InDataExchange both ways (MI bit), repeats its
last answer on NACK, ignores frames with bad checksums (like the chip), sends the syntax-error frame for unknown
commands, sleeps until the ``55 55 00 …`` wake-up preamble, and switches baud rate on SetSerialBaudRate only
after the host's ACK. It reads the line speed the host set on the pty: bytes sent at another speed are lost,
as on a real UART. The card behind it is a ``VirtualCard`` (``firmware_bridge.sim.vchip.card``).

Faults: no card, card removed after N APDUs (status 0x01, like a card leaving the field), every Nth answer
frame corrupted (a bad DCS, noise bytes before the frame, the two in turn, or one random byte anywhere), an
answer chain that never ends, UART timing (each byte costs 10 bit times at the current baud), and the USB
adapter pulled (``unplug()``, or after N APDUs): the pty closes, the host's port answers EIO from then on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import termios
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from firmware_bridge.pn532.errors import FrameError
from firmware_bridge.pn532.frames import (
    ACK,
    ERROR_FRAME,
    TFI_HOST,
    Frame,
    FrameDecoder,
    encode_response,
)
from firmware_bridge.sim.vchip.card import CardGone, VirtualCard

log = logging.getLogger(__name__)

FIRMWARE = bytes([0x32, 0x01, 0x06, 0x07])  # PN532, v1.6, ISO 14443 A + B + 18092
MAX_FRAME_DATA = 262
NOISE = bytes.fromhex("13 37 00 00 ff 05 07 aa 55")  # contains a false start code with a bad LCS
BAUD_BY_CODE = {0: 9600, 1: 19200, 2: 38400, 3: 57600, 4: 115200, 5: 230400, 6: 460800, 7: 921600}
_TERMIOS_SPEED = {
    getattr(termios, f"B{baud}"): baud
    for baud in (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
    if hasattr(termios, f"B{baud}")
}
STATUS_OK = 0x00
STATUS_TIMEOUT = 0x01
STATUS_BAD_CONTEXT = 0x27
MI_BIT = 0x40


class CardGoneError(CardGone):
    """Test cards may raise this (or ``CardGone`` itself) from ``process_apdu`` to leave the field."""


@dataclass
class VirtualPn532Stats:
    bytes_in: int = 0
    bytes_out: int = 0
    frames_in: int = 0
    answers_out: int = 0
    apdus: int = 0
    nacks_received: int = 0
    corrupted_frames: int = 0
    bad_frames_in: int = 0
    bytes_lost_to_baud_mismatch: int = 0
    uart_time_s: float = 0.0


class VirtualPn532:
    """Run with ``start()`` (returns the slave path, e.g. ``/dev/pts/5``) and ``stop()``; or as a context manager."""

    def __init__(
        self,
        card: VirtualCard | None = None,
        *,
        baud: int = 115200,
        uart_timing: bool = False,
        start_asleep: bool = True,
        remove_after_apdus: int | None = None,
        corrupt_every: int | None = None,
        corrupt_mode: Literal["alternate", "dcs", "noise", "random"] = "alternate",
        seed: int | None = None,
        endless_chain: bool = False,
        card_type: Literal["A", "B"] = "A",
        max_frame_data: int = MAX_FRAME_DATA,
        check_line_baud: bool = True,
        on_release: Callable[[VirtualPn532], None] | None = None,
        unplug_after_apdus: int | None = None,
    ) -> None:
        self.card = card
        self.baud = baud
        self.uart_timing = uart_timing
        self.asleep = start_asleep
        self.remove_after_apdus = remove_after_apdus
        self.corrupt_every = corrupt_every
        self.corrupt_mode = corrupt_mode
        self._random = random.Random(seed)
        self.endless_chain = endless_chain
        self.card_type = card_type
        self.max_frame_data = max_frame_data
        self.check_line_baud = check_line_baud
        self.ack_delay_s = 0.0  # a slow PN532 (tests: the host's ACK timeout and resynchronisation)
        self.on_release = on_release  # called after InRelease, e.g. to take the card away and tap the next
        self.unplug_after_apdus = unplug_after_apdus
        self._unplug = threading.Event()
        self.unplugged = threading.Event()  # set once the pty is closed
        self.stats = VirtualPn532Stats()
        self.present = card is not None
        self.slave_path = ""
        self._decoder = FrameDecoder()
        self._active_tg: int | None = None
        self._tx_parts = bytearray()
        self._rx_pending = b""
        self._last_answer = b""
        self._pending_baud: int | None = None
        self._answers_counted = 0
        self._master = -1
        self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> str:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self._set_line_speed(self.baud)
        os.set_blocking(self._master, False)
        self.slave_path = os.ttyname(self._slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="virtual-pn532", daemon=True)
        self._thread.start()
        return self.slave_path

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self._close_fds()

    def __enter__(self) -> VirtualPn532:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def unplug(self) -> None:
        """Pull the USB adapter: the simulator closes its pty (both sides it holds) and stops serving."""
        self._unplug.set()
        self.unplugged.wait(timeout=5)

    def _close_fds(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def insert(self, card: VirtualCard) -> None:
        self.card = card
        self.present = True

    def remove(self) -> None:
        self.present = False
        self._active_tg = None

    # ------------------------------------------------------------------ line
    def _set_line_speed(self, baud: int) -> None:
        code = getattr(termios, f"B{baud}", None)
        if code is None:
            return
        attrs = termios.tcgetattr(self._slave)
        attrs[4] = attrs[5] = code
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)

    def _line_baud(self) -> int | None:
        try:
            speed = termios.tcgetattr(self._slave)[4]
        except termios.error:
            return None
        return _TERMIOS_SPEED.get(speed)

    def _uart_delay(self, nbytes: int) -> None:
        seconds = nbytes * 10 / self.baud
        self.stats.uart_time_s += seconds
        if self.uart_timing:
            time.sleep(seconds)

    def _write(self, data: bytes) -> None:
        self.stats.bytes_out += len(data)  # counted with its line time, before the host can see the bytes
        self._uart_delay(len(data))
        view = memoryview(data)
        while view and not self._stop.is_set():
            _, writable, _ = select.select([], [self._master], [], 0.05)
            if not writable:
                continue
            try:
                sent = os.write(self._master, view)
            except BlockingIOError:
                continue
            view = view[sent:]

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._unplug.is_set():
                self._close_fds()
                self.unplugged.set()
                return
            readable, _, _ = select.select([self._master], [], [], 0.05)
            if not readable:
                continue
            try:
                data = os.read(self._master, 4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                time.sleep(0.05)  # slave side closed for a moment (EIO); keep serving
                continue
            self.stats.bytes_in += len(data)
            self._uart_delay(len(data))
            line_baud = self._line_baud()
            # A host that switched right after its ACK may already show the new speed: the ACK itself went
            # out at the old one, so a chunk read while the switch is pending is accepted.
            if self.check_line_baud and line_baud not in (None, self.baud, self._pending_baud):
                self.stats.bytes_lost_to_baud_mismatch += len(data)
                continue
            if self.asleep:
                wake_at = data.find(b"\x55")
                if wake_at < 0:
                    continue
                self.asleep = False
                self._decoder.reset()
                data = data[wake_at:]
            self._decoder.feed(data)
            self._drain_frames()

    def _drain_frames(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._decoder.pop()
            except FrameError:
                self.stats.bad_frames_in += 1  # the chip stays silent; the host times out and resends
                continue
            if frame is None:
                return
            self.stats.frames_in += 1
            try:
                self._handle(frame)
            except Exception:  # the simulator must never die under a test; log and keep serving
                log.exception("virtual PN532 failed on a frame")

    # ------------------------------------------------------------------ frames
    def _handle(self, frame: Frame) -> None:
        if frame.kind == "ack":
            if self._pending_baud is not None:
                self.baud = self._pending_baud
                self._pending_baud = None
            else:  # the host gave up on a command: abort it, chained parts included
                self._tx_parts.clear()
                self._rx_pending = b""
            return
        if frame.kind == "nack":
            self.stats.nacks_received += 1
            if self._last_answer:
                self._send_answer(self._last_answer)
            return
        if frame.kind == "error":
            return
        if frame.tfi != TFI_HOST:
            self._write(ERROR_FRAME)
            return
        if self.ack_delay_s:
            time.sleep(self.ack_delay_s)
        self._write(ACK)
        command, params = frame.body[0], frame.body[1:]
        answer = self._execute(command, params)
        if answer is None:
            self._write(ERROR_FRAME)
            return
        self._last_answer = encode_response(command, answer)
        self._send_answer(self._last_answer)
        if command == 0x16:
            self.asleep = True

    def _send_answer(self, frame_bytes: bytes) -> None:
        self.stats.answers_out += 1
        self._answers_counted += 1
        if self.corrupt_every and self._answers_counted % self.corrupt_every == 0:
            self.stats.corrupted_frames += 1
            mode = self.corrupt_mode
            if mode == "alternate":
                mode = "dcs" if self.stats.corrupted_frames % 2 else "noise"
            broken = bytearray(frame_bytes)
            if mode == "dcs":
                broken[-3] ^= 0x5A  # last data byte: the DCS no longer matches
            elif mode == "random":  # one byte anywhere, preamble and checksums included
                broken[self._random.randrange(len(broken))] ^= self._random.randrange(1, 256)
            else:
                broken[:0] = NOISE
            frame_bytes = bytes(broken)
        self._write(frame_bytes)

    # ------------------------------------------------------------------ commands
    def _execute(self, command: int, params: bytes) -> bytes | None:
        """The answer data for one command, or None for a syntax error."""
        if command == 0x00:  # Diagnose: only the communication line test (NumTst 0) echoes
            return params if params[:1] == b"\x00" else None
        if command == 0x02:
            return FIRMWARE
        if command in (0x14, 0x32):  # SAMConfiguration, RFConfiguration
            return b"" if params else None
        if command == 0x10:
            baud = BAUD_BY_CODE.get(params[0]) if params else None
            if baud is None:
                return None
            self._pending_baud = baud
            return b""
        if command == 0x16:
            return bytes([STATUS_OK]) if params else None
        if command == 0x4A:
            return self._in_list_passive_target(params)
        if command == 0x40:
            return self._in_data_exchange(params)
        if command == 0x52:
            if self.card is not None and self._active_tg is not None:
                self.card.reset()
            self._active_tg = None
            if self.on_release is not None:
                self.on_release(self)
            return bytes([STATUS_OK])
        return None

    def _in_list_passive_target(self, params: bytes) -> bytes | None:
        if len(params) < 2 or params[0] not in (1, 2):
            return None
        brty = params[1]
        self._tx_parts.clear()
        self._rx_pending = b""
        card = self.card
        if card is None or not self.present or brty != {"A": 0x00, "B": 0x03}[self.card_type]:
            self._active_tg = None
            return b"\x00"
        card.reset()
        self._active_tg = 1
        if self.card_type == "B":
            pupi = card.uid[:4].ljust(4, b"\x00")
            atqb = b"\x50" + pupi + b"\x00\x00\x00\x00" + b"\x00\x81\x81"
            return bytes([1, 1]) + atqb + b"\x01\x00"
        atqa = b"\x00\x44" if len(card.uid) == 7 else b"\x00\x04"
        return bytes([1, 1]) + atqa + bytes([0x20, len(card.uid)]) + card.uid + card.ats

    def _in_data_exchange(self, params: bytes) -> bytes | None:
        if not params:
            return None
        tg, data = params[0], params[1:]
        if self._active_tg is None or tg & 0x3F != self._active_tg:
            return bytes([STATUS_BAD_CONTEXT])
        if self.endless_chain and not data and self._rx_pending:
            return bytes([MI_BIT]) + self._rx_pending
        if not data and self._rx_pending:
            return self._next_answer_part()
        self._tx_parts += data
        if tg & MI_BIT:
            return bytes([STATUS_OK])  # the chip acknowledged this part (R(ACK) on the RF side)
        apdu = bytes(self._tx_parts)
        self._tx_parts.clear()
        card = self.card
        if (
            card is None
            or not self.present
            or (self.remove_after_apdus is not None and self.stats.apdus >= self.remove_after_apdus)
        ):
            self.remove()
            return bytes([STATUS_TIMEOUT])
        self.stats.apdus += 1
        if self.unplug_after_apdus is not None and self.stats.apdus >= self.unplug_after_apdus:
            self._unplug.set()  # this answer still goes out; the pty closes before the next command
        try:
            response = card.process_apdu(apdu)
        except CardGone:
            self.remove()
            return bytes([STATUS_TIMEOUT])
        if self.endless_chain:
            self._rx_pending = (response * (1 + self.max_frame_data // max(1, len(response))))[: self.max_frame_data]
            return bytes([MI_BIT]) + self._rx_pending
        self._rx_pending = response
        return self._next_answer_part()

    def _next_answer_part(self) -> bytes:
        part, self._rx_pending = self._rx_pending[: self.max_frame_data], self._rx_pending[self.max_frame_data :]
        return bytes([MI_BIT if self._rx_pending else STATUS_OK]) + part
