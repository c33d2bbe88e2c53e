"""What a candidate's run needs of its lane: the devices, the store and the lane's own helpers (a structural port).

``edge.lane.handlers`` depends on this protocol instead of the ``Lane`` class, so the lane imports its handlers and
never the reverse.
"""

from __future__ import annotations

import asyncio
import random
from typing import Protocol

from edge.devices import Camera, CardReader, FaceVerifier, Frame, Turnstile
from edge.errors import ExamGateError
from edge.events.models import Event, Stamp
from edge.keys import AccessKeySource
from edge.lane.notices import Notice
from edge.lane.records import EvidenceSink, LanePad, LaneSettings
from edge.reviews import ReviewBroker
from edge.store import Store


class LaneParts(Protocol):
    settings: LaneSettings
    reader: CardReader
    camera: Camera
    turnstile: Turnstile
    verifier: FaceVerifier
    store: Store
    reviews: ReviewBroker
    evidence: EvidenceSink | None
    keys: AccessKeySource
    pad: LanePad | None
    rng: random.Random  # picks the challenge action
    stop_event: asyncio.Event | None

    def tell(self, notice: Notice) -> None: ...

    def stamp(self) -> Stamp: ...

    def capture_window(self) -> list[Frame]: ...

    async def emit(self, event: Event) -> None: ...

    async def fault(self, device: str, err: ExamGateError) -> None: ...
