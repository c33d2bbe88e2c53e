"""Read-only queries of the province dashboard (PostgreSQL). One function per panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

_DECISIONS = ("candidate.admitted", "candidate.rejected", "candidate.review_requested")


@dataclass(frozen=True)
class Overview:
    gates: list[dict[str, Any]]
    counts: dict[str, int]
    sessions: list[dict[str, Any]]
    per_gate: list[dict[str, Any]]
    per_proctor: list[dict[str, Any]]
    faults: list[dict[str, Any]]
    rejected: int


def _dicts(cur: psycopg.Cursor[Any]) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def overview(dsn: str, offline_after_s: float = 120.0) -> Overview:
    with psycopg.connect(dsn, connect_timeout=5) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT site_id, gate_id, CASE WHEN state = 'online' AND last_seen < now() - make_interval(secs => %s) "
            "THEN 'offline' ELSE state END AS state, health, last_seen, backlog, faults, last_fault, "
            "versions->>'examgate' AS software, versions->>'model' AS model FROM gates ORDER BY site_id, gate_id",
            (offline_after_s,),
        )
        gates = _dicts(cur)
        counts = {"online": 0, "offline": 0, "degraded": 0, "unknown": 0, "stopped": 0}
        for g in gates:
            key = "degraded" if g["state"] == "online" and g["health"] in ("degraded", "locked") else g["state"]
            counts[key] = counts.get(key, 0) + 1
        cur.execute(
            """SELECT session_id,
                 count(*) FILTER (WHERE event_type = 'candidate.admitted') AS admitted,
                 count(*) FILTER (WHERE event_type = 'candidate.review_requested') AS reviewed,
                 count(*) FILTER (WHERE event_type = 'candidate.rejected') AS rejected,
                 count(*) FILTER (WHERE event_type = 'gate.opened' AND payload->>'cause' = 'officer_assisted')
                   AS assisted,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY (payload->'timings_ms'->>'total_ms')::float8)
                   FILTER (WHERE event_type = ANY(%s)) AS p50_ms,
                 percentile_cont(0.95) WITHIN GROUP (ORDER BY (payload->'timings_ms'->>'total_ms')::float8)
                   FILTER (WHERE event_type = ANY(%s)) AS p95_ms,
                 max(occurred_at) AS last_event
               FROM events WHERE session_id IS NOT NULL GROUP BY session_id ORDER BY max(occurred_at) DESC LIMIT 50""",
            (list(_DECISIONS), list(_DECISIONS)),
        )
        sessions = _dicts(cur)
        cur.execute(
            """SELECT site_id, gate_id, count(*) FILTER (WHERE event_type = ANY(%s)) AS decisions,
                 count(*) FILTER (WHERE event_type = 'candidate.review_requested') AS reviews,
                 count(*) FILTER (WHERE event_type = 'review.resolved' OR
                   (event_type = 'candidate.admitted' AND payload->>'approved_by' IS NOT NULL)) AS overrides
               FROM events GROUP BY site_id, gate_id ORDER BY site_id, gate_id""",
            (list(_DECISIONS),),
        )
        per_gate = _dicts(cur)
        cur.execute(
            """SELECT payload->>'operator' AS proctor, count(*) AS resolved,
                 count(*) FILTER (WHERE (payload->>'approved')::boolean) AS approved
               FROM events WHERE event_type = 'review.resolved' GROUP BY 1 ORDER BY 2 DESC LIMIT 50"""
        )
        per_proctor = _dicts(cur)
        cur.execute(
            "SELECT occurred_at, gate_id, payload->>'device' AS device, payload->>'code' AS code FROM events "
            "WHERE event_type = 'device.fault' ORDER BY occurred_at DESC LIMIT 20"
        )
        faults = _dicts(cur)
        cur.execute("SELECT count(*) FROM rejected")
        row = cur.fetchone()
        rejected = int(row[0]) if row else 0
    return Overview(gates, counts, sessions, per_gate, per_proctor, faults, rejected)
