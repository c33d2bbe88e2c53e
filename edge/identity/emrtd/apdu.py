"""ISO 7816-4 APDUs: the channel port, command encoding (short and extended), response parsing, status words.

``transceive`` handles the transport-level status words (61xx: GET RESPONSE loop, 6Cxx: re-issue with the
right Le); ``raise_for_status`` maps error status words onto typed ``ChipError`` subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from edge.identity.emrtd.errors import (
    AccessDeniedError,
    ChipError,
    ChipStatusError,
    FileNotFoundOnChipError,
    MalformedResponseError,
    SecureMessagingError,
    SecurityStatusError,
    UnsupportedError,
    WrongLengthError,
)

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Ne were available
SHORT_MAX_LC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NE = 65536
MAX_GET_RESPONSE_ROUNDS = 64  # 64 x 256 bytes: far more than any eMRTD answer; bounds a misbehaving card


@runtime_checkable
class ApduChannel(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU (raw bytes, short or extended), return the raw response INCLUDING SW1 SW2.

        Raises ``CardRemovedError`` (E_CHIP_CARD_REMOVED) if the card left the field,
        ``ChipCommunicationError`` (E_CHIP_COMM) for link-level failures.
        """


@dataclass(frozen=True)
class CommandApdu:
    """One command. ``ne``: expected response length (0: no Le, 256: short '00', 65536: ext. '0000')."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int = 0

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be one byte, got {value}")
        if len(self.data) > 65535:
            raise ValueError(f"command data of {len(self.data)} bytes exceeds 65535")
        if not 0 <= self.ne <= EXTENDED_MAX_NE:
            raise ValueError(f"ne must be within 0..65536, got {self.ne}")

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    def needs_extended(self) -> bool:
        return len(self.data) > SHORT_MAX_LC or self.ne > SHORT_MAX_NE

    def encode(self, *, extended: bool | None = None) -> bytes:
        """Raw bytes; extended length is used when needed (or forced with ``extended=True``)."""
        ext = self.needs_extended() if extended is None else extended
        if not ext and self.needs_extended():
            raise ValueError("command does not fit a short APDU")
        out = bytearray(self.header)
        if ext:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne:
                le = b"" if self.data else b"\x00"
                out += le + (self.ne % EXTENDED_MAX_NE).to_bytes(2, "big")
        else:
            if self.data:
                out += bytes((len(self.data),)) + self.data
            if self.ne:
                out.append(self.ne % SHORT_MAX_NE)
        return bytes(out)

    def with_ne(self, ne: int) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, ne)

    @classmethod
    def parse(cls, raw: bytes) -> CommandApdu:
        """Decode raw bytes (cases 1-4, short and extended); ``WrongLengthError`` if inconsistent."""
        if len(raw) < 4:
            raise WrongLengthError(f"command APDU of {len(raw)} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[:4]
        body = raw[4:]
        if not body:
            return cls(cla, ins, p1, p2)
        if len(body) == 1:
            return cls(cla, ins, p1, p2, b"", body[0] or SHORT_MAX_NE)
        if body[0] != 0:  # short Lc
            lc = body[0]
            if len(body) == 1 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if len(body) == 2 + lc:
                return cls(cla, ins, p1, p2, bytes(body[1 : 1 + lc]), body[-1] or SHORT_MAX_NE)
            raise WrongLengthError(f"short Lc={lc} does not match {len(body) - 1} body bytes")
        # extended: body[0] == 0
        if len(body) == 3:
            return cls(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or EXTENDED_MAX_NE)
        if len(body) < 3:
            raise WrongLengthError("truncated extended length field")
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise WrongLengthError("extended Lc of zero")
        if len(body) == 3 + lc:
            return cls(cla, ins, p1, p2, bytes(body[3:]))
        if len(body) == 5 + lc:
            ne = int.from_bytes(body[-2:], "big") or EXTENDED_MAX_NE
            return cls(cla, ins, p1, p2, bytes(body[3 : 3 + lc]), ne)
        raise WrongLengthError(f"extended Lc={lc} does not match {len(body) - 3} body bytes")


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise MalformedResponseError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))


def transceive(channel: ApduChannel, command: CommandApdu) -> ResponseApdu:
    """Send a command and collect the whole answer: follows 61xx with GET RESPONSE and re-issues on 6Cxx."""
    response = ResponseApdu.parse(channel.transmit(command.encode()))
    if response.sw1 == 0x6C:
        retry = command.with_ne(response.sw2 or SHORT_MAX_NE)
        response = ResponseApdu.parse(channel.transmit(retry.encode()))
        if response.sw1 == 0x6C:
            raise WrongLengthError("card asked twice for a different Le", sw=response.sw)
    collected = bytearray(response.data)
    rounds = 0
    while response.sw1 == 0x61:
        rounds += 1
        if rounds > MAX_GET_RESPONSE_ROUNDS:
            raise ChipStatusError("card keeps answering 61xx (more data) without end", sw=response.sw)
        get_response = CommandApdu(0x00, 0xC0, 0x00, 0x00, b"", response.sw2 or SHORT_MAX_NE)
        response = ResponseApdu.parse(channel.transmit(get_response.encode()))
        collected += response.data
    return ResponseApdu(bytes(collected), response.sw)


_SW_ERRORS: dict[int, tuple[type[ChipError], str]] = {
    0x6300: (AccessDeniedError, "authentication failed (wrong access key)"),
    0x6700: (WrongLengthError, "wrong length"),
    0x6982: (SecurityStatusError, "security status not satisfied"),
    0x6983: (AccessDeniedError, "authentication method blocked"),
    0x6984: (AccessDeniedError, "reference data not usable"),
    0x6987: (SecureMessagingError, "expected secure messaging data objects missing"),
    0x6988: (SecureMessagingError, "secure messaging data objects incorrect"),
    0x6A82: (FileNotFoundOnChipError, "file or application not found"),
    0x6A88: (FileNotFoundOnChipError, "referenced data not found"),
    0x6D00: (UnsupportedError, "instruction not supported"),
    0x6E00: (UnsupportedError, "class not supported"),
}


def sw_error(sw: int, context: str) -> ChipError:
    """The typed error for an error status word."""
    if sw in _SW_ERRORS:
        cls, what = _SW_ERRORS[sw]
        return cls(f"{context}: {what} (SW {sw:04X})", sw=sw)
    if sw & 0xFFF0 == 0x63C0:
        tries = sw & 0x0F
        return AccessDeniedError(f"{context}: authentication failed, {tries} tries left (SW {sw:04X})", sw=sw)
    return ChipStatusError(f"{context}: card answered SW {sw:04X}", sw=sw)


def raise_for_status(response: ResponseApdu, context: str, *, allow: tuple[int, ...] = ()) -> ResponseApdu:
    """Return ``response`` when its status is 9000 (or in ``allow``); raise the typed error otherwise."""
    if response.sw == SW_OK or response.sw in allow:
        return response
    raise sw_error(response.sw, context)
