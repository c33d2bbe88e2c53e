"""Decisions committed per second (decision row + admission + audit row + outbox event in one transaction), with the
durability settings the gate uses, against a bare sqlite3 insert loop with the same settings, plus `audit verify` time.

Run: .venv/bin/python bench/store.py [--decisions 5000] [--audit-rows 100000] [--dir DIR]
Goals (issue #3): >= 2,000 decisions/s; audit verify <= 2 s per 100k rows.
What survives a power cut: with synchronous=FULL (default) every committed decision; with NORMAL (WAL) the database
stays consistent but the last transactions before the cut may be lost.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Literal

from edge.events.models import CandidateAdmitted, Subject
from edge.store import RosterRow, Store, audit


def bench_decisions(path: Path, n: int, synchronous: Literal["NORMAL", "FULL"]) -> float:
    store = Store.open(path, synchronous=synchronous)
    store.replace_roster("S", [RosterRow(f"C{i}", f"{i:012d}", "x") for i in range(n)])
    t0 = time.perf_counter()
    for i in range(n):
        attempt = f"a{i}"
        event = CandidateAdmitted(
            site_id="s",
            gate_id="g",
            session_id="S",
            attempt_id=attempt,
            subject=Subject(candidate_id=f"C{i}", id_masked="0000******00"),
            reason_codes=("FACE_MATCH",),
            face_score=0.9,
            thresholds_version="t",
            match_threshold=0.6,
            review_threshold=0.5,
            model_version="m",
        )
        store.record_decision(event)
    elapsed = time.perf_counter() - t0
    store.close()
    return n / elapsed


def bench_bare(path: Path, n: int, synchronous: str) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, payload TEXT)")
    payload = "x" * 600
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (id, payload) VALUES (?, ?)", (i, payload))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    conn.close()
    return n / elapsed


def bench_audit(path: Path, rows: int) -> tuple[float, int]:
    Store.open(path, synchronous="NORMAL").close()  # create the schema
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    for i in range(rows):
        audit.append(conn, "2026-11-25T00:00:00.000Z", "bench", "decision.pass", {"attempt_id": f"a{i}"})
    conn.execute("COMMIT")
    conn.close()
    store = Store.open(path, synchronous="NORMAL")
    report = store.verify_audit()
    store.close()
    if not report.ok:
        raise SystemExit(f"audit chain broken: {report.problems}")
    return report.elapsed_s, report.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--decisions", type=int, default=5000)
    parser.add_argument("--audit-rows", type=int, default=100_000)
    parser.add_argument("--dir", help="folder on the disk to measure (default: a temp folder)")
    args = parser.parse_args()
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="examgate-bench-"))
    for sync in ("FULL", "NORMAL"):
        ours = bench_decisions(base / f"store-{sync}.db", args.decisions, sync)  # type: ignore[arg-type]
        bare = bench_bare(base / f"bare-{sync}.db", args.decisions, sync)
        print(
            f"synchronous={sync:<6} decisions committed: {ours:8,.0f}/s   bare sqlite3 insert+commit: {bare:8,.0f}/s"
            f"   ratio {bare / ours:.1f}x   (goal >= 2,000/s: {'met' if ours >= 2000 else 'NOT MET'})"
        )
    elapsed, rows = bench_audit(base / "audit.db", args.audit_rows)
    per_100k = elapsed * 100_000 / rows
    print(f"audit verify: {rows:,} rows in {elapsed:.2f} s = {per_100k:.2f} s per 100k rows (goal <= 2 s)")


if __name__ == "__main__":
    main()
