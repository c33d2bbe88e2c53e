"""`examgate demo`: the whole gate on simulated hardware with a scripted queue of candidates."""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from edge.cli.common import EXIT_CHECK_FAILED, EXIT_OK
from edge.demo import Step, run_demo
from edge.lane import CandidateReport
from edge.wiring import Gate

if TYPE_CHECKING:
    from edge.cli.core import SubParsers

OUTCOME_LABEL = {"pass": "PASS  ", "review": "REVIEW", "fail": "FAIL  "}


def format_report(step: Step, report: CandidateReport) -> str:
    t = report.timings_ms
    score = "  -  " if report.face_score is None else f"{report.face_score:.3f}"
    outcome = OUTCOME_LABEL.get(report.outcome or "", "?     ")
    if report.reviewed_by:
        outcome = f"{outcome}→{'PASS' if report.outcome == 'pass' else 'FAIL'}"
    reasons = ",".join(report.reasons) or "-"
    return (
        f"{report.started_at:%H:%M:%S.%f}"[:-3]
        + f"  {report.id_masked or '-':<12}  {outcome:<11} {reasons:<22} score {score}"
        + f"  chip {t.get('chip_ms', 0):>4.0f} ms  face {t.get('face_ms', 0):>5.0f} ms"
        + f"  total {t.get('total_ms', 0):>5.0f} ms"
        + f"  | {step.note}"
    )


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def cmd_demo(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="examgate-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)

    def show(step: Step, report: CandidateReport) -> None:
        if not args.json:
            print(format_report(step, report), flush=True)

    if not args.json:
        print("ExamGate demo: one lane on simulated hardware (virtual reader with card fixtures, image-folder camera,")
        print(f"virtual turnstile) and real face matching on real photos. Working folder: {workdir}")
        print()
    gate, result = run_demo(workdir, candidates=args.candidates, on_report=show)
    try:
        unexpected = [(s, r) for s, r in result.reports if s.expect != (r.outcome if not r.reviewed_by else "review")]
        if args.json:
            for row in gate.store.outbox_pending(1_000_000):
                print(row.payload)
        else:
            print_summary(gate, [r for _, r in result.reports])
            for step, report in unexpected:
                print(
                    f"note: expected {step.expect} for '{step.note}', got {report.outcome} ({','.join(report.reasons)})"
                )
    finally:
        gate.close()
    return EXIT_OK if not unexpected else EXIT_CHECK_FAILED


def print_summary(gate: Gate, reports: list[CandidateReport]) -> None:
    counts = {o: sum(1 for r in reports if r.outcome == o) for o in ("pass", "review", "fail")}
    reviewed = sum(1 for r in reports if r.reviewed_by)
    totals = [r.timings_ms.get("total_ms", 0.0) for r in reports]
    db = gate.cfg.store.path
    print()
    print(
        f"summary: {len(reports)} candidates: pass {counts['pass']} (of which {reviewed} after review), "
        f"fail {counts['fail']}; time per candidate p50 {percentile(totals, 50):.0f} ms, "
        f"p95 {percentile(totals, 95):.0f} ms"
    )
    print(f"events queued for the central broker: {gate.store.outbox_backlog()} (outbox in {db})")
    print(f"audit chain: {gate.store.verify_audit().rows} rows; check it with: examgate audit verify --db {db}")


def register(sub: SubParsers) -> None:
    demo = sub.add_parser("demo", help="run one gate lane on simulated hardware with a few candidates")
    demo.add_argument("--candidates", type=int, default=None, help="run only the first N candidates of the scenario")
    demo.add_argument("--json", action="store_true", help="print the events as JSON lines instead of the summary")
    demo.add_argument("--workdir", help="keep the demo's database and files here (default: a new temp folder)")
    demo.set_defaults(func=cmd_demo)
