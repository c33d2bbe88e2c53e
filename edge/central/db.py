"""PostgreSQL schema of the centre, managed by the ingest itself: ordered migrations recorded in ``schema_version``.

``events`` is partitioned by month on ``occurred_at``. PostgreSQL requires the partition key in every unique
constraint of a partitioned table, so the primary key is ``(event_id, occurred_at)``: ``occurred_at`` is part of the
immutable event, so a redelivery (same bytes) still conflicts and adds no row. Partitions are created on demand for
the months a batch needs (``ensure_partitions``) under an advisory lock, so concurrent workers do not race.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import psycopg

from edge.central.errors import CentralDbError, CentralSchemaError

_LOCK_MIGRATE = 0x45474D31  # advisory lock ids ("EGM1", "EGP1")
_LOCK_PARTITION = 0x45475031

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "events (partitioned by month), rejected, gates",
        """
        CREATE TABLE events (
            event_id uuid NOT NULL,
            event_type text NOT NULL,
            site_id text NOT NULL,
            gate_id text NOT NULL,
            session_id text,
            occurred_at timestamptz NOT NULL,
            payload jsonb NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (event_id, occurred_at)
        ) PARTITION BY RANGE (occurred_at);
        CREATE TABLE events_default PARTITION OF events DEFAULT;
        CREATE INDEX events_site_time ON events (site_id, occurred_at);
        CREATE INDEX events_session ON events (session_id, event_type) WHERE session_id IS NOT NULL;
        CREATE INDEX events_gate_time ON events (site_id, gate_id, occurred_at);
        CREATE TABLE rejected (
            id bigserial PRIMARY KEY,
            topic text NOT NULL,
            reason text NOT NULL,
            payload_bytes integer NOT NULL,
            payload_excerpt bytea,
            received_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE gates (
            site_id text NOT NULL,
            gate_id text NOT NULL,
            state text NOT NULL,
            health text,
            status_at timestamptz,
            last_seen timestamptz NOT NULL,
            first_seen timestamptz NOT NULL DEFAULT now(),
            versions jsonb NOT NULL DEFAULT '{}'::jsonb,
            config_hash text,
            backlog integer,
            faults integer NOT NULL DEFAULT 0,
            last_fault text,
            silent boolean NOT NULL DEFAULT false,
            PRIMARY KEY (site_id, gate_id)
        );
        """,
    ),
    (
        2,
        "rejected: one row per distinct message (whole-payload SHA-256), with deliveries and last_received_at",
        """
        ALTER TABLE rejected ADD COLUMN payload_sha256 bytea;
        ALTER TABLE rejected ADD COLUMN deliveries integer NOT NULL DEFAULT 1;
        ALTER TABLE rejected ADD COLUMN last_received_at timestamptz;
        -- rows of version 1 kept only the first 4 KiB: their hash is the excerpt's (close enough to merge repeats)
        UPDATE rejected SET payload_sha256 = sha256(coalesce(payload_excerpt, ''::bytea));
        UPDATE rejected r SET deliveries = d.n, last_received_at = d.last FROM (
            SELECT min(id) AS keep, count(*) AS n, max(received_at) AS last FROM rejected
            GROUP BY topic, payload_sha256) d WHERE r.id = d.keep;
        DELETE FROM rejected a USING rejected b
            WHERE a.id > b.id AND a.topic = b.topic AND a.payload_sha256 = b.payload_sha256;
        ALTER TABLE rejected ALTER COLUMN payload_sha256 SET NOT NULL;
        CREATE UNIQUE INDEX rejected_once ON rejected (topic, payload_sha256);
        """,
    ),
)
LATEST = MIGRATIONS[-1][0]


Conn = psycopg.Connection[tuple[object, ...]]


def connect(dsn: str, *, autocommit: bool = False, connect_timeout_s: int = 5) -> Conn:
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=connect_timeout_s)
    except psycopg.Error as exc:
        raise CentralDbError(f"cannot connect to PostgreSQL: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def current_version(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(got[0]) if got else 0  # type: ignore[call-overload]


def migrate(dsn: str) -> tuple[int, int]:
    """Bring the schema to ``LATEST``; returns (version before, version after). Safe to run from many workers."""
    try:
        with connect(dsn) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_MIGRATE,))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "
                "description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            before = current_version(conn)
            if before > LATEST:
                raise CentralSchemaError(f"database schema version {before} is newer than this software's {LATEST}")
            for version, description, sql in MIGRATIONS:
                if version > before:
                    conn.execute(sql)
                    conn.execute(
                        "INSERT INTO schema_version (version, description) VALUES (%s, %s)", (version, description)
                    )
            conn.commit()
            return before, LATEST
    except psycopg.Error as exc:
        raise CentralDbError(f"migration failed: {_first_line(exc)}") from None


def month_start(when: dt.datetime) -> dt.date:
    return dt.date(when.year, when.month, 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def partition_name(month: dt.date) -> str:
    return f"events_{month.year:04d}_{month.month:02d}"


def ensure_partitions(conn: psycopg.Connection[tuple[object, ...]], months: Iterable[dt.date]) -> list[str]:
    """Create the monthly partitions that do not exist yet (inside the caller's transaction); returns the new names.

    ``events_default`` is only a safety net: every batch creates its months' partitions before inserting.
    """
    made: list[str] = []
    wanted = sorted(set(months))
    if not wanted:
        return made
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_PARTITION,))
    for month in wanted:
        name = partition_name(month)
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()
        if exists and exists[0]:
            continue
        lo, hi = month.isoformat(), _next_month(month).isoformat()
        conn.execute(f"CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ('{lo}') TO ('{hi}')")
        made.append(name)
    return made
