"""PN532 host-link frames (UM0701 §6.2): encode, and decode incrementally with resynchronisation.

Normal information frame: ``00 00 FF LEN LCS TFI PD0…PDn DCS 00`` (LEN counts TFI+PD, LCS = -LEN,
DCS = -(TFI + ΣPD)). Extended frame: ``00 00 FF FF FF LENM LENL LCS TFI … DCS 00``. ACK ``00 00 FF 00 FF 00``,
NACK ``00 00 FF FF 00 00``, syntax-error frame ``00 00 FF 01 FF 7F 81 00``.

The decoder accepts bytes as they arrive (``feed``) and hands out frames (``pop``). Bytes before a start code
(``00 FF``) are skipped as garbage; a frame with a bad LCS, bad DCS or impossible length raises a
``FrameError`` subclass after the decoder has skipped past its start code, so the next ``pop`` resynchronises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from firmware_bridge.pn532.errors import FrameChecksumError, FrameLengthError

START_CODE = b"\x00\xff"
PREAMBLE = b"\x00" + START_CODE
POSTAMBLE = b"\x00"
ACK = bytes.fromhex("0000ff00ff00")
NACK = bytes.fromhex("0000ffff0000")
ERROR_FRAME = bytes.fromhex("0000ff01ff7f8100")
TFI_HOST = 0xD4
TFI_PN532 = 0xD5
TFI_ERROR = 0x7F
NORMAL_MAX_LEN = 254  # LEN 0xFF is avoided: ``FF FF`` marks an extended frame, ``FF 00`` a NACK
MAX_FRAME_LEN = 512  # the PN532 never sends more than 265 (TFI+CMD+status+262); larger claims are noise

FrameKind = Literal["ack", "nack", "error", "info"]


@dataclass(frozen=True)
class Frame:
    """One decoded frame. ``tfi`` and ``body`` (command code + data, after the TFI) are set for ``info`` only."""

    kind: FrameKind
    tfi: int = 0
    body: bytes = b""
    extended: bool = False


def checksum(data: bytes) -> int:
    """The byte that makes ``sum(data) + checksum`` zero modulo 256 (both LCS and DCS)."""
    return -sum(data) & 0xFF


def encode_info(tfi: int, body: bytes, *, extended: bool | None = None) -> bytes:
    """An information frame carrying ``tfi`` + ``body``; extended when it does not fit a normal frame."""
    payload = bytes([tfi]) + body
    length = len(payload)
    if length > 0xFFFF:
        raise FrameLengthError(f"frame payload of {length} bytes exceeds 65535")
    use_extended = length > NORMAL_MAX_LEN if extended is None else extended
    if use_extended:
        header = bytes([0xFF, 0xFF, length >> 8, length & 0xFF])
        header += bytes([checksum(header[2:4])])
    else:
        if length > NORMAL_MAX_LEN:
            raise FrameLengthError(f"{length} bytes do not fit a normal frame (max {NORMAL_MAX_LEN})")
        header = bytes([length, checksum(bytes([length]))])
    return PREAMBLE + header + payload + bytes([checksum(payload)]) + POSTAMBLE


def encode_command(command: int, params: bytes = b"") -> bytes:
    """A host→PN532 command frame (TFI D4)."""
    return encode_info(TFI_HOST, bytes([command]) + params)


def encode_response(command: int, data: bytes = b"") -> bytes:
    """A PN532→host answer frame to ``command`` (TFI D5, code ``command + 1``)."""
    return encode_info(TFI_PN532, bytes([command + 1]) + data)


class FrameDecoder:
    """Incremental decoder. ``garbage_bytes`` counts bytes skipped while hunting for start codes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.garbage_bytes = 0

    def reset(self) -> None:
        self._buf.clear()

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def _skip(self, count: int, *, preamble: int = 0) -> None:
        self.garbage_bytes += count - preamble
        del self._buf[:count]

    def pop(self) -> Frame | None:
        """The next complete frame, or None when more bytes are needed. Raises ``FrameError`` on a bad frame."""
        buf = self._buf
        start = buf.find(START_CODE)
        if start < 0:
            # keep a trailing 00: it may be the first half of a start code
            keep = 1 if buf[-1:] == b"\x00" else 0
            self._skip(len(buf) - keep)
            return None
        self._skip(start, preamble=1 if start and buf[start - 1] == 0 else 0)
        if len(buf) < 4:
            return None
        length, lcs = buf[2], buf[3]
        if (length, lcs) == (0x00, 0xFF):
            del buf[:4]
            self._drop_postamble()
            return Frame("ack")
        if (length, lcs) == (0xFF, 0x00):
            del buf[:4]
            self._drop_postamble()
            return Frame("nack")
        extended = (length, lcs) == (0xFF, 0xFF)
        if extended:
            if len(buf) < 7:
                return None
            length = buf[4] << 8 | buf[5]
            if checksum(bytes(buf[4:6])) != buf[6]:
                self._skip(2)
                raise FrameChecksumError(f"extended frame length checksum mismatch (LEN {length})")
            header_len = 7
        else:
            if checksum(bytes([length])) != lcs:
                self._skip(2)
                raise FrameChecksumError(f"length checksum mismatch (LEN 0x{length:02X}, LCS 0x{lcs:02X})")
            header_len = 4
        if length == 0 or length > MAX_FRAME_LEN:
            self._skip(2)
            raise FrameLengthError(f"impossible frame length {length}")
        end = header_len + length + 1  # payload + DCS
        if len(buf) < end:
            return None
        payload = bytes(buf[header_len : end - 1])
        dcs = buf[end - 1]
        if checksum(payload) != dcs:
            self._skip(2)
            raise FrameChecksumError(f"data checksum mismatch in a {length}-byte frame")
        del buf[:end]
        self._drop_postamble()
        tfi = payload[0]
        if tfi == TFI_ERROR and length == 1:
            return Frame("error")
        if length < 2:
            raise FrameLengthError(f"information frame too short ({length} byte: TFI without command code)")
        return Frame("info", tfi=tfi, body=payload[1:], extended=extended)

    def _drop_postamble(self) -> None:
        if self._buf[:1] == POSTAMBLE:
            del self._buf[:1]

    def pop_all(self) -> list[Frame]:
        """Every complete frame buffered now (raises on the first bad one, like ``pop``)."""
        frames: list[Frame] = []
        while (frame := self.pop()) is not None:
            frames.append(frame)
        return frames
