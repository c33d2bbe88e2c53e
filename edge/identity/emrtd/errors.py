"""Typed errors of the eMRTD protocol layer (APDU channel, BAC/PACE, secure messaging, chip authentication).

Every failure that leaves ``edge.identity.emrtd`` is a ``ChipError`` subclass with a stable code and a remedy.
The PN532 driver maps its link errors onto ``CardRemovedError`` and ``ChipCommunicationError``.
"""

from __future__ import annotations

from edge.errors import ExamGateError


class ChipError(ExamGateError):
    """Base class of chip-protocol failures. ``sw`` holds the status word when the card answered one."""

    code = "E_CHIP_PROTOCOL"
    remedy = "tap the card again; if it repeats, read the card on another lane or send it for checking"

    def __init__(
        self, message: str, *, sw: int | None = None, code: str | None = None, remedy: str | None = None
    ) -> None:
        super().__init__(message, code=code, remedy=remedy)
        self.sw = sw


class AccessDeniedError(ChipError):
    code = "E_CHIP_ACCESS_DENIED"
    remedy = "the access key does not match this card: rescan the card's QR code (CAN) or check the MRZ data"


class CardRemovedError(ChipError):
    code = "E_CHIP_CARD_REMOVED"
    remedy = "hold the card still on the reader until the gate beeps"


class ChipCommunicationError(ChipError):
    code = "E_CHIP_COMM"
    remedy = "tap the card again; if it repeats, check the reader's cable and run `examgate selftest`"


class ReaderLinkError(ChipCommunicationError):
    """The reader itself went away during the read (serial link gone): retrying on this tap cannot help."""

    code = "E_CHIP_READER_LINK"
    remedy = (
        "the card reader's link went away (USB/serial cable, power): reconnect it, the gate reopens it by itself; "
        "then tap the card again"
    )


class SecureMessagingError(ChipError):
    code = "E_CHIP_SM_FAILED"
    remedy = "the secure channel to the card broke (MAC check failed); tap the card again"


class FileNotFoundOnChipError(ChipError):
    code = "E_CHIP_FILE_NOT_FOUND"
    remedy = "the card lacks a required file; read the card on another lane or send it for checking"


class SecurityStatusError(ChipError):
    code = "E_CHIP_SECURITY_STATUS"
    remedy = "the card refused access to this file (security status not satisfied); tap the card again"


class WrongLengthError(ChipError):
    code = "E_CHIP_WRONG_LENGTH"
    remedy = "the card rejected the command length; tap the card again (the reader will use smaller reads)"


class UnsupportedError(ChipError):
    code = "E_CHIP_UNSUPPORTED"
    remedy = "this card uses a protocol or parameter the gate cannot use; send the holder to a proctor"


class ChipTimeoutError(ChipError):
    code = "E_CHIP_TIMEOUT"
    remedy = "the card answered too slowly; hold the card still on the reader and tap again"


class ChipStatusError(ChipError):
    """Any other error status word (``sw`` says which)."""

    code = "E_CHIP_STATUS"
    remedy = "the card answered an unexpected status; tap again, and if it repeats send the card for checking"


class MalformedResponseError(ChipError):
    """The card's answer does not parse (too short, bad TLV, bad padding)."""

    code = "E_CHIP_DATA_MALFORMED"
    remedy = "the card answered data that does not parse; tap again, and if it repeats have the card checked"
