"""PostgreSQL ingest worker: MQTT 5 shared subscription → batched ``INSERT … ON CONFLICT DO NOTHING``, ack on commit.

paho's network thread only queues messages (manual acks). One writer thread takes up to ``batch`` messages (or what
arrived within ``linger_s``), validates them (``rows.classify``), stages the good ones with ``COPY`` into a temporary
table, inserts them with one ``INSERT … SELECT … ON CONFLICT (event_id, occurred_at) DO NOTHING``, writes the bad ones
to ``rejected``, updates ``gates``, commits, and only then sends the PUBACKs. A killed worker therefore leaves its
messages unacknowledged in its persistent session; the broker delivers them again and the key makes them no-ops.

PostgreSQL down: the batch is kept and retried (backoff up to 5 s) on a new connection; nothing is acknowledged
meanwhile. MQTT reconnect: acks are only sent for messages of the current connection (older message ids are void;
the broker redelivers those messages).

Safety net (``safety_net=True``, ``examgate ingest --safety-net``): one extra worker with a plain, non-shared
persistent subscription to every gate's events. mosquitto 2.0 restores such a subscription after a restart (it does
not restore shared ones), so during the window before the share group subscribes again the broker still has a
subscriber, queues the events for it and tells the gates 0x00 instead of 0x10 "no matching subscribers". The safety
net stores each event and rejection the same way (the keys make the second copy a no-op) and leaves statuses to the
share group.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.reasoncodes import ReasonCode

from edge.central import db, presence
from edge.central.errors import CentralDbError
from edge.central.rows import EventRow, Limits, Rejection, classify, rejection
from edge.mqtt.connection import build_client, connect_in_background
from edge.mqtt.settings import MqttSettings
from edge.mqtt.topics import PREFIX, events_filter, shared_events_filter

log = logging.getLogger(__name__)

STATUS_FILTER = f"{PREFIX}/+/+/status"
_STAGE = """CREATE TEMP TABLE IF NOT EXISTS ingest_stage (
    event_id uuid, event_type text, site_id text, gate_id text, session_id text, occurred_at timestamptz,
    payload jsonb) ON COMMIT DELETE ROWS"""
_COPY = "COPY ingest_stage (event_id, event_type, site_id, gate_id, session_id, occurred_at, payload) FROM STDIN"
_COLUMNS = "event_id, event_type, site_id, gate_id, session_id, occurred_at, payload, received_at"
_INSERT = (
    f"INSERT INTO events ({_COLUMNS}) "  # noqa: S608 - constant column list
    "SELECT event_id, event_type, site_id, gate_id, session_id, occurred_at, payload, %s FROM ingest_stage "
    "ON CONFLICT (event_id, occurred_at) DO NOTHING RETURNING event_id"
)
_INSERT_ONE = (
    f"INSERT INTO events ({_COLUMNS}) "  # noqa: S608 - constant column list
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (event_id, occurred_at) DO NOTHING"
)
_REJECT = (  # one row per distinct message (migration 2); a repeat, redelivery or the safety net's copy counts
    "INSERT INTO rejected (topic, reason, payload_bytes, payload_excerpt, payload_sha256, received_at) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (topic, payload_sha256) DO UPDATE SET "
    "deliveries = rejected.deliveries + 1, last_received_at = excluded.received_at"
)


@dataclass(frozen=True, slots=True)
class Inbound:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int
    received_mono: float


@dataclass
class Counters:
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    statuses: int = 0
    acked: int = 0
    db_retries: int = 0
    batches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {
                "stored": self.stored,
                "duplicates": self.duplicates,
                "rejected": self.rejected,
                "statuses": self.statuses,
                "acked": self.acked,
                "db_retries": self.db_retries,
                "batches": self.batches,
            }


class PgIngest:
    """One worker of a share group. ``start()`` / ``stop()``; ``counters`` and ``processed`` for callers and tests."""

    def __init__(
        self,
        settings: MqttSettings,
        dsn: str,
        group: str,
        *,
        client_id: str | None = None,
        batch: int = 500,
        linger_s: float = 0.05,
        limits: Limits | None = None,
        offline_after_s: float = 120.0,
        safety_net: bool = False,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.dsn = dsn
        self.batch = batch
        self.linger_s = linger_s
        self.limits = limits or Limits()
        self.offline_after_s = offline_after_s
        self.settings = settings
        self.safety_net = safety_net
        self.topic_filter = events_filter() if safety_net else shared_events_filter(group)
        role = "safety-net" if safety_net else group
        cid = client_id or settings.client_id or f"examgate-ingest-{role}-{socket.gethostname()}"
        self.client = build_client(settings, cid)
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.subscribed = threading.Event()
        self.counters = Counters()
        self.processed = threading.Condition()
        self._inbox: queue.Queue[Inbound] = queue.Queue()
        self._generation = 0
        self._stop = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self._months: set[dt.date] = set()
        self._thread = threading.Thread(target=self._run, name="central-ingest", daemon=True)

    # --- MQTT side (paho's thread) ---------------------------------------------------------------------------
    def start(self) -> None:
        self._conn = db.connect(self.dsn)  # fail fast on a bad DSN (typed E_CENTRAL_DB)
        self._thread.start()
        connect_in_background(self.client, self.settings, clean_start=False)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.client.disconnect()
        self.client.loop_stop()
        if self._conn is not None:
            self._conn.close()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        if reason.is_failure:
            log.warning("central ingest: connect refused: %s", reason)
            return
        self._generation += 1
        filters = [(self.topic_filter, 1)] if self.safety_net else [(self.topic_filter, 1), (STATUS_FILTER, 1)]
        client.subscribe(filters)

    def _on_subscribe(self, *_a: Any) -> None:
        self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.put(
            Inbound(message.topic, bytes(message.payload), message.mid, message.qos, self._generation, time.monotonic())
        )

    # --- writer thread ---------------------------------------------------------------------------------------
    def _take(self) -> list[Inbound]:
        try:
            first = self._inbox.get(timeout=0.2)
        except queue.Empty:
            return []
        items = [first]
        deadline = time.monotonic() + self.linger_s
        while len(items) < self.batch:
            remaining = deadline - time.monotonic()
            try:
                items.append(self._inbox.get(timeout=max(remaining, 0)) if remaining > 0 else self._inbox.get_nowait())
            except queue.Empty:
                break
        return items

    def _run(self) -> None:
        last_sweep = 0.0
        while not self._stop.is_set():
            items = self._take()
            if items:
                self._write_until_done(items)
            if time.monotonic() - last_sweep > min(self.offline_after_s / 4, 30.0):
                last_sweep = time.monotonic()
                self._sweep()

    def _write_until_done(self, items: list[Inbound]) -> None:
        backoff_s = 0.2
        while not self._stop.is_set():
            try:
                conn = self._connection()
                self._write(conn, items)
            except (psycopg.OperationalError, psycopg.InterfaceError, CentralDbError) as exc:
                log.warning("central ingest: PostgreSQL down (%s); batch kept, unacknowledged", type(exc).__name__)
                with self.counters.lock:
                    self.counters.db_retries += 1
                self._drop_connection()
                self._stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, 5.0)
                continue
            self._ack(items)
            return

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(self.dsn)
            self._months.clear()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None

    def _write(self, conn: psycopg.Connection[Any], items: list[Inbound]) -> None:
        now = dt.datetime.now(dt.UTC)
        rows: list[EventRow] = []
        rejections: list[Rejection] = []
        statuses = []
        for item in items:
            if item.topic.endswith("/status"):
                status = presence.parse_status(item.topic, item.payload)
                if status is not None:
                    statuses.append(status)
                continue
            outcome = classify(item.topic, item.payload, now, self.limits)
            (rows if isinstance(outcome, EventRow) else rejections).append(outcome)  # type: ignore[arg-type]
        try:
            stored = self._insert_batch(conn, rows, rejections, statuses, now)
        except (psycopg.DataError, psycopg.IntegrityError, psycopg.ProgrammingError) as exc:
            conn.rollback()
            log.warning("central ingest: batch refused (%s); retrying row by row", type(exc).__name__)
            stored = self._insert_rows(conn, rows, rejections, statuses, now)
        with self.counters.lock:
            self.counters.stored += stored
            self.counters.duplicates += len(rows) - stored
            self.counters.rejected += len(rejections)
            self.counters.statuses += len(statuses)
            self.counters.batches += 1
        for rej in rejections:
            log.warning("central ingest: rejected a message on %s: %s", rej.topic, rej.reason)

    def _prepare(self, conn: psycopg.Connection[Any], rows: list[EventRow]) -> None:
        months = {db.month_start(r.occurred_at) for r in rows} - self._months
        if months:
            db.ensure_partitions(conn, months)
            conn.commit()
            self._months |= months

    def _insert_batch(
        self,
        conn: psycopg.Connection[Any],
        rows: list[EventRow],
        rejections: list[Rejection],
        statuses: list[Any],
        now: dt.datetime,
    ) -> int:
        self._prepare(conn, rows)
        stored = 0
        with conn.transaction(), conn.cursor() as cur:
            if rows:
                cur.execute(_STAGE)
                with cur.copy(_COPY) as copy:
                    for r in rows:
                        copy.write_row(
                            (r.event_id, r.event_type, r.site_id, r.gate_id, r.session_id, r.occurred_at, r.payload)
                        )
                cur.execute(_INSERT, (now,))
                new_ids = {row[0] for row in cur.fetchall()}
                stored = len(new_ids)
                rows = [r for r in rows if r.event_id in new_ids]  # gates counts only new events, not redeliveries
            self._side_tables(cur, rows, rejections, statuses, now)
        return stored

    def _insert_rows(
        self,
        conn: psycopg.Connection[Any],
        rows: list[EventRow],
        rejections: list[Rejection],
        statuses: list[Any],
        now: dt.datetime,
    ) -> int:
        """Fallback when a batch is refused for its data: each row in a savepoint; a refused row is rejected."""
        self._prepare(conn, rows)
        stored = 0
        good: list[EventRow] = []  # newly stored
        refused: list[EventRow] = []
        with conn.transaction(), conn.cursor() as cur:
            for r in rows:
                try:
                    with conn.transaction():
                        values = (r.event_id, r.event_type, r.site_id, r.gate_id, r.session_id, r.occurred_at)
                        cur.execute(_INSERT_ONE, (*values, r.payload, now))
                        if cur.rowcount > 0:
                            stored += 1
                            good.append(r)
                except (psycopg.DataError, psycopg.IntegrityError) as exc:
                    raw = r.payload.encode()
                    topic = f"{PREFIX}/{r.site_id}/{r.gate_id}/events/{r.event_type}"
                    reason = f"E_EVENT_INVALID: PostgreSQL refused the row ({type(exc).__name__})"
                    rejections.append(rejection(topic, reason, raw))
                    refused.append(r)
            rows[:] = [r for r in rows if r not in refused]  # the caller counts duplicates as rows - stored
            self._side_tables(cur, good, rejections, statuses, now)
        return stored

    @staticmethod
    def _side_tables(
        cur: psycopg.Cursor[Any],
        rows: list[EventRow],
        rejections: list[Rejection],
        statuses: list[Any],
        now: dt.datetime,
    ) -> None:
        for rej in rejections:
            cur.execute(_REJECT, (rej.topic, rej.reason, rej.payload_bytes, rej.excerpt, rej.payload_sha256, now))
        presence.apply_gates(cur, statuses, rows, now)

    def _ack(self, items: list[Inbound]) -> None:
        current = self._generation
        acked = 0
        for item in items:
            if item.qos > 0 and item.generation == current:
                self.client.ack(item.mid, item.qos)
                acked += 1
        with self.counters.lock:
            self.counters.acked += acked
        with self.processed:
            self.processed.notify_all()

    def _sweep(self) -> None:
        try:
            presence.mark_silent(self._connection(), self.offline_after_s)
        except (psycopg.Error, CentralDbError):
            self._drop_connection()
