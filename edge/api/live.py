"""What the screens show live: the queue of reviews waiting for a proctor, the kiosk's state, and the stream of
decisions. Fed by the lane's notices (told on the lane's event loop), read by the API (its own loop or the same
one), pushed to browsers as server-sent events.

Face images of a pending review stay in memory only, and only until the candidate is finished; they are encoded to
JPEG when a proctor asks for them, never written to disk here (the evidence vault keeps encrypted copies).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from edge.clock import iso_ms
from edge.devices import ChipIdentity, Frame, RgbImage
from edge.lane import (
    CandidateDone,
    CandidateReport,
    ChallengeIssued,
    GateReleased,
    Lane,
    Notice,
    ReviewOpened,
    TapSeen,
)

ImageKind = Literal["live", "chip", "roster"]
KioskState = Literal["idle", "camera", "challenge", "wait", "pass", "see_proctor"]


@dataclass(frozen=True)
class KioskPrompt:
    """The active PAD challenge the kiosk shows: the lane's Vietnamese prompt and how long the candidate has."""

    text: str
    timeout_s: float


@dataclass
class ReviewItem:
    """One review the lane is waiting on. Images are raw until a proctor asks; then JPEG, cached."""

    attempt_id: str
    requested_at: str
    reasons: tuple[str, ...]
    face_score: float | None
    face_attempts: int
    pad_score: float | None
    pad_signals: dict[str, float]
    candidate_id: str | None
    full_name: str | None
    id_masked: str | None
    chip_birth_date: str | None
    live_frame: RgbImage | None
    chip_image: bytes | None
    jpeg: dict[str, bytes] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """What the console lists (no images; they are fetched by URL)."""
        return {
            "attempt_id": self.attempt_id,
            "requested_at": self.requested_at,
            "reasons": list(self.reasons),
            "face_score": self.face_score,
            "pad_score": self.pad_score,
            "pad_signals": dict(sorted(self.pad_signals.items())),
            "face_attempts": self.face_attempts,
            "candidate_id": self.candidate_id,
            "full_name": self.full_name,
            "id_masked": self.id_masked,
            "birth_date": self.chip_birth_date,
            "has_live": self.live_frame is not None,
            "has_chip": self.chip_image is not None,
        }


class Broadcaster:
    """Fan-out of text messages to SSE subscribers, each on its own event loop; safe to call from any thread."""

    def __init__(self, queue_size: int = 100) -> None:
        self._subscribers: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[str]]] = {}
        self._lock = threading.Lock()
        self._next = 0
        self.queue_size = queue_size

    def subscribe(self) -> tuple[int, asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(self.queue_size)
        with self._lock:
            self._next += 1
            self._subscribers[self._next] = (asyncio.get_running_loop(), queue)
            return self._next, queue

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, message: dict[str, object]) -> None:
        text = json.dumps(message, ensure_ascii=False)
        with self._lock:
            targets = list(self._subscribers.values())
        for loop, queue in targets:

            def put(q: asyncio.Queue[str] = queue) -> None:
                if not q.full():  # a stalled browser loses messages, never blocks the lane
                    q.put_nowait(text)

            try:
                loop.call_soon_threadsafe(put)
            except RuntimeError:  # that subscriber's loop is closed; it unsubscribes on its way out
                continue


class LiveHub:
    """Live state shared by the lane (writer) and the API (reader)."""

    def __init__(self, *, kiosk_result_s: float = 6.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = Broadcaster()
        self.kiosk = Broadcaster()
        self.kiosk_result_s = kiosk_result_s
        self.lane_loop: asyncio.AbstractEventLoop | None = None
        self._clock = clock
        self._items: dict[str, ReviewItem] = {}
        self._lock = threading.Lock()
        self._busy = False  # a candidate is being processed (card tapped, or an assisted request running)
        self._kiosk_state: tuple[KioskState, str | None, float] = ("idle", None, clock())
        self._kiosk_prompt: KioskPrompt | None = None  # set while the state is "challenge"
        self.recent: list[dict[str, object]] = []  # last decisions, newest last (console's history on load)

    # ------------------------------------------------------------- wiring
    def attach(self, lane: Lane) -> None:
        """Listen to the lane's notices (a tap, a challenge, a review opened, the gate released, a candidate done)."""
        lane.listen(self.notice)

    def notice(self, notice: Notice) -> None:
        match notice:
            case TapSeen():  # the lane tells it only when unlocked: a locked lane ignores the tap
                self.on_tap()
            case ChallengeIssued():
                self.on_challenge(notice.prompt, notice.timeout_s)
            case ReviewOpened():
                self.on_review(notice.report, notice.identity, notice.frame)
            case GateReleased():
                self.on_release(notice.attempt_id, notice.direction)
            case CandidateDone():
                self.on_report(notice.report)

    def bind_lane_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        self.lane_loop = loop

    # ------------------------------------------------------- lane notices
    def on_tap(self) -> None:
        with self._lock:
            self._busy = True
        self.set_kiosk("camera")

    def on_challenge(self, prompt: str, timeout_s: float) -> None:
        """The lane asks the candidate for an action (turn the head, blink): the kiosk shows it with a countdown."""
        self.set_kiosk("challenge", prompt=KioskPrompt(prompt, timeout_s))

    def on_release(self, attempt_id: str, direction: str) -> None:
        """The relay was pulsed for ``attempt_id`` (the notice names it: a plain pass has no review item to look up)."""
        self.console.publish({"type": "gate_opened", "attempt_id": attempt_id, "direction": direction, "at": iso_ms()})

    def on_review(self, report: CandidateReport, identity: ChipIdentity | None, frame: Frame | None) -> None:
        with contextlib.suppress(RuntimeError):  # called off the loop (tests): keep what bind_lane_loop set
            self.lane_loop = self.lane_loop or asyncio.get_running_loop()
        item = ReviewItem(
            attempt_id=report.attempt_id,
            requested_at=iso_ms(),
            reasons=tuple(report.reasons),
            face_score=report.face_score,
            pad_score=report.pad_score,
            pad_signals=dict(report.pad_signals),
            face_attempts=report.face_attempts,
            candidate_id=report.candidate_id,
            full_name=report.full_name,
            id_masked=report.id_masked,
            chip_birth_date=identity.birth_date.isoformat() if identity is not None else None,
            live_frame=frame.image if frame is not None else None,
            chip_image=identity.face_image if identity is not None else None,
        )
        with self._lock:
            self._items[item.attempt_id] = item
        self.console.publish({"type": "review", "item": item.summary()})
        self.set_kiosk("wait")

    def on_report(self, report: CandidateReport) -> None:
        with self._lock:
            self._items.pop(report.attempt_id, None)
            self._busy = False
        decision: dict[str, object] = {
            "type": "decision",
            "attempt_id": report.attempt_id,
            # a review the proctor denied (or nobody answered) ends as a rejection
            "outcome": "fail" if report.reviewed_by and report.outcome != "pass" else report.outcome,
            "passed": report.passed,
            "reasons": list(report.reasons),
            "reviewed_by": report.reviewed_by,
            "candidate_id": report.candidate_id,
            "full_name": report.full_name,
            "id_masked": report.id_masked,
            "face_score": report.face_score,
            "at": iso_ms(),
        }
        with self._lock:
            self.recent = [*self.recent[-49:], decision]
        self.console.publish(decision)
        if report.outcome == "pass":
            self.set_kiosk("pass", report.full_name)
        else:
            self.set_kiosk("see_proctor")

    def claim_lane(self) -> bool:
        """Mark the lane busy for an assisted request; False when a candidate is already in progress."""
        with self._lock:
            if self._busy:
                return False
            self._busy = True
            return True

    def release_lane(self) -> None:
        with self._lock:
            self._busy = False

    # ------------------------------------------------------------- reading
    def items(self) -> list[ReviewItem]:
        with self._lock:
            return list(self._items.values())

    def item(self, attempt_id: str) -> ReviewItem | None:
        with self._lock:
            return self._items.get(attempt_id)

    def recent_decisions(self) -> list[dict[str, object]]:
        with self._lock:
            return list(self.recent)

    # --------------------------------------------------------------- kiosk
    def set_kiosk(self, state: KioskState, name: str | None = None, *, prompt: KioskPrompt | None = None) -> None:
        with self._lock:
            self._kiosk_state = (state, name, self._clock())
            self._kiosk_prompt = prompt if state == "challenge" else None
        self.kiosk.publish(self.kiosk_message(state, name, prompt))

    def kiosk_now(self) -> dict[str, object]:
        """The kiosk's state for a screen that just connected (a result shown long enough reverts to idle; a
        challenge shows the time that is left, and once it is over the candidate is back at the camera)."""
        with self._lock:
            (state, name, since), prompt = self._kiosk_state, self._kiosk_prompt
        elapsed_s = self._clock() - since
        if state in ("pass", "see_proctor") and elapsed_s > self.kiosk_result_s:
            state, name = "idle", None
        if state == "challenge" and prompt is not None:
            left_s = prompt.timeout_s - elapsed_s
            if left_s <= 0:
                return self.kiosk_message("camera", None)
            prompt = KioskPrompt(prompt.text, left_s)
        return self.kiosk_message(state, name, prompt)

    def kiosk_message(
        self, state: KioskState, name: str | None, prompt: KioskPrompt | None = None
    ) -> dict[str, object]:
        """Only a state, on pass the name, on a challenge the prompt and its seconds: a candidate never sees scores,
        reasons or ID numbers."""
        message: dict[str, object] = {"type": "kiosk", "state": state, "hold_s": self.kiosk_result_s}
        if state == "pass" and name:
            message["name"] = name
        if state == "challenge" and prompt is not None:
            message["prompt"] = prompt.text
            message["timeout_s"] = round(prompt.timeout_s, 1)
        return message
