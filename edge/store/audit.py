"""The hash-chained audit log: each row holds SHA-256(previous row's hash + its own content).

Editing a row breaks its hash; deleting a row breaks the next row's link; deleting rows at the tail is caught by the
``audit_head`` row written in the same transaction; wiping the log and its head (or rolling both back) is caught by
the decisions, each written with its audit row in one transaction. An attacker who can rewrite the whole file can
recompute the chain: the head hash is therefore also published in the gate's status so the centre holds an anchor.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time

from edge.store.models import AuditReport

GENESIS = "0" * 64


def canonical(seq: int, occurred_at: str, actor: str, action: str, details: str) -> bytes:
    return json.dumps([seq, occurred_at, actor, action, details], ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(prev_hash: str, seq: int, occurred_at: str, actor: str, action: str, details: str) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode())
    digest.update(canonical(seq, occurred_at, actor, action, details))
    return digest.hexdigest()


def append(conn: sqlite3.Connection, occurred_at: str, actor: str, action: str, details: dict[str, object]) -> str:
    """Append one row inside the caller's transaction; return its hash."""
    head = conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    last_seq, prev = (int(head[0]), str(head[1])) if head else (0, GENESIS)
    seq = last_seq + 1
    text = json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)
    digest = row_hash(prev, seq, occurred_at, actor, action, text)
    conn.execute(
        "INSERT INTO audit_log (seq, occurred_at, actor, action, details, prev_hash, row_hash) VALUES (?,?,?,?,?,?,?)",
        (seq, occurred_at, actor, action, text, prev, digest),
    )
    conn.execute(
        "INSERT INTO audit_head (id, last_seq, last_hash) VALUES (1, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash",
        (seq, digest),
    )
    return digest


def _unanchored_decisions(conn: sqlite3.Connection, audited: set[str]) -> list[str]:
    """The decisions table anchors the chain: every decision was written with its audit row in one transaction, so a
    decision whose attempt has no ``decision.*`` audit row means the log was truncated (even to zero) or rolled back
    to an earlier head.
    """
    rows = conn.execute("SELECT attempt_id FROM decisions ORDER BY decided_at")
    missing = [str(e) for (e,) in rows if e not in audited]
    if not missing:
        return []
    return [
        f"{len(missing)} decision(s) have no audit row (the log was wiped, truncated or rolled back); "
        f"first: attempt {missing[0]}"
    ]


def _unanchored_events(conn: sqlite3.Connection, audited_events: set[str]) -> list[str]:
    """The outbox anchors the chain too: every queued event was written with an audit row naming its ``event_id`` in
    the same transaction, so an outbox event the log does not name means the log was wiped or rolled back, even when
    the database holds no decision yet (device status, commands).
    """
    missing = [str(e) for (e,) in conn.execute("SELECT event_id FROM outbox ORDER BY seq") if e not in audited_events]
    if not missing:
        return []
    return [
        f"{len(missing)} event(s) in the outbox have no audit row (the log was wiped, truncated or rolled back); "
        f"first: event {missing[0]}"
    ]


def verify(conn: sqlite3.Connection, max_problems: int = 20) -> AuditReport:
    started = time.perf_counter()
    problems: list[str] = []
    prev = GENESIS
    expected_seq = 1
    count = 0
    audited: set[str] = set()
    audited_events: set[str] = set()
    cursor = conn.execute(
        "SELECT seq, occurred_at, actor, action, details, prev_hash, row_hash, "
        "CASE WHEN action LIKE 'decision.%' AND json_valid(details) THEN json_extract(details, '$.attempt_id') END, "
        "CASE WHEN json_valid(details) THEN json_extract(details, '$.event_id') END "
        "FROM audit_log ORDER BY seq"
    )
    for seq, occurred_at, actor, action, details, prev_hash, stored, decided, event_id in cursor:
        count += 1
        if decided is not None:
            audited.add(str(decided))
        if event_id is not None:
            audited_events.add(str(event_id))
        if seq != expected_seq:
            problems.append(f"rows {expected_seq}..{seq - 1} are missing (deleted)")
        if prev_hash != prev:
            problems.append(f"row {seq}: link to the previous row is broken (a row before it was edited or deleted)")
        if row_hash(prev_hash, seq, occurred_at, actor, action, details) != stored:
            problems.append(f"row {seq}: content does not match its hash (edited)")
        prev = stored
        expected_seq = seq + 1
        if len(problems) >= max_problems:
            break
    head = conn.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1").fetchone()
    if len(problems) < max_problems:
        if head is None and count:
            problems.append("audit head is missing")
        elif head is not None and (int(head[0]) != expected_seq - 1 or head[1] != prev):
            problems.append(f"audit head says {head[0]} rows but the log ends at {expected_seq - 1} (tail deleted)")
    if len(problems) < max_problems:
        problems.extend(_unanchored_decisions(conn, audited))
    if len(problems) < max_problems and count == 0:
        # Only on an empty log: databases written before every queued event named its event_id in the audit row
        # (hand-migrated ones) still verify; a wiped log is caught either way.
        problems.extend(_unanchored_events(conn, audited_events))
    return AuditReport(rows=count, ok=not problems, problems=problems, elapsed_s=time.perf_counter() - started)
