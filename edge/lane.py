"""The gate lane: waits for a card, runs the admission state machine, and performs its actions on the devices.

asyncio at the top; every blocking device call runs in a worker thread so the loop stays responsive.
The lane does I/O only; every decision comes from ``edge.policy.step``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from edge.devices import (
    Camera,
    CardReader,
    CardTap,
    ChipIdentity,
    FaceVerifier,
    Frame,
    ReferenceImage,
    RgbImage,
    Turnstile,
)
from edge.errors import ExamGateError, PolicyError
from edge.events.ids import new_event_id
from edge.events.models import (
    DecisionFields,
    DeviceFault,
    DeviceStatus,
    Event,
    GateOpened,
    GatePassageConfirmed,
    GatePassageTimeout,
    ReviewResolved,
    Stamp,
    StampFields,
    Subject,
    decision_event,
)
from edge.keys import AccessKeySource, TapQrKeySource
from edge.masking import mask_id
from edge.policy import machine as m
from edge.reviews import ReviewAnswer, ReviewBroker
from edge.store import RosterEntry, Store

log = logging.getLogger("examgate.lane")

# Face findings that let a candidate through only after a proctor has looked: the roster photo contradicts the chip
# photo, or a reference photo is unusable or poor (then the match rests on less than it should). Kept equal to
# edge.vision.verifier.REVIEW_EVIDENCE by a test; not imported, so the lane does not load the vision stack.
REVIEW_FLAGS = frozenset(
    {"E_ROSTER_DISAGREES", "E_CHIP_PHOTO_UNUSABLE", "E_CHIP_PHOTO_POOR", "E_ROSTER_PHOTO_UNUSABLE"}
)
RETRYABLE_CHIP_CODES = frozenset({"E_CHIP_CARD_REMOVED", "E_CHIP_COMM", "E_CHIP_TIMEOUT", "E_CHIP_SM_FAILED"})


@dataclass(frozen=True)
class LaneSettings:
    site_id: str
    gate_id: str
    session_id: str
    thresholds_version: str
    poll_timeout_s: float = 0.5
    capture_window_s: float = 1.5
    frames_per_attempt: int = 5
    passage_timeout_s: float = 10.0
    review_timeout_s: float = 300.0
    pulse_ms: int = 300
    anti_passback: bool = True


@dataclass
class CandidateReport:
    """What happened to one candidate: the demo prints it, the API serves it."""

    attempt_id: str
    started_at: dt.datetime
    outcome: str | None = None
    reasons: tuple[str, ...] = ()
    id_masked: str | None = None
    candidate_id: str | None = None
    full_name: str | None = None
    face_score: float | None = None
    face_attempts: int = 0
    passed: bool | None = None
    reviewed_by: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class AssistedRequest:
    """An officer-assisted admission: no usable chip; the officer checked the person's credential."""

    personal_id: str
    credential: str  # vneid_level2 | manual_no_card | manual_lost_card | manual_old_cmnd
    officer: str
    commitment_signed: bool = False
    note: str = ""


class EvidenceSink(Protocol):
    """Keeps the face images of review/fail cases (encrypted, deleted after the retention period: edge.privacy)."""

    def keep(
        self, attempt_id: str, live: RgbImage | None, chip_image: bytes | None, roster_photo: bytes | None
    ) -> None: ...


class Lane:
    def __init__(
        self,
        settings: LaneSettings,
        *,
        params: m.PolicyParams,
        reader: CardReader,
        camera: Camera,
        turnstile: Turnstile,
        verifier: FaceVerifier,
        store: Store,
        reviews: ReviewBroker | None = None,
        on_report: Callable[[CandidateReport], None] | None = None,
        on_review: Callable[[CandidateReport, ChipIdentity | None, Frame | None], None] | None = None,
        evidence: EvidenceSink | None = None,
        keys: AccessKeySource | None = None,
    ) -> None:
        self.settings = settings
        self.params = params
        self.reader = reader
        self.camera = camera
        self.turnstile = turnstile
        self.verifier = verifier
        self.store = store
        self.reviews = reviews or ReviewBroker()
        self.on_report = on_report
        self.on_review = on_review
        self.evidence = evidence
        self.keys = keys or TapQrKeySource()
        self.centre_lock: str | None = None  # set by the centre's gate.lock command
        self.fire_release_active = False  # set from the turnstile's fire loop; independent of the centre's lock
        self._stop: asyncio.Event | None = None
        self.startup_faults: list[tuple[str, ExamGateError]] = []  # devices missing at start (edge.degraded)
        self._reader_fault: str | None = None
        self._one_at_a_time = asyncio.Lock()  # a lane has one turnstile: a tap and an officer request never overlap
        self._last_wall = time.time()

    @property
    def locked_reason(self) -> str | None:
        """Why the lane does not admit now (the fire alarm wins), or None."""
        return "fire_release" if self.fire_release_active else self.centre_lock

    @locked_reason.setter
    def locked_reason(self, reason: str | None) -> None:
        self.centre_lock = reason

    # ------------------------------------------------------------ helpers
    def _stamp(self) -> Stamp:
        return Stamp(self.settings.site_id, self.settings.gate_id, self.settings.session_id)

    def _event_base(self) -> StampFields:
        return self._stamp().fields()

    async def _emit(self, event: Event) -> None:
        await asyncio.to_thread(self.store.append_event, event)

    async def fault(self, device: str, err: ExamGateError) -> None:
        event = DeviceFault(**self._event_base(), device=device, code=err.code, message=err.message, remedy=err.remedy)
        log.warning("device fault device=%s code=%s", device, err.code)
        await self._emit(event)

    async def _lane_fault(self, exc: Exception) -> None:
        """A candidate could not be finished: report it (when the store still takes it) and keep serving."""
        err = (
            exc
            if isinstance(exc, ExamGateError)
            else ExamGateError(
                f"{type(exc).__name__} while serving a candidate",
                code="E_LANE_CANDIDATE_FAILED",
                remedy="the candidate goes to the proctor; if it repeats, run `examgate selftest` and report the log",
            )
        )
        log.error("candidate not finished code=%s error=%s", err.code, type(exc).__name__)
        try:
            await self.fault("store" if err.code.startswith("E_STORE") else "reader", err)
        except ExamGateError:
            log.error("fault not recorded: the store refuses writes")
        await asyncio.sleep(1.0)

    async def check_clock(self) -> None:
        """Wall clock moving backwards (bad RTC, NTP step) is reported; ordering never depends on wall time."""
        now = time.time()
        if now < self._last_wall - 1.0:
            await self.fault(
                "clock",
                ExamGateError(
                    f"wall clock went back by {self._last_wall - now:.1f} s",
                    code="E_CLOCK_BACKWARDS",
                    remedy="check NTP sync (`timedatectl`) and the RTC battery; events stay ordered by sequence",
                ),
            )
        self._last_wall = now

    # --------------------------------------------------------------- loop
    async def run(self, stop: asyncio.Event) -> None:
        """Serve candidates until ``stop`` is set; the candidate in progress is always finished first."""
        self.reviews.bind(asyncio.get_running_loop())
        self._stop = stop
        for device, err in self.startup_faults:
            await self.fault(device, err)
        state = "degraded" if self.startup_faults else "ready"
        details = {device: err.code for device, err in self.startup_faults}
        await self._emit(DeviceStatus(**self._event_base(), state=state, details=details))
        while not stop.is_set():
            await self.check_clock()
            status = await asyncio.to_thread(self.turnstile.status)
            if status.fire_release and not self.fire_release_active:
                self.fire_release_active = True
                await self._emit(DeviceStatus(**self._event_base(), state="locked", details={"cause": "fire"}))
            elif not status.fire_release and self.fire_release_active:
                self.fire_release_active = False
                state = "locked" if self.centre_lock else "ready"
                await self._emit(DeviceStatus(**self._event_base(), state=state))
            try:
                tap = await asyncio.to_thread(self.reader.poll, self.settings.poll_timeout_s)
            except ExamGateError as err:
                if err.code != self._reader_fault:  # report a fault once, not at every poll
                    self._reader_fault = err.code
                    await self.fault("reader", err)
                await asyncio.sleep(1.0)
                continue
            if self._reader_fault is not None:
                self._reader_fault = None
                await self._emit(DeviceStatus(**self._event_base(), state="ready", details={"reader": "ok"}))
            if tap is None:
                continue
            if self.locked_reason is not None:
                log.info("tap ignored: lane locked (%s)", self.locked_reason)
                continue
            try:
                await self.process(tap)
            except Exception as exc:  # noqa: BLE001 - one candidate's failure must never stop the lane
                await self._lane_fault(exc)
        await self._emit(DeviceStatus(**self._event_base(), state="stopping"))

    # ---------------------------------------------------------- candidate
    async def process_assisted(self, request: AssistedRequest) -> CandidateReport:
        """Officer-assisted admission: roster lookup and a live face match against the roster photo."""
        if self.locked_reason is not None:
            raise ExamGateError(
                f"the lane is locked ({self.locked_reason})",
                code="E_GATE_LOCKED",
                remedy="admit the candidate at another lane, or unlock this one when the cause is cleared",
            )
        return await self.process(None, assisted=request)

    async def process(self, tap: CardTap | None, *, assisted: AssistedRequest | None = None) -> CandidateReport:
        """Take one candidate from tap (or officer request) to passage or rejection; one candidate at a time."""
        async with self._one_at_a_time:
            return await self._process(tap, assisted)

    @property
    def busy(self) -> bool:
        return self._one_at_a_time.locked()

    async def _process(self, tap: CardTap | None, assisted: AssistedRequest | None) -> CandidateReport:
        params = self.params  # one candidate is decided under one set of thresholds, even if the centre swaps them
        attempt_id = new_event_id()
        report = CandidateReport(attempt_id=attempt_id, started_at=dt.datetime.now(dt.UTC))
        t0 = time.perf_counter()
        identity: ChipIdentity | None = None
        entry: RosterEntry | None = None
        face_result_frame: Frame | None = None
        face_scores: dict[str, float] = {}
        model_version: str | None = None
        best_similarity: float | None = None
        gate_failed = False
        personal_id: str | None = None
        if assisted is not None:
            personal_id = assisted.personal_id
            report.id_masked = mask_id(personal_id)
            first: m.Input = m.AssistedStart(attempt_id, assisted.credential)
        elif tap is not None:
            first = m.CardPresented(attempt_id)
        else:
            raise PolicyError("process() needs a card tap or an officer request")
        state, actions = m.step(m.initial_state(), first, params)
        queue = list(actions)
        while queue:
            action = queue.pop(0)
            event: m.Input | None = None
            if isinstance(action, m.ReadChip):
                assert tap is not None
                t = time.perf_counter()
                try:
                    key = await asyncio.to_thread(self.keys.key_for, tap)
                    identity = await asyncio.to_thread(self.reader.read, tap, key)
                    event = m.ChipRead(identity.passive_auth, identity.clone_check)
                    personal_id = identity.personal_id
                    report.id_masked = mask_id(personal_id)
                except ExamGateError as err:
                    log.info("chip read failed attempt=%s code=%s", action.attempt, err.code)
                    event = m.ChipReadFailed(err.code, err.code in RETRYABLE_CHIP_CODES)
                report.timings_ms["chip_ms"] = report.timings_ms.get("chip_ms", 0.0) + _ms(t)
            elif isinstance(action, m.LookupRoster):
                assert personal_id is not None
                t = time.perf_counter()
                entry = await asyncio.to_thread(self.store.find_candidate, self.settings.session_id, personal_id)
                if entry is None:
                    event = m.RosterMissing()
                else:
                    report.candidate_id = entry.candidate_id
                    report.full_name = entry.full_name
                    admitted = self.settings.anti_passback and await asyncio.to_thread(
                        self.store.is_admitted, self.settings.session_id, entry.candidate_id
                    )
                    event = m.RosterFound(already_admitted=admitted)
                report.timings_ms["roster_ms"] = _ms(t)
            elif isinstance(action, m.CaptureFace):
                t = time.perf_counter()
                refs = [ReferenceImage("chip", identity.face_image)] if identity is not None else []
                if entry is not None and entry.photo:
                    refs.append(ReferenceImage("roster", entry.photo))
                try:
                    frames = await asyncio.to_thread(self._capture_window)
                    result = await asyncio.to_thread(self.verifier.verify, frames, refs)
                except ExamGateError as err:
                    await self.fault("camera" if err.code.startswith("E_CAMERA") else "model", err)
                    event = m.FaceCaptured(None, (err.code,))
                else:
                    model_version = result.model_version
                    if result.similarity is not None and (
                        best_similarity is None or result.similarity > best_similarity
                    ):
                        best_similarity = result.similarity  # keep the evidence of the attempt that decides
                        face_scores = dict(result.scores)
                        if result.best_frame is not None:
                            face_result_frame = Frame(result.best_frame, time.monotonic(), "best")
                    flags = tuple(r for r in result.reasons if r in REVIEW_FLAGS)
                    event = m.FaceCaptured(result.similarity, tuple(result.reasons), flags)
                report.timings_ms["face_ms"] = report.timings_ms.get("face_ms", 0.0) + _ms(t)
            elif isinstance(action, m.RecordDecision):
                report.outcome = action.outcome
                report.reasons = action.reasons
                report.face_score = action.similarity
                report.face_attempts = action.face_attempts
                report.timings_ms["decision_ms"] = _ms(t0)
                await self._record_decision(
                    action, report, identity, entry, face_scores, model_version, assisted, params
                )
                if action.outcome != "pass" and self.evidence is not None and action.similarity is not None:
                    await asyncio.to_thread(
                        self.evidence.keep,
                        attempt_id,
                        face_result_frame.image if face_result_frame is not None else None,
                        identity.face_image if identity is not None else None,
                        entry.photo if entry is not None else None,
                    )
            elif isinstance(action, m.RequestReview):
                pending = self.reviews.open(attempt_id)  # open before anyone is told, so no answer is lost
                if self.on_review is not None:
                    self.on_review(report, identity, face_result_frame)
                event = await self._await_review(attempt_id, pending)
            elif isinstance(action, m.RecordReview):
                report.reviewed_by = action.operator
                await self._record_review(attempt_id, action, report)
            elif isinstance(action, m.OpenGate):
                try:
                    await asyncio.to_thread(self.turnstile.release, "entry")
                except ExamGateError as err:  # the decision stands; a person lets the candidate through
                    await self.fault("turnstile", err)
                    gate_failed = True
                    continue
                report.timings_ms["gate_open_ms"] = _ms(t0)
                await self._emit(
                    GateOpened(
                        **self._event_base(),
                        attempt_id=attempt_id,
                        pulse_ms=self.settings.pulse_ms,
                        cause=action.cause,
                    )
                )
            elif isinstance(action, m.WaitPassage):
                t = time.perf_counter()
                try:
                    passed = not gate_failed and await asyncio.to_thread(
                        self.turnstile.wait_passage, self.settings.passage_timeout_s
                    )
                except ExamGateError as err:
                    await self.fault("turnstile", err)
                    passed = False
                if passed:
                    await self._emit(GatePassageConfirmed(**self._event_base(), attempt_id=attempt_id, after_ms=_ms(t)))
                    event = m.PassageConfirmed()
                else:
                    await self._emit(
                        GatePassageTimeout(
                            **self._event_base(), attempt_id=attempt_id, timeout_s=self.settings.passage_timeout_s
                        )
                    )
                    event = m.PassageTimedOut()
            elif isinstance(action, m.Finish):
                report.passed = action.passed
            else:  # pragma: no cover - exhaustive over Action
                raise PolicyError(f"unknown action {action!r}")
            if event is not None:
                state, actions = m.step(state, event, params)
                queue.extend(actions)
        report.timings_ms["total_ms"] = _ms(t0)
        log.info(
            "candidate done attempt=%s id=%s outcome=%s reasons=%s score=%s total_ms=%.0f",
            attempt_id,
            report.id_masked,
            report.outcome,
            ",".join(report.reasons),
            "-" if report.face_score is None else f"{report.face_score:.3f}",
            report.timings_ms["total_ms"],
        )
        if self.on_report is not None:
            self.on_report(report)
        return report

    def _capture_window(self) -> list[Frame]:
        """Frames spread over the capture window; the verifier picks the best of them."""
        count = self.settings.frames_per_attempt
        interval_s = self.settings.capture_window_s / max(1, count)
        frames: list[Frame] = []
        for index in range(count):
            frames.append(self.camera.capture())
            if index + 1 < count:
                time.sleep(interval_s)
        return frames

    async def _record_decision(
        self,
        action: m.RecordDecision,
        report: CandidateReport,
        identity: ChipIdentity | None,
        entry: RosterEntry | None,
        face_scores: dict[str, float],
        model_version: str | None,
        assisted: AssistedRequest | None,
        params: m.PolicyParams,
    ) -> None:
        subject = Subject(candidate_id=entry.candidate_id if entry else None, id_masked=report.id_masked)
        decision = DecisionFields(
            attempt_id=report.attempt_id,
            subject=subject,
            reason_codes=(
                (*action.reasons, f"ASSISTED_{assisted.credential.upper()}") if assisted is not None else action.reasons
            ),
            face_score=action.similarity,
            roster_score=face_scores.get("roster"),
            thresholds_version=params.thresholds_version or self.settings.thresholds_version,
            match_threshold=params.match_threshold,
            review_threshold=params.review_threshold,
            model_version=model_version,
            passive_auth=identity.passive_auth if identity else None,
            clone_check=identity.clone_check if identity else None,
            access_protocol=identity.access_protocol if identity else None,
            face_attempts=action.face_attempts,
            timings_ms=dict(report.timings_ms),
            credential=assisted.credential if assisted else "chip",
        )
        event = decision_event(action.outcome, self._stamp(), decision)
        await asyncio.to_thread(
            lambda: self.store.record_decision(
                event,
                outcome=action.outcome,
                attempt_id=report.attempt_id,
                session_id=self.settings.session_id,
                candidate_id=subject.candidate_id,
                reason_codes=action.reasons,
                face_score=action.similarity,
                thresholds_version=params.thresholds_version or self.settings.thresholds_version,
                model_version=model_version,
                gate_id=self.settings.gate_id,
                id_masked=subject.id_masked,
                credential=assisted.credential if assisted else "chip",
                assisted=(assisted.officer, assisted.commitment_signed, assisted.note) if assisted else None,
            )
        )

    async def _await_review(self, attempt_id: str, future: asyncio.Future[ReviewAnswer]) -> m.ReviewResolved:
        stopping = asyncio.ensure_future(self._stop.wait()) if self._stop is not None else None
        try:
            waiters: set[asyncio.Future[Any]] = {future} | ({stopping} if stopping is not None else set())
            done, _ = await asyncio.wait(
                waiters, timeout=self.settings.review_timeout_s, return_when=asyncio.FIRST_COMPLETED
            )
            if future in done:
                answer = future.result()
            elif stopping is not None and stopping in done:
                answer = ReviewAnswer(False, "system", "the gate is shutting down; the candidate sees the proctor")
            else:
                answer = ReviewAnswer(False, "system", "no proctor decision within the review timeout")
        finally:
            if stopping is not None:
                stopping.cancel()
            self.reviews.close(attempt_id)
        return m.ReviewResolved(answer.approved, answer.operator, answer.reason)

    async def _record_review(self, attempt_id: str, action: m.RecordReview, report: CandidateReport) -> None:
        subject = Subject(candidate_id=report.candidate_id, id_masked=report.id_masked)
        event = ReviewResolved(
            **self._event_base(),
            attempt_id=attempt_id,
            subject=subject,
            approved=action.approved,
            operator=action.operator,
            reason=action.reason,
        )
        done = await asyncio.to_thread(
            self.store.resolve_review, attempt_id, action.approved, action.operator, action.reason, event
        )
        if not done:  # resolved elsewhere already: the store keeps the first answer
            log.warning("review for attempt=%s was already resolved", attempt_id)
        if action.approved:
            report.outcome = "pass"


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000.0, 1)
