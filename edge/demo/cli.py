"""`examgate demo`: the whole gate on simulated hardware with a scripted queue of candidates."""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from edge.cmdline import EXIT_CHECK_FAILED, EXIT_ERROR, EXIT_OK, print_error
from edge.config import AppConfig, SiteConfig
from edge.demo.broker import EmbeddedBroker
from edge.demo.runner import Step, default_data_dir, load_scenario, run_demo
from edge.errors import ExamGateError
from edge.lane import CandidateReport
from edge.mqtt.connection import MqttUnreachableError, probe_broker
from edge.mqtt.errors import MqttError
from edge.mqtt.settings import MqttSettings
from edge.mqtt.url import parse_broker_url
from edge.wiring import Gate

if TYPE_CHECKING:
    from edge.cmdline import SubParsers

OUTCOME_LABEL = {"pass": "PASS  ", "review": "REVIEW", "fail": "FAIL  "}


def format_report(step: Step, report: CandidateReport) -> str:
    t = report.timings_ms
    score = "  -  " if report.face_score is None else f"{report.face_score:.3f}"
    outcome = OUTCOME_LABEL.get(report.outcome or "", "?     ")
    if report.reviewed_by:
        outcome = f"REVIEW→{'PASS' if report.outcome == 'pass' else 'FAIL'}"
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


def cmd_demo_serve(args: argparse.Namespace, workdir: Path) -> int:
    """`--serve HOST:PORT`: keep the lane running with the proctor console, kiosk and metrics served."""
    from edge.demo.serve import run  # noqa: PLC0415 - web stack only when serving

    return run(workdir, args.serve)


def cmd_demo(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="examgate-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.serve:
        return cmd_demo_serve(args, workdir)

    def show(step: Step, report: CandidateReport) -> None:
        if not args.json:
            print(format_report(step, report), flush=True)

    def site_and_gate(cfg: AppConfig) -> AppConfig:
        site = SiteConfig(site_id=args.site or cfg.site.site_id, gate_id=args.gate or cfg.site.gate_id)
        return cfg.model_copy(update={"site": site})

    steps = len(load_scenario(default_data_dir()).steps)
    if args.candidates is not None and args.candidates < 1:
        raise ExamGateError(
            f"--candidates must be at least 1, got {args.candidates}",
            code="E_USAGE",
            remedy=f"give 1-{steps}, or leave it out to run all {steps}",
        )
    address = None
    if args.broker is not None:  # a bad URL or a dead broker stops here, before any candidate
        address = MqttSettings.from_options(broker_url=args.broker).address
        try:
            probe_broker(address)
        except MqttUnreachableError as exc:
            exc.remedy = f"{exc.remedy}; or run `examgate demo` without --broker (embedded broker) or with --no-broker"
            raise
    with contextlib.ExitStack() as stack:
        broker_url = args.broker
        if broker_url is None and not args.no_broker:
            broker_url = stack.enter_context(EmbeddedBroker()).url
            address = parse_broker_url(broker_url)
        if not args.json:
            print("ExamGate demo: one gate lane on simulated hardware. A virtual PN532 on a serial pty holds")
            print("virtual CCCD chips (PACE with the CAN from the card's QR, secure messaging, passive authentication")
            print("against a test CSCA); an image-folder camera shows each candidate; a virtual turnstile.")
            print("Face detection and matching are the real ones.")
            print(f"Working folder: {workdir}")
            if broker_url and address is not None:
                print(f"Events go to {broker_url}; watch them with:")
                print(f"  mosquitto_sub -h {address.host} -p {address.port} -V mqttv5 -v -t 'examgate/v1/#'")
        if args.candidates is not None and args.candidates > steps:
            note = f"note: the scenario has {steps} candidates: running {steps}, not {args.candidates}"
            print(note, file=sys.stderr if args.json else sys.stdout)
        if not args.json:
            print()
        gate, result = run_demo(
            workdir,
            candidates=args.candidates,
            on_report=show,
            prepare=site_and_gate,
            broker_url=broker_url,
            drain_timeout_s=args.drain_timeout_s,
        )
        try:
            expected = [(s, r) for s, r in result.reports if s.expect != (r.outcome if not r.reviewed_by else "review")]
            backlog = gate.store.outbox_backlog()
            if args.json:
                for row in gate.store.outbox_all():
                    print(row.payload)
            else:
                print_summary(gate, [r for _, r in result.reports], broker_url)
                for step, report in expected:
                    reasons = ",".join(report.reasons)
                    print(f"note: expected {step.expect} for '{step.note}', got {report.outcome} ({reasons})")
        finally:
            gate.close()
    if broker_url and backlog:
        print_error(undelivered(backlog, broker_url, args.drain_timeout_s, result.broker_error))
        return EXIT_ERROR
    return EXIT_OK if not expected else EXIT_CHECK_FAILED


def undelivered(backlog: int, broker_url: str, timeout_s: float, why: MqttError | None) -> MqttError:
    """The demo's last word when events stayed queued: the broker's own failure when it was never reached."""
    message = f"{backlog} event(s) not acknowledged by {broker_url} within {timeout_s:g} s"
    if why is not None:
        return MqttUnreachableError(f"{message}: {why.message}", remedy=why.remedy)
    return MqttError(message, remedy="check the broker's log; raise --drain-timeout-s on a slow link")


def print_summary(gate: Gate, reports: list[CandidateReport], broker_url: str | None) -> None:
    def final(report: CandidateReport) -> str | None:  # a review the proctor rejected ends in fail
        return "fail" if report.reviewed_by and report.outcome != "pass" else report.outcome

    counts = {o: sum(1 for r in reports if final(r) == o) for o in ("pass", "review", "fail")}
    reviewed = sum(1 for r in reports if r.reviewed_by and r.outcome == "pass")
    totals = [r.timings_ms.get("total_ms", 0.0) for r in reports]
    db = gate.cfg.store.path
    print()
    print(
        f"summary: {len(reports)} candidates: pass {counts['pass']} (of which {reviewed} after review), "
        f"fail {counts['fail']}; time per candidate p50 {percentile(totals, 50):.0f} ms, "
        f"p95 {percentile(totals, 95):.0f} ms"
    )
    events = len(gate.store.outbox_all())
    backlog = gate.store.outbox_backlog()
    if broker_url:
        print(f"events: {events} stored; {events - backlog} acknowledged by {broker_url}, {backlog} still queued")
    else:
        print(f"events: {events} stored in the outbox, waiting for a broker ({db})")
    print(f"audit chain: {gate.store.verify_audit().rows} rows; check it with: examgate audit verify --db {db}")
    kept = gate.store.evidence_count()
    print(
        f"face images kept for review/fail cases: {kept}, encrypted (AES-256-GCM), deleted after the retention period"
    )


def register(sub: SubParsers) -> None:
    demo = sub.add_parser("demo", help="run one gate lane on simulated hardware with a few candidates")
    demo.add_argument("--candidates", type=int, default=None, help="run only the first N candidates of the scenario")
    demo.add_argument("--json", action="store_true", help="print the events as JSON lines instead of the summary")
    demo.add_argument("--verbose", action="store_true", help="also show MediaPipe/LiteRT log lines")
    demo.add_argument("--workdir", help="keep the demo's database and files here (default: a new temp folder)")
    demo.add_argument("--broker", help="publish to this broker (mqtt://HOST:PORT) instead of an embedded mosquitto")
    demo.add_argument("--no-broker", action="store_true", help="publish nowhere: events stay in the outbox")
    demo.add_argument("--site", help="site id to publish under (default demo-site)")
    demo.add_argument("--gate", help="gate id to publish under (default lane-1)")
    demo.add_argument(
        "--drain-timeout-s", type=float, default=30.0, help="how long to wait for the broker to acknowledge every event"
    )
    demo.add_argument(
        "--serve",
        metavar="HOST:PORT",
        help="keep the lane running and serve the proctor console, kiosk and metrics there (Ctrl-C stops)",
    )
    demo.set_defaults(func=cmd_demo)
