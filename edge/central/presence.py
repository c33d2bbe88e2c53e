"""The ``gates`` table: presence from the retained ``status`` (birth / Last Will / stopped) and from the events.

* ``status`` (retained) sets ``state`` online / offline / stopped, the versions and the config hash, in the order the
  broker delivers them (one topic per gate, so in publish order). Not by ``at``: a Last Will's ``at`` is when it was
  registered, before the birth it ends. A gate refreshes its ``online`` status every ``mqtt.status_interval_s``
  (60 s) with ``outbox_backlog``: a heartbeat that moves ``last_seen`` and fills ``backlog`` while the gate is idle.
* every stored event moves ``last_seen`` forward; ``device.status`` sets ``health`` (ready / degraded / locked …),
  ``device.fault`` counts faults; an optional ``details.outbox_backlog`` of ``device.status`` fills ``backlog``.
* an event from a gate that never sent a status creates its row with state ``unknown`` (the event itself is stored:
  exam data are never refused for that; the dashboard shows the gate as unregistered).
* ``mark_silent``: an ``online`` gate not seen for ``offline_after_s`` becomes ``offline`` with ``silent`` set (its
  Last Will may be lost when the broker itself restarts); its next event brings it back ``online``. A gate offline by
  its Last Will stays offline until its next birth status (late, queued events do not revive it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from pydantic import ValidationError

from edge.central.rows import EventRow
from edge.mqtt.status import GateStatus
from edge.mqtt.topics import parse_topic

log = logging.getLogger(__name__)

_STATUS_SQL = """
INSERT INTO gates (site_id, gate_id, state, status_at, last_seen, versions, config_hash, backlog)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (site_id, gate_id) DO UPDATE SET
    state = excluded.state, status_at = excluded.status_at, versions = excluded.versions,
    config_hash = excluded.config_hash, silent = false, last_seen = greatest(gates.last_seen, excluded.last_seen),
    backlog = coalesce(excluded.backlog, gates.backlog)
"""

_SEEN_SQL = """
INSERT INTO gates (site_id, gate_id, state, last_seen, health, backlog, faults, last_fault)
VALUES (%s, %s, 'unknown', %s, %s, %s, %s, %s)
ON CONFLICT (site_id, gate_id) DO UPDATE SET
    last_seen = greatest(gates.last_seen, excluded.last_seen),
    state = CASE WHEN gates.silent THEN 'online' ELSE gates.state END,
    silent = false,
    health = coalesce(excluded.health, gates.health),
    backlog = coalesce(excluded.backlog, gates.backlog),
    faults = gates.faults + excluded.faults,
    last_fault = coalesce(excluded.last_fault, gates.last_fault)
"""


def parse_status(topic: str, payload: bytes) -> GateStatus | None:
    """A status message whose topic matches its payload, or None (logged; an empty retained clear is ignored)."""
    parts = parse_topic(topic)
    if parts is None or parts.kind != "status" or not payload:
        return None
    try:
        status = GateStatus.model_validate_json(payload)
    except ValidationError:
        log.warning("central: invalid status payload on %s", topic[:200])
        return None
    if (status.site_id, status.gate_id) != (parts.site_id, parts.gate_id):
        log.warning("central: status on %s names another gate; ignored", topic[:200])
        return None
    return status


def _status_time(status: GateStatus, fallback: dt.datetime) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(status.at.replace("Z", "+00:00"))
    except ValueError:
        return fallback


def _status_params(st: GateStatus, now: dt.datetime) -> tuple[Any, ...]:
    at = _status_time(st, now)
    return (st.site_id, st.gate_id, st.state, at, now, json.dumps(st.versions), st.config_hash, st.outbox_backlog)


def apply_statuses(cur: psycopg.Cursor[Any], statuses: Sequence[GateStatus], now: dt.datetime) -> None:
    for st in statuses:
        cur.execute(_STATUS_SQL, _status_params(st, now))


def _seen_params(rows: Sequence[EventRow], now: dt.datetime) -> dict[tuple[str, str], tuple[Any, ...]]:
    """One upsert per gate of the batch (last_seen, health, faults, backlog)."""
    per_gate: dict[tuple[str, str], list[Any]] = {}
    for row in rows:
        key = (row.site_id, row.gate_id)
        entry = per_gate.setdefault(key, [None, None, 0, None])
        if row.event_type == "device.status":
            data = json.loads(row.payload)
            entry[0] = data.get("state")
            backlog = (data.get("details") or {}).get("outbox_backlog")
            if isinstance(backlog, str) and backlog.isdigit():
                entry[1] = int(backlog)
        elif row.event_type == "device.fault":
            data = json.loads(row.payload)
            entry[2] += 1
            entry[3] = f"{data.get('device')}: {data.get('code')}"
    return {
        (site_id, gate_id): (site_id, gate_id, now, health, backlog, faults, last_fault)
        for (site_id, gate_id), (health, backlog, faults, last_fault) in per_gate.items()
    }


def apply_gates(
    cur: psycopg.Cursor[Any], statuses: Sequence[GateStatus], rows: Sequence[EventRow], now: dt.datetime
) -> None:
    """Every ``gates`` upsert of one batch, gate by gate in (site_id, gate_id) order: the statuses of a gate in the
    order they arrived, then what its events say. Workers therefore lock gate rows in one global order and cannot
    deadlock each other (each worker receives every status; their batches cover the gates in different orders)."""
    statuses_of: dict[tuple[str, str], list[GateStatus]] = {}
    for st in statuses:
        statuses_of.setdefault((st.site_id, st.gate_id), []).append(st)
    seen = _seen_params(rows, now)
    with cur.connection.pipeline():  # one pipelined round trip for all the batch's gates
        for key in sorted(statuses_of.keys() | seen.keys()):
            apply_statuses(cur, statuses_of.get(key, ()), now)
            if key in seen:
                cur.execute(_SEEN_SQL, seen[key])


def mark_silent(conn: psycopg.Connection[Any], offline_after_s: float) -> int:
    """Mark gates silent for longer than ``offline_after_s`` offline; returns how many changed."""
    with conn.transaction():
        cur = conn.execute(
            "UPDATE gates SET state = 'offline', silent = true WHERE state = 'online' "
            "AND last_seen < now() - make_interval(secs => %s)",
            (offline_after_s,),
        )
        return cur.rowcount
