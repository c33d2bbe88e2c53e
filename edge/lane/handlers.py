"""One handler per policy action for one candidate; ``run`` feeds each handler's result back into ``policy.step``.

The handlers do I/O only (devices in worker threads, the store, the listeners); every decision is the machine's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from edge.devices import ReferenceImage
from edge.errors import ExamGateError, PolicyError
from edge.events.models import (
    DecisionEvent,
    DecisionFields,
    GateOpened,
    GatePassageConfirmed,
    GatePassageTimeout,
    ReviewResolved,
    Subject,
    decision_event,
)
from edge.lane.attempt import Attempt, ms_since
from edge.lane.notices import CandidateDone, ChallengeIssued, GateReleased, ReviewOpened
from edge.lane.parts import LaneParts
from edge.lane.records import RETRYABLE_CHIP_CODES, REVIEW_FLAGS, CandidateReport
from edge.policy import machine as m
from edge.reviews import ReviewAnswer

log = logging.getLogger("examgate.lane")


class CandidateRun:
    """Takes one ``Attempt`` through the machine's actions on ``lane``'s devices."""

    def __init__(self, lane: LaneParts, attempt: Attempt) -> None:
        self.lane = lane
        self.attempt = attempt

    async def run(self, first: m.Input) -> CandidateReport:
        a = self.attempt
        state, actions = m.step(m.initial_state(), first, a.params)
        queue = list(actions)
        while queue:
            event = await self.handle(queue.pop(0))
            if event is not None:
                state, actions = m.step(state, event, a.params)
                queue.extend(actions)
        a.timed("total_ms", a.started)
        report = a.report
        log.info(
            "candidate done attempt=%s id=%s outcome=%s reasons=%s score=%s total_ms=%.0f",
            a.attempt_id,
            report.id_masked,
            report.outcome,
            ",".join(report.reasons),
            "-" if report.face_score is None else f"{report.face_score:.3f}",
            report.timings_ms["total_ms"],
        )
        self.lane.tell(CandidateDone(report))
        return report

    async def handle(self, action: m.Action) -> m.Input | None:
        """The machine's next input after ``action``, or None when the action yields none."""
        match action:
            case m.ReadChip():
                return await self.read_chip(action)
            case m.LookupRoster():
                return await self.lookup_roster()
            case m.CaptureFace():
                return await self.capture_face()
            case m.RunChallenge():
                return await self.run_challenge()
            case m.RecordDecision():
                await self.record_decision(action)
                return None
            case m.RequestReview():
                return await self.request_review()
            case m.RecordReview():
                await self.record_review(action)
                return None
            case m.OpenGate():
                await self.open_gate(action)
                return None
            case m.WaitPassage():
                return await self.wait_passage()
            case m.Finish():
                self.attempt.report.passed = action.passed
                return None
            case _:  # pragma: no cover - exhaustive over Action
                raise PolicyError(f"unknown action {action!r}")

    # ------------------------------------------------------------ handlers
    async def read_chip(self, action: m.ReadChip) -> m.Input:
        a, lane = self.attempt, self.lane
        assert a.tap is not None
        t = time.perf_counter()
        event: m.Input
        try:
            key = await asyncio.to_thread(lane.keys.key_for, a.tap)
            a.identity = await asyncio.to_thread(lane.reader.read, a.tap, key)
            event = m.ChipRead(a.identity.passive_auth, a.identity.clone_check)
            a.learn_id(a.identity.personal_id)
        except ExamGateError as err:
            log.info("chip read failed attempt=%s code=%s", action.attempt, err.code)
            event = m.ChipReadFailed(err.code, err.code in RETRYABLE_CHIP_CODES)
        a.timed("chip_ms", t, add=True)
        return event

    async def lookup_roster(self) -> m.Input:
        a, lane = self.attempt, self.lane
        assert a.personal_id is not None
        t = time.perf_counter()
        session = lane.settings.session_id
        a.entry = entry = await asyncio.to_thread(lane.store.find_candidate, session, a.personal_id)
        event: m.Input
        if entry is None:
            event = m.RosterMissing()
        else:
            a.report.candidate_id = entry.candidate_id
            a.report.full_name = entry.full_name
            admitted = lane.settings.anti_passback and await asyncio.to_thread(
                lane.store.is_admitted, session, entry.candidate_id
            )
            event = m.RosterFound(already_admitted=admitted)
        a.timed("roster_ms", t)
        return event

    async def capture_face(self) -> m.Input:
        a, lane = self.attempt, self.lane
        t = time.perf_counter()
        refs = [ReferenceImage("chip", a.identity.face_image)] if a.identity is not None else []
        if a.entry is not None and a.entry.photo:
            refs.append(ReferenceImage("roster", a.entry.photo))
        event: m.Input
        try:
            frames = await asyncio.to_thread(lane.capture_window)
            result = await asyncio.to_thread(lane.verifier.verify, frames, refs)
        except ExamGateError as err:
            await lane.fault("camera" if err.code.startswith("E_CAMERA") else "model", err)
            event = m.FaceCaptured(None, (err.code,))
        else:
            a.keep_face(result)
            flags = tuple(r for r in result.reasons if r in REVIEW_FLAGS)
            pad_score, pad_unavailable, pad_signals = None, False, None
            pad_frame = result.best_frame if result.best_frame is not None else (frames[0].image if frames else None)
            if lane.pad is not None and pad_frame is not None:
                pad_score, pad_unavailable = await asyncio.to_thread(lane.pad, pad_frame)
                if pad_score is not None and (a.pad_score is None or pad_score < a.pad_score):
                    a.pad_score = pad_score
            if lane.pad is not None and len(frames) >= 2:
                pad_signals = await asyncio.to_thread(lane.pad.signals, [f.image for f in frames]) or None
                a.pad_signals.update(pad_signals or {})
            event = m.FaceCaptured(
                result.similarity, tuple(result.reasons), flags, pad_score, pad_unavailable, pad_signals
            )
        a.timed("face_ms", t, add=True)
        return event

    async def run_challenge(self) -> m.Input:
        """Ask for a random action (the kiosk shows the prompt) and watch for it; the policy weighs the result."""
        from edge.vision.pad.challenge import PROMPTS_VI, pick_action  # noqa: PLC0415 - vision only when PAD runs

        a, lane, pad = self.attempt, self.lane, self.lane.pad
        t = time.perf_counter()
        if pad is None or not pad.challenge_ready:  # no landmark model: PAD_UNAVAILABLE, nothing asked
            return m.ChallengeChecked(False, unavailable=True)
        action = pick_action(lane.rng)
        lane.tell(ChallengeIssued(action, PROMPTS_VI[action], pad.challenge_timeout_s))
        camera = lane.camera
        try:
            result = await asyncio.to_thread(pad.challenge, action, lambda: camera.capture().image)
        except ExamGateError as err:
            await lane.fault("camera", err)
            result = False, {}
        a.timed("challenge_ms", t)
        if result is None:
            return m.ChallengeChecked(False, unavailable=True)
        passed, signals = result
        a.pad_signals.update({f"challenge_{k}": v for k, v in signals.items()})
        a.pad_signals.update({f"challenge_action_{action}": 1.0, "challenge_passed": float(passed)})
        return m.ChallengeChecked(passed)

    async def record_decision(self, action: m.RecordDecision) -> None:
        a, lane, report = self.attempt, self.lane, self.attempt.report
        report.outcome = action.outcome
        report.reasons = action.reasons
        report.face_score = action.similarity
        report.pad_score = a.pad_score
        report.pad_signals = dict(a.pad_signals)
        report.face_attempts = action.face_attempts
        a.timed("decision_ms", a.started)
        event = self._decision_event(action)
        store, assisted = lane.store, a.assisted
        await asyncio.to_thread(lambda: store.record_decision(event, assisted=assisted))
        if action.outcome != "pass" and lane.evidence is not None and action.similarity is not None:
            await asyncio.to_thread(
                lane.evidence.keep,
                a.attempt_id,
                a.best_frame.image if a.best_frame is not None else None,
                a.identity.face_image if a.identity is not None else None,
                a.entry.photo if a.entry is not None else None,
            )

    def _decision_event(self, action: m.RecordDecision) -> DecisionEvent:
        """The decision as its typed event; the store takes the decision's columns from it."""
        a, settings, identity, assisted = self.attempt, self.lane.settings, self.attempt.identity, self.attempt.assisted
        subject = Subject(candidate_id=a.entry.candidate_id if a.entry else None, id_masked=a.report.id_masked)
        thresholds_version = a.params.thresholds_version or settings.thresholds_version
        decision = DecisionFields(
            attempt_id=a.attempt_id,
            subject=subject,
            reason_codes=(
                (*action.reasons, f"ASSISTED_{assisted.credential.upper()}") if assisted is not None else action.reasons
            ),
            face_score=action.similarity,
            roster_score=a.face_scores.get("roster"),
            thresholds_version=thresholds_version,
            match_threshold=a.params.match_threshold,
            review_threshold=a.params.review_threshold,
            model_version=a.model_version,
            passive_auth=identity.passive_auth if identity else None,
            clone_check=identity.clone_check if identity else None,
            access_protocol=identity.access_protocol if identity else None,
            face_attempts=action.face_attempts,
            timings_ms=dict(a.report.timings_ms),
            pad_score=a.pad_score,
            pad_signals=dict(a.pad_signals) or None,
            pad_model=getattr(self.lane.pad, "model_version", None),
            pad_thresholds_version=getattr(self.lane.pad, "thresholds_version", None),
            pad_mode=a.params.pad_mode if self.lane.pad is not None else None,
            credential=a.credential,
            notice_version=settings.notice_version,
            legal_basis=settings.legal_basis,
        )
        return decision_event(action.outcome, self.lane.stamp(), decision)

    async def request_review(self) -> m.Input:
        a, lane = self.attempt, self.lane
        pending = lane.reviews.open(a.attempt_id)  # open before anyone is told, so no answer is lost
        lane.tell(ReviewOpened(a.report, a.identity, a.best_frame))
        return await self._await_review(pending)

    async def _await_review(self, future: asyncio.Future[ReviewAnswer]) -> m.ReviewResolved:
        lane, attempt_id = self.lane, self.attempt.attempt_id
        stop = lane.stop_event
        stopping = asyncio.ensure_future(stop.wait()) if stop is not None else None
        try:
            waiters: set[asyncio.Future[Any]] = {future} | ({stopping} if stopping is not None else set())
            done, _ = await asyncio.wait(
                waiters, timeout=lane.settings.review_timeout_s, return_when=asyncio.FIRST_COMPLETED
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
            lane.reviews.close(attempt_id)
        return m.ReviewResolved(answer.approved, answer.operator, answer.reason)

    async def record_review(self, action: m.RecordReview) -> None:
        a, lane = self.attempt, self.lane
        a.report.reviewed_by = action.operator
        subject = Subject(candidate_id=a.report.candidate_id, id_masked=a.report.id_masked)
        event = ReviewResolved(
            **lane.stamp().fields(),
            attempt_id=a.attempt_id,
            subject=subject,
            approved=action.approved,
            operator=action.operator,
            reason=action.reason,
        )
        done = await asyncio.to_thread(
            lane.store.resolve_review, a.attempt_id, action.approved, action.operator, action.reason, event
        )
        if not done:  # resolved elsewhere already: the store keeps the first answer
            log.warning("review for attempt=%s was already resolved", a.attempt_id)
        if action.approved:
            a.report.outcome = "pass"

    async def open_gate(self, action: m.OpenGate) -> None:
        a, lane = self.attempt, self.lane
        try:
            await asyncio.to_thread(lane.turnstile.release, "entry")
        except ExamGateError as err:  # the decision stands; a person lets the candidate through
            await lane.fault("turnstile", err)
            a.gate_failed = True
            return
        lane.tell(GateReleased(a.attempt_id, "entry"))
        a.report.timings_ms["gate_open_ms"] = ms_since(a.started)
        await lane.emit(
            GateOpened(
                **lane.stamp().fields(), attempt_id=a.attempt_id, pulse_ms=lane.settings.pulse_ms, cause=action.cause
            )
        )

    async def wait_passage(self) -> m.Input:
        a, lane = self.attempt, self.lane
        t = time.perf_counter()
        timeout_s = lane.settings.passage_timeout_s
        try:
            passed = not a.gate_failed and await asyncio.to_thread(lane.turnstile.wait_passage, timeout_s)
        except ExamGateError as err:
            await lane.fault("turnstile", err)
            passed = False
        if passed:
            await lane.emit(
                GatePassageConfirmed(**lane.stamp().fields(), attempt_id=a.attempt_id, after_ms=ms_since(t))
            )
            return m.PassageConfirmed()
        await lane.emit(GatePassageTimeout(**lane.stamp().fields(), attempt_id=a.attempt_id, timeout_s=timeout_s))
        return m.PassageTimedOut()
