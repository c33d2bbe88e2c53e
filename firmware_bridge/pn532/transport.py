"""Serial (HSU) transport to a PN532: one command frame out, ACK in, one answer frame in.

Handles the wake-up preamble, ACK timeouts and NACKs (bounded resends), bad answer frames (NACK so the PN532
repeats its answer, bounded), stale frames left over from an earlier exchange (resynchronised with an echo after
any irregular exchange), aborting a command that timed out (the host's ACK), and the host side of a baud-rate
change.
"""

from __future__ import annotations

import logging
import os
import termios
import time
from typing import Any, Protocol

from firmware_bridge.pn532.errors import (
    FrameError,
    Pn532Error,
    Pn532ProtocolError,
    Pn532SyntaxError,
    Pn532TimeoutError,
    SerialLinkError,
)
from firmware_bridge.pn532.frames import ACK, NACK, TFI_PN532, Frame, FrameDecoder, encode_command

log = logging.getLogger(__name__)

WAKE_UP_PREAMBLE = b"\x55\x55" + b"\x00" * 14
CMD_DIAGNOSE = 0x00
_POLL_S = 0.02
# A link that went away (USB adapter unplugged, pty closed) raises termios.error from tcflush/tcsetattr, which is
# not an OSError; pyserial's SerialException is one. Both become a typed SerialLinkError (E_PN532_FAULT).
_LINK_ERRORS = (OSError, termios.error)


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the transport uses (any pyserial port, or a test double)."""

    timeout: float | None
    baudrate: int

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes, /) -> int | None: ...

    def flush(self) -> None: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


def open_serial(port: str, baud: int, **kwargs: Any) -> SerialPort:
    """Open ``port`` (a device path or any pyserial URL such as ``loop://``) at ``baud`` 8N1."""
    import serial  # noqa: PLC0415  (pyserial is only needed when a real port is opened)

    try:
        opened: SerialPort = serial.serial_for_url(port, baudrate=baud, timeout=_POLL_S, **kwargs)
    except (serial.SerialException, *_LINK_ERRORS, ValueError) as exc:
        raise SerialLinkError(f"cannot open serial port {port!r}: {exc}") from exc
    return opened


class Pn532Transport:
    """Frames over a serial port. ``bytes_out``/``bytes_in`` count every byte written/read (for the bench)."""

    def __init__(
        self,
        port: SerialPort,
        *,
        ack_timeout_s: float = 0.25,
        max_resends: int = 2,
        max_nacks: int = 3,
    ) -> None:
        self._port = port
        # A short fixed read timeout: set once, since changing it re-configures the port (tcsetattr).
        if port.timeout != _POLL_S:
            port.timeout = _POLL_S
        self.ack_timeout_s = ack_timeout_s
        self.max_resends = max_resends
        self.max_nacks = max_nacks
        self._decoder = FrameDecoder()
        self.bytes_out = 0
        self.bytes_in = 0
        self.frames_out = 0
        self.nacks_sent = 0
        self.resyncs = 0
        self._dirty = False  # an earlier exchange went wrong: stale frames may still arrive
        self._irregular = False

    @property
    def baud(self) -> int:
        return int(self._port.baudrate)

    def close(self) -> None:
        try:
            self._port.close()
        except _LINK_ERRORS as exc:  # closing a port whose device is gone
            log.debug("serial close failed: %s", exc)

    # ------------------------------------------------------------------ raw bytes
    def _write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except _LINK_ERRORS as exc:
            raise SerialLinkError(f"serial write failed: {exc}") from exc
        self.bytes_out += len(data)

    def _read_some(self, deadline: float) -> bool:
        """Read what arrives within one poll interval (``_POLL_S``); True when bytes came."""
        if deadline <= time.monotonic():
            return False
        try:
            chunk = self._port.read(max(1, self._port.in_waiting))
        except _LINK_ERRORS as exc:
            raise SerialLinkError(f"serial read failed: {exc}") from exc
        if chunk:
            self.bytes_in += len(chunk)
            self._decoder.feed(chunk)
        return bool(chunk)

    def flush_input(self) -> None:
        """Drop everything received so far (stale frames, noise)."""
        try:
            self._port.reset_input_buffer()
        except _LINK_ERRORS as exc:
            raise SerialLinkError(f"serial flush failed: {exc}") from exc
        self._decoder.reset()

    def send_ack(self) -> None:
        """ACK to the PN532: confirms a baud-rate change, or aborts the command in progress."""
        self._write(ACK)

    def wake_up(self) -> None:
        """HSU wake-up: a long preamble the PN532 sees while asleep; the next command must follow at once."""
        self.flush_input()
        self._write(WAKE_UP_PREAMBLE)

    def set_host_baud(self, baud: int) -> None:
        """Switch the host UART (after the PN532 was told, see ``Pn532.set_serial_baud_rate``)."""
        try:
            self._port.flush()
            self._port.baudrate = baud
        except (*_LINK_ERRORS, ValueError) as exc:
            raise SerialLinkError(f"cannot set the serial port to {baud} baud: {exc}") from exc

    # ------------------------------------------------------------------ frames
    def _next_frame(self, deadline: float) -> Frame | None:
        """The next decoded frame before ``deadline`` (None on timeout). Bad frames raise ``FrameError``."""
        while True:
            frame = self._decoder.pop()
            if frame is not None:
                return frame
            if time.monotonic() >= deadline:
                return None
            self._read_some(deadline)

    def _send_and_wait_ack(self, frame_bytes: bytes, command: int, *, resend_on_timeout: bool) -> None:
        attempts = 0
        while True:
            self._write(frame_bytes)
            self.frames_out += 1
            deadline = time.monotonic() + self.ack_timeout_s
            outcome = self._await_ack(deadline)
            if outcome == "ack":
                return
            self._irregular = True
            attempts += 1
            if outcome == "timeout" and not resend_on_timeout:
                self.send_ack()  # abort it in case the PN532 did take it
                raise Pn532TimeoutError(f"no ACK from the PN532 for command 0x{command:02X}")
            if attempts > self.max_resends:
                if outcome == "nack":
                    raise Pn532Error(
                        f"PN532 refused command 0x{command:02X} {attempts} times (NACK)", code="E_PN532_NACK"
                    )
                raise Pn532TimeoutError(f"no ACK from the PN532 for command 0x{command:02X} after {attempts} tries")
            log.debug("command 0x%02X: %s, resending (%d)", command, outcome, attempts)

    def _await_ack(self, deadline: float) -> str:
        while True:
            try:
                frame = self._next_frame(deadline)
            except FrameError:
                continue  # noise before the ACK: keep looking
            if frame is None:
                return "timeout"
            if frame.kind == "ack":
                return "ack"
            if frame.kind == "nack":
                return "nack"
            if frame.kind == "error":
                raise Pn532SyntaxError("the PN532 answered a syntax-error frame")
            # an information frame before the ACK is a repeat of an earlier answer: drop it
            log.debug("dropped a stale frame before the ACK (%d bytes)", len(frame.body))

    def resync(self) -> None:
        """Re-align the link after an irregular exchange (resend, NACK, timeout, error).

        A late ACK and answer of an earlier command would otherwise pass for the next command's: the PN532
        answers in order, so everything before the echo of a fresh nonce (Diagnose, communication line test)
        is stale and dropped.
        """
        nonce = os.urandom(6)
        self.flush_input()
        self._write(encode_command(CMD_DIAGNOSE, b"\x00" + nonce))
        self.resyncs += 1
        deadline = time.monotonic() + max(0.5, 4 * self.ack_timeout_s)
        while True:
            try:
                frame = self._next_frame(deadline)
            except FrameError:
                self._write(NACK)  # may be our echo, damaged: ask for it again (repeats are dropped like the rest)
                self.nacks_sent += 1
                continue
            if frame is None:
                raise Pn532TimeoutError("the PN532 did not answer the resynchronisation echo")
            if frame.kind == "info" and frame.body == bytes([CMD_DIAGNOSE + 1, 0x00]) + nonce:
                self._dirty = False
                return

    def command(
        self, command: int, params: bytes = b"", *, timeout_s: float = 1.0, resend_on_timeout: bool = True
    ) -> bytes:
        """Run one PN532 command; returns the answer data after the answer code (``command + 1``).

        ``resend_on_timeout=False`` for commands that must not run twice (InDataExchange: a late ACK would mean
        the card got the APDU twice). After any irregular exchange the next command first ``resync``s.
        """
        if self._dirty:
            self.resync()
        self.flush_input()
        self._dirty = True  # until this exchange ends cleanly
        self._irregular = False  # set by resends and NACKs
        self._send_and_wait_ack(encode_command(command, params), command, resend_on_timeout=resend_on_timeout)
        answer = self.read_answer(command, timeout_s=timeout_s)
        self._dirty = self._irregular
        return answer

    def read_answer(self, command: int, *, timeout_s: float) -> bytes:
        """Wait for the answer to ``command`` (after its ACK). On timeout, abort the command with an ACK."""
        deadline = time.monotonic() + timeout_s
        nacks = 0
        while True:
            try:
                frame = self._next_frame(deadline)
            except FrameError as exc:
                nacks += 1
                if nacks > self.max_nacks:
                    raise type(exc)(f"{exc.message}; still bad after {self.max_nacks} repeats") from exc
                log.debug("bad answer frame (%s): NACK %d", exc.code, nacks)
                self._irregular = True
                self._write(NACK)
                self.nacks_sent += 1
                continue
            if frame is None:
                self.send_ack()
                partial = f" ({self._decoder.pending} bytes of an incomplete frame)" if self._decoder.pending else ""
                raise Pn532TimeoutError(f"no answer to command 0x{command:02X} within {timeout_s:.2f} s{partial}")
            if frame.kind in ("ack", "nack"):
                continue
            if frame.kind == "error":
                raise Pn532SyntaxError(f"the PN532 answered command 0x{command:02X} with a syntax-error frame")
            if frame.tfi != TFI_PN532 or frame.body[0] != command + 1:
                raise Pn532ProtocolError(
                    f"unexpected answer TFI 0x{frame.tfi:02X} code 0x{frame.body[0]:02X} to command 0x{command:02X}"
                )
            return frame.body[1:]
