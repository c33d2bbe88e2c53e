"""What the lane tells its listeners (screens, metrics, the MQTT publisher), as typed notices.

Listeners are plain callables taking a ``Notice``; the lane calls them on its event loop, one after another, in the
order they were registered. A listener that raises is logged and skipped: the lane keeps serving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from edge.devices import ChipIdentity, Frame
from edge.lane.records import CandidateReport

log = logging.getLogger("examgate.lane")


@dataclass(frozen=True, slots=True)
class TapSeen:
    """A card arrived at an unlocked lane; serving the candidate starts now (the kiosk says 'look at the camera')."""


@dataclass(frozen=True, slots=True)
class ReviewOpened:
    """The lane waits for a proctor; the images stay in memory with whoever keeps them until the candidate is done."""

    report: CandidateReport
    identity: ChipIdentity | None
    frame: Frame | None


@dataclass(frozen=True, slots=True)
class GateReleased:
    """The turnstile's relay was pulsed for this candidate."""

    attempt_id: str
    direction: str


@dataclass(frozen=True, slots=True)
class CandidateDone:
    """The candidate is finished (passed, rejected, or sent to the proctor); the report is final."""

    report: CandidateReport


@dataclass(frozen=True, slots=True)
class ChallengeIssued:
    """The lane asks the candidate for an action (the kiosk shows ``prompt``) and watches for ``timeout_s`` seconds.

    ``action`` is one of ``edge.vision.pad.challenge.ACTIONS``; ``prompt`` is its Vietnamese text (``PROMPTS_VI``).
    """

    action: str
    prompt: str
    timeout_s: float


Notice = TapSeen | ReviewOpened | GateReleased | CandidateDone | ChallengeIssued
LaneListener = Callable[[Notice], None]


def on_done(handler: Callable[[CandidateReport], None]) -> LaneListener:
    """A listener calling ``handler`` with the report of each finished candidate, ignoring the other notices."""

    def listener(notice: Notice) -> None:
        if isinstance(notice, CandidateDone):
            handler(notice.report)

    return listener


def tell(listeners: Iterable[LaneListener], notice: Notice) -> None:
    """Hand ``notice`` to every listener; one that raises is logged (no notice content) and the rest still hear."""
    for listener in tuple(listeners):
        try:
            listener(notice)
        except Exception as exc:  # noqa: BLE001 - a screen or metric failing must never stop the lane
            name = getattr(listener, "__qualname__", type(listener).__name__)
            log.error(
                "lane listener failed notice=%s listener=%s error=%s", type(notice).__name__, name, type(exc).__name__
            )
