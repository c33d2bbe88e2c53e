"""ISO 14443-4 APDU channel through a PN532: implements ``edge.identity.emrtd.apdu.ApduChannel``.

The PN532 does the ISO 14443-4 block framing itself; this layer only turns PN532 failures into the chip
vocabulary: card gone → ``CardRemovedError``, the serial port gone → ``ReaderLinkError`` (no retry helps), any
other link failure → ``ChipCommunicationError``.
"""

from __future__ import annotations

import time

from edge.identity.emrtd.errors import CardRemovedError, ChipCommunicationError, ChipTimeoutError, ReaderLinkError
from firmware_bridge.pn532.driver import Pn532, Target
from firmware_bridge.pn532.errors import Pn532Error, SerialLinkError, TargetGoneError, TargetTimeoutError


class Pn532ApduChannel:
    """APDUs to one activated target. ``apdus`` counts exchanges (for timings and the bench).

    ``deadline`` (a ``time.monotonic()`` value) bounds a whole card read: an APDU started after it raises
    ``ChipTimeoutError``; each single exchange is bounded by the driver's own timeout.
    """

    def __init__(self, driver: Pn532, target: Target, *, deadline: float | None = None) -> None:
        self._driver = driver
        self.target = target
        self.deadline = deadline
        self.apdus = 0

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU, return the response including SW1 SW2."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ChipTimeoutError(f"the card read ran out of time after {self.apdus} APDUs")
        self.apdus += 1
        try:
            response = self._driver.in_data_exchange(self.target.tg, apdu)
        except (TargetTimeoutError, TargetGoneError) as exc:
            raise CardRemovedError(f"the card left the field during APDU #{self.apdus} ({exc.message})") from exc
        except SerialLinkError as exc:
            raise ReaderLinkError(f"the reader's serial link went away during APDU #{self.apdus}: {exc}") from exc
        except Pn532Error as exc:
            raise ChipCommunicationError(f"reader link failed during APDU #{self.apdus}: {exc}") from exc
        if len(response) < 2:
            raise ChipCommunicationError(f"the card answered {len(response)} bytes, no status word")
        return response
