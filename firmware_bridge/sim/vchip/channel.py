"""An in-memory ``ApduChannel`` to a virtual card: the PN532 path minus the radio (for tests and tools)."""

from __future__ import annotations

from edge.identity.emrtd.errors import CardRemovedError
from firmware_bridge.sim.vchip.card import CardGone, VirtualCard


class MemoryChannel:
    """Hands each APDU straight to the card; ``CardGone`` becomes ``CardRemovedError`` as on the real reader."""

    def __init__(self, card: VirtualCard) -> None:
        self.card = card
        self.sent: list[bytes] = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(bytes(apdu))
        try:
            return self.card.process_apdu(apdu)
        except CardGone as exc:
            raise CardRemovedError(str(exc)) from exc
