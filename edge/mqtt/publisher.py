"""Durable outbox publisher: SQLite outbox → MQTT 5 QoS 1, in order, marked sent only on a successful PUBACK.

At least once, end to end: a row leaves the outbox only when the broker acknowledged it with a success reason code.
Whatever is unmarked when the process dies is sent again on restart (receivers deduplicate by ``event_id``).
In-flight is bounded by ``max_inflight``; the backlog stays in SQLite, never in paho's memory. A backlog above
``backlog_alarm_events`` (or a database above ``disk_budget_mb``) appends one ``device.fault`` event per crossing.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from paho.mqtt.properties import Properties

from edge.events.models import DeviceFault, Event
from edge.mqtt.connection import SUCCESS_LIMIT, publish_properties
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import event_topic

log = logging.getLogger(__name__)


class OutboxRowLike(Protocol):
    @property
    def seq(self) -> int: ...
    @property
    def event_id(self) -> str: ...
    @property
    def event_type(self) -> str: ...
    @property
    def payload(self) -> str: ...


class Outbox(Protocol):
    """The part of ``edge.store.Store`` the publisher uses."""

    def outbox_pending(self, limit: int) -> Sequence[OutboxRowLike]: ...
    def outbox_mark_sent(self, seqs: Sequence[int]) -> None: ...
    def outbox_backlog(self) -> int: ...
    def outbox_oldest_pending_age_s(self) -> float | None: ...
    def outbox_record_failure(self, seq: int, error: str) -> None: ...
    def append_event(self, event: Event, actor: str = ...) -> None: ...


class Transport(Protocol):
    """What the publisher needs from the MQTT connection (``MqttConnection`` satisfies it)."""

    connected: threading.Event

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
        on_ack: Callable[[int], None] | None = None,
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class PublisherMetrics:
    connected: bool
    backlog: int
    oldest_pending_age_s: float | None
    in_flight: int
    waiting_retry: int
    published: int
    acked: int
    failed: int
    alarms_raised: int
    backlog_alarm: bool
    disk_alarm: bool


@dataclass
class _Retry:
    due: float
    attempts: int
    row: OutboxRowLike


@dataclass
class _State:
    in_flight: dict[int, OutboxRowLike] = field(default_factory=dict)
    acked: list[int] = field(default_factory=list)
    failed: list[tuple[int, int]] = field(default_factory=list)
    retry: dict[int, _Retry] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)


@dataclass
class _Alarm:
    """A level alarm with hysteresis: it goes off when a value reaches its limit and clears below 80 % of it."""

    active: bool = False

    def crossed(self, value: float, limit: float) -> bool | None:
        """True when the alarm goes off now, False when it clears now, None when nothing changed."""
        if value >= limit and not self.active:
            self.active = True
            return True
        if value < limit * 0.8 and self.active:
            self.active = False
            return False
        return None


class OutboxPublisher:
    """A thread draining the outbox. ``start()``/``stop()``; ``metrics()`` is safe from any thread."""

    def __init__(
        self,
        outbox: Outbox,
        transport: Transport,
        settings: MqttSettings,
        *,
        site_id: str,
        gate_id: str,
        store_path: Path | None = None,
        poll_s: float = 0.2,
        check_every_s: float = 2.0,
    ) -> None:
        self._outbox = outbox
        self._transport = transport
        self._settings = settings
        self._site_id = site_id
        self._gate_id = gate_id
        self._store_path = store_path
        self._poll_s = poll_s
        self._check_every_s = check_every_s
        self._cond = threading.Condition()
        self._state = _State()
        self._last_fetched = 0  # highest outbox seq taken into the buffer in this process
        self._buffer: deque[OutboxRowLike] = deque()
        self._ticks = 0  # bumped on every ack and wake-up
        self._flush_every = max(1, settings.max_inflight // 2)
        self._flush_interval_s = 0.05
        self._last_flush = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._published = 0
        self._acked = 0
        self._failed = 0
        self._alarms = 0
        self._backlog_alarm = _Alarm()
        self._disk_alarm = _Alarm()
        self._backlog = 0
        self._oldest_age_s: float | None = None
        self._next_check = 0.0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="mqtt-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._flush_acks()

    def wake(self) -> None:
        """Tell the publisher a new event was appended (optional; it also polls every ``poll_s``)."""
        with self._cond:
            self._ticks += 1
            self._cond.notify_all()

    def drained(self) -> bool:
        with self._cond:
            busy = bool(self._state.in_flight or self._state.acked or self._state.retry)
        return not busy and self._outbox.outbox_backlog() == 0

    def metrics(self) -> PublisherMetrics:
        with self._cond:
            return PublisherMetrics(
                connected=self._transport.connected.is_set(),
                backlog=self._backlog,
                oldest_pending_age_s=self._oldest_age_s,
                in_flight=len(self._state.in_flight),
                waiting_retry=len(self._state.retry),
                published=self._published,
                acked=self._acked,
                failed=self._failed,
                alarms_raised=self._alarms,
                backlog_alarm=self._backlog_alarm.active,
                disk_alarm=self._disk_alarm.active,
            )

    # ------------------------------------------------------------------ ack path (network thread)
    def _on_ack(self, seq: int, reason: int) -> None:
        with self._cond:
            row = self._state.in_flight.pop(seq, None)
            if row is None:
                return
            if reason < SUCCESS_LIMIT:
                self._state.acked.append(seq)
            else:
                self._state.failed.append((seq, reason))
                attempts = self._state.attempts.get(seq, 0) + 1
                self._state.attempts[seq] = attempts
                delay = min(self._settings.backoff_max_s, self._settings.backoff_min_s * 2 ** (attempts - 1))
                self._state.retry[seq] = _Retry(due=time.monotonic() + delay, attempts=attempts, row=row)
            self._ticks += 1
            self._cond.notify_all()

    # ------------------------------------------------------------------ publisher thread
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # the store or paho failed: log, back off, keep going
                log.exception("outbox publisher step failed")
                self._stop.wait(self._settings.backoff_min_s)

    def _step(self) -> None:
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._check_every_s
            self._check_alarms()
        if not self._transport.connected.is_set():
            self._flush_acks()
            self._stop.wait(self._poll_s)
            return
        with self._cond:
            ticks = self._ticks
            flush = (
                len(self._state.acked) >= self._flush_every
                or bool(self._state.failed)
                or not self._state.in_flight
                or now - self._last_flush >= self._flush_interval_s
            )
        if flush:
            # one transaction marks a batch of acks; the window is refilled on every ack regardless, which keeps
            # both directions of the TCP stream busy (no Nagle/delayed-ACK stalls on the broker's PUBACKs)
            self._flush_acks()
            self._last_flush = now
        with self._cond:
            outstanding = len(self._state.in_flight) + len(self._state.retry)
            free = self._settings.max_inflight - outstanding
            due = sorted((r for r in self._state.retry.values() if r.due <= now), key=lambda r: r.row.seq)
            unflushed = len(self._state.acked)
        sent = 0
        for retry in due[: max(free, 0)]:
            with self._cond:
                self._state.retry.pop(retry.row.seq, None)
            if self._submit(retry.row):
                sent += 1
                free -= 1
        if free > 0 and not self._buffer:
            rows = self._outbox.outbox_pending(outstanding + unflushed + self._settings.fetch_batch)
            self._buffer.extend(r for r in rows if r.seq > self._last_fetched)
            if self._buffer:
                self._last_fetched = self._buffer[-1].seq
        while free > 0 and self._buffer:
            if not self._submit(self._buffer[0]):
                break
            self._buffer.popleft()
            free -= 1
            sent += 1
        if sent == 0:
            with self._cond:
                self._cond.wait_for(lambda: self._ticks != ticks, timeout=min(self._poll_s, self._flush_interval_s))

    def _submit(self, row: OutboxRowLike) -> bool:
        props = publish_properties(expiry_s=self._settings.message_expiry_s, user={"event_id": row.event_id})
        topic = event_topic(self._site_id, self._gate_id, row.event_type)
        with self._cond:
            self._state.in_flight[row.seq] = row
        ok = self._transport.publish(
            topic,
            row.payload.encode("utf-8"),
            qos=1,
            properties=props,
            on_ack=functools.partial(self._on_ack, row.seq),
        )
        with self._cond:
            if ok:
                self._published += 1
            else:
                self._state.in_flight.pop(row.seq, None)
                self._state.retry[row.seq] = _Retry(
                    due=time.monotonic() + self._settings.backoff_min_s, attempts=0, row=row
                )
        return ok

    def _flush_acks(self) -> None:
        with self._cond:
            acked, self._state.acked = self._state.acked, []
            failed, self._state.failed = self._state.failed, []
            for seq in acked:
                self._state.attempts.pop(seq, None)
        if acked:
            self._outbox.outbox_mark_sent(acked)
            with self._cond:
                self._acked += len(acked)
        for seq, reason in failed:
            log.warning("broker refused outbox row %d (reason 0x%02x); will retry", seq, reason)
            self._outbox.outbox_record_failure(seq, f"PUBACK reason 0x{reason:02x}")
            with self._cond:
                self._failed += 1

    # ------------------------------------------------------------------ alarms
    def _db_bytes(self) -> int:
        if self._store_path is None:
            return 0
        total = 0
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(self._store_path) + suffix)
            try:
                total += path.stat().st_size
            except OSError:
                continue
        return total

    def _check_alarms(self) -> None:
        backlog = self._outbox.outbox_backlog()
        age = self._outbox.outbox_oldest_pending_age_s()
        with self._cond:
            self._backlog = backlog
            self._oldest_age_s = age
        threshold = self._settings.backlog_alarm_events
        crossed = self._backlog_alarm.crossed(backlog, threshold)
        if crossed:
            self._raise_fault(
                "E_OUTBOX_BACKLOG",
                f"{backlog} events waiting for the broker (alarm at {threshold}); oldest {age or 0:.0f} s",
                "check the uplink and the broker; events are kept on disk and sent when it is back",
            )
        elif crossed is False:
            log.info("outbox backlog back to %d events", backlog)
        used = self._db_bytes()
        if self._disk_alarm.crossed(used, self._settings.disk_budget_mb * 1024 * 1024):
            self._raise_fault(
                "E_OUTBOX_DISK",
                f"the store uses {used // (1024 * 1024)} MB (budget {self._settings.disk_budget_mb} MB)",
                "restore the uplink so the outbox drains, or free disk; nothing is dropped",
            )

    def _raise_fault(self, code: str, message: str, remedy: str) -> None:
        log.warning("%s: %s", code, message)
        event = DeviceFault(
            site_id=self._site_id, gate_id=self._gate_id, device="outbox", code=code, message=message, remedy=remedy
        )
        self._outbox.append_event(event)
        with self._cond:
            self._alarms += 1
