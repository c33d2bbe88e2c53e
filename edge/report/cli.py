"""`examgate report brief …` (the authority's brief) and `examgate report cost …` (the cost calculator)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from edge.cmdline import EXIT_OK, EXIT_USAGE
from edge.report.cost import compute, load_inputs, template
from edge.report.queries import Period
from edge.wiring import repo_root

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def default_thresholds() -> Path:
    return repo_root() / "models" / "thresholds.toml"


def cmd_brief(args: argparse.Namespace) -> int:
    from edge.report.brief import build_brief  # noqa: PLC0415 - matplotlib/jinja2 only for this command

    if args.session and (args.date_from or args.date_to):
        print("examgate report brief: --session and --from/--to are alternatives", file=sys.stderr)
        return EXIT_USAGE
    period = Period.parse(args.session, args.date_from, args.date_to)
    thresholds = Path(args.thresholds) if args.thresholds else default_thresholds()
    target = build_brief(Path(args.db), Path(args.out), period, thresholds, load_inputs(args.cost), lang=args.lang)
    print(f"wrote {target}")
    return EXIT_OK


def cmd_cost(args: argparse.Namespace) -> int:
    inputs = load_inputs(Path(args.inputs) if args.inputs else None)
    if args.template:
        print(template(inputs), end="")
        return EXIT_OK
    rows = [compute(inputs, n, args.seconds_per_candidate) for n in args.candidates]
    if args.json:
        print(json.dumps([r.model_dump() for r in rows]))
        return EXIT_OK
    print(
        f"{inputs.years}-year cost; {args.seconds_per_candidate:.1f} s per candidate + {inputs.walk_through_s:.0f} s "
        f"walking, {inputs.admission_window_min:.0f} min window, {inputs.sessions_per_year} sessions/year, "
        f"fee {inputs.service_fee_vnd_per_check:,} VND/check"
    )
    print(
        f"{'candidates':>10} {'lanes':>5} {'capex VND':>14} {'total VND':>14} {'per lane':>13} "
        f"{'per cand.':>9} {'fee total VND':>14}"
    )
    for r in rows:
        print(
            f"{r.candidates_per_session:>10} {r.lanes:>5} {r.capex_vnd:>14,} {r.total_vnd:>14,} {r.per_lane_vnd:>13,} "
            f"{r.per_candidate_vnd:>9,.0f} {r.service_fee_total_vnd:>14,}"
        )
    return EXIT_OK


def register(sub: SubParsers) -> None:
    report = sub.add_parser("report", help="the authority's brief and the cost calculator")
    actions = report.add_subparsers(dest="action", required=True)

    brief = actions.add_parser("brief", help="write DIR/brief.html: match score, reviews, assisted admissions, cost")
    brief.add_argument("--db", required=True, help="the gate's SQLite database (opened read-only)")
    brief.add_argument("--out", required=True, metavar="DIR", help="folder to write brief.html into")
    brief.add_argument("--session", help="one exam session id")
    brief.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (UTC), inclusive")
    brief.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day (UTC), inclusive")
    brief.add_argument("--lang", choices=("vi", "en"), default="vi")
    brief.add_argument("--thresholds", help="thresholds.toml in force (default models/thresholds.toml)")
    brief.add_argument("--cost", type=Path, help="cost inputs TOML (`examgate report cost --template`)")
    brief.set_defaults(func=cmd_brief)

    cost = actions.add_parser("cost", help="cost per lane and per candidate over five years (docs/cost.md)")
    cost.add_argument("--inputs", help="cost inputs TOML; default: the figures of docs/cost.md")
    cost.add_argument("--candidates", type=int, nargs="+", default=[374, 1480], help="candidates per session")
    cost.add_argument("--seconds-per-candidate", type=float, default=1.5, help="measured processing time (brief: p50)")
    cost.add_argument("--template", action="store_true", help="print the inputs as a TOML file to edit")
    cost.add_argument("--json", action="store_true")
    cost.set_defaults(func=cmd_cost)
