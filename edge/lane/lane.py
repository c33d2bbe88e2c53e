"""The gate lane: waits for a card, runs the admission state machine, and performs its actions on the devices.

asyncio at the top; every blocking device call runs in a worker thread so the loop stays responsive.
The lane does I/O only; every decision comes from ``edge.policy.step``. What happens is told to the listeners as
typed notices (``edge.lane.notices``).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterable

from edge.devices import Camera, CardReader, CardTap, FaceVerifier, Frame, Turnstile
from edge.errors import ExamGateError, PolicyError
from edge.events.models import DeviceFault, DeviceStatus, Event, Stamp, StampFields
from edge.keys import AccessKeySource, TapQrKeySource
from edge.lane.attempt import Attempt
from edge.lane.handlers import CandidateRun
from edge.lane.notices import LaneListener, Notice, TapSeen, tell
from edge.lane.records import AssistedRequest, CandidateReport, EvidenceSink, LanePad, LaneSettings
from edge.policy import machine as m
from edge.reviews import ReviewBroker
from edge.store import Store

log = logging.getLogger("examgate.lane")


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
        listeners: Iterable[LaneListener] = (),
        evidence: EvidenceSink | None = None,
        keys: AccessKeySource | None = None,
        pad: LanePad | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.params = params
        self.reader = reader
        self.camera = camera
        self.turnstile = turnstile
        self.verifier = verifier
        self.store = store
        self.reviews = reviews or ReviewBroker()
        self.listeners: list[LaneListener] = list(listeners)
        self.evidence = evidence
        self.keys = keys or TapQrKeySource()
        self.pad = pad  # presentation-attack detection (issue 12); None: [pad] mode off
        self.rng = rng or random.SystemRandom()  # the challenge action must not be predictable
        self.centre_lock: str | None = None  # set by the centre's gate.lock command
        self.fire_release_active = False  # set from the turnstile's fire loop; independent of the centre's lock
        self.stop_event: asyncio.Event | None = None
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
    def listen(self, listener: LaneListener) -> None:
        """Add a listener; it hears every notice from now on, after the ones registered before it."""
        self.listeners.append(listener)

    def tell(self, notice: Notice) -> None:
        tell(self.listeners, notice)

    def stamp(self) -> Stamp:
        return Stamp(self.settings.site_id, self.settings.gate_id, self.settings.session_id)

    def _event_base(self) -> StampFields:
        return self.stamp().fields()

    async def emit(self, event: Event) -> None:
        await asyncio.to_thread(self.store.append_event, event)

    async def fault(self, device: str, err: ExamGateError) -> None:
        event = DeviceFault(**self._event_base(), device=device, code=err.code, message=err.message, remedy=err.remedy)
        log.warning("device fault device=%s code=%s", device, err.code)
        await self.emit(event)

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
        self.stop_event = stop
        for device, err in self.startup_faults:
            await self.fault(device, err)
        state = "degraded" if self.startup_faults else "ready"
        details = {device: err.code for device, err in self.startup_faults}
        await self.emit(DeviceStatus(**self._event_base(), state=state, details=details))
        while not stop.is_set():
            await self.check_clock()
            await self._follow_fire_release()
            tap = await self._poll()
            if tap is None:
                continue
            if self.locked_reason is not None:
                log.info("tap ignored: lane locked (%s)", self.locked_reason)
                continue
            self.tell(TapSeen())
            try:
                await self.process(tap)
            except Exception as exc:  # noqa: BLE001 - one candidate's failure must never stop the lane
                await self._lane_fault(exc)
        await self.emit(DeviceStatus(**self._event_base(), state="stopping"))

    async def _follow_fire_release(self) -> None:
        status = await asyncio.to_thread(self.turnstile.status)
        if status.fire_release and not self.fire_release_active:
            self.fire_release_active = True
            await self.emit(DeviceStatus(**self._event_base(), state="locked", details={"cause": "fire"}))
        elif not status.fire_release and self.fire_release_active:
            self.fire_release_active = False
            state = "locked" if self.centre_lock else "ready"
            await self.emit(DeviceStatus(**self._event_base(), state=state))

    async def _poll(self) -> CardTap | None:
        """The next card, or None (no card, or the reader failed: reported once per fault code, then retried)."""
        try:
            tap = await asyncio.to_thread(self.reader.poll, self.settings.poll_timeout_s)
        except ExamGateError as err:
            if err.code != self._reader_fault:  # report a fault once, not at every poll
                self._reader_fault = err.code
                await self.fault("reader", err)
            await asyncio.sleep(1.0)
            return None
        if self._reader_fault is not None:
            self._reader_fault = None
            await self.emit(DeviceStatus(**self._event_base(), state="ready", details={"reader": "ok"}))
        return tap

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
            attempt = Attempt.start(tap, assisted, self.params)
            first: m.Input
            if assisted is not None:
                first = m.AssistedStart(attempt.attempt_id, assisted.credential)
            elif tap is not None:
                first = m.CardPresented(attempt.attempt_id)
            else:
                raise PolicyError("process() needs a card tap or an officer request")
            return await CandidateRun(self, attempt).run(first)

    @property
    def busy(self) -> bool:
        return self._one_at_a_time.locked()

    def capture_window(self) -> list[Frame]:
        """Frames spread over the capture window; the verifier picks the best of them."""
        count = self.settings.frames_per_attempt
        interval_s = self.settings.capture_window_s / max(1, count)
        frames: list[Frame] = []
        for index in range(count):
            frames.append(self.camera.capture())
            if index + 1 < count:
                time.sleep(interval_s)
        return frames
