"""Typed errors of the PN532 stack (frames, serial transport, chip commands).

Link-level codes start with ``E_PN532_``. The APDU channel maps them onto the chip errors of
``edge.identity.emrtd.errors`` (card removed / communication) so callers above it see one vocabulary.
"""

from __future__ import annotations

from edge.errors import DeviceError

_CABLE_REMEDY = "check the PN532's serial cable, power and baud rate, then run `examgate selftest`"
_HOLD_STILL_REMEDY = "hold the card still on the reader until the gate beeps"


class Pn532Error(DeviceError):
    """Base class of every PN532 failure."""

    code = "E_PN532_FAULT"
    remedy = _CABLE_REMEDY


class SerialLinkError(Pn532Error):
    """The serial port itself failed: cannot be opened, or EIO on read/write/flush (USB adapter pulled, pty closed).

    Same code and remedy as its base; its own class so that the APDU channel can tell a lost link from other faults."""


class FrameError(Pn532Error):
    """Bytes that looked like a frame but are not a valid one (the decoder has already skipped them)."""

    code = "E_PN532_FRAME_INVALID"
    remedy = "electrical noise on the serial line: check the cable and ground; lower the baud rate if it repeats"


class FrameChecksumError(FrameError):
    code = "E_PN532_FRAME_CHECKSUM"


class FrameLengthError(FrameError):
    code = "E_PN532_FRAME_LENGTH"


class Pn532SyntaxError(Pn532Error):
    """The PN532 answered its syntax-error frame (``00 00 FF 01 FF 7F 81 00``)."""

    code = "E_PN532_SYNTAX_ERROR"
    remedy = "the PN532 rejected the command (unknown command or bad parameters); update the firmware bridge"


class Pn532TimeoutError(Pn532Error):
    """No ACK or no answer in time."""

    code = "E_PN532_TIMEOUT"
    remedy = "the PN532 did not answer: " + _CABLE_REMEDY


class Pn532ProtocolError(Pn532Error):
    """A well-formed frame with unexpected content (wrong TFI, wrong answer code, short payload)."""

    code = "E_PN532_BAD_RESPONSE"


class Pn532ChainError(Pn532ProtocolError):
    """An MI-chained answer that did not end within the bound."""

    code = "E_PN532_CHAIN_TOO_LONG"
    remedy = "the card or reader kept chaining data without end; tap the card again"


class Pn532StatusError(Pn532Error):
    """The PN532 reported an error in the status byte of an answer. ``status`` is the 6-bit error code."""

    code = "E_PN532_STATUS"
    remedy = "tap the card again and hold it still; if it repeats, the card or the antenna may be faulty"

    def __init__(self, message: str, *, status: int, code: str | None = None, remedy: str | None = None) -> None:
        super().__init__(message, code=code, remedy=remedy)
        self.status = status


class TargetTimeoutError(Pn532StatusError):
    """Status 0x01: the card did not answer (most often: it left the field)."""

    code = "E_PN532_TARGET_TIMEOUT"
    remedy = _HOLD_STILL_REMEDY


class TargetGoneError(Pn532StatusError):
    """Status 0x29/0x2A/0x2B: the target was released, exchanged or disappeared."""

    code = "E_PN532_TARGET_GONE"
    remedy = _HOLD_STILL_REMEDY


class RfError(Pn532StatusError):
    """Status 0x02–0x0B, 0x13, 0x14: transmission errors on the RF link (CRC, parity, framing, format)."""

    code = "E_PN532_RF_ERROR"
    remedy = "hold the card flat on the reader, away from metal and other cards, and tap again"


class Pn532ParameterError(Pn532Error):
    """A driver call with an impossible argument (baud rate the PN532 lacks, data too long, …)."""

    code = "E_PN532_BAD_PARAMETER"
    remedy = "fix the reader settings (port, baud rate) in the config file"
