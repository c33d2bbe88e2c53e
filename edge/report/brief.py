"""Build ``brief.html``: one self-contained page (inline CSS, inline SVG charts, the calibration DET as a data URI)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from edge.report import charts
from edge.report.cost import CostInputs, CostResult, compute
from edge.report.queries import ASSISTED_CREDENTIALS, BriefData, Period, collect, percentile
from edge.report.text import Lang, texts
from edge.vision.thresholds import Thresholds, ThresholdsError, load_thresholds

SIZES = (374, 1480)  # the smallest and largest sessions of the field study (docs/cost.md)
SECTION_TABLES = {
    "q1": ("decisions", "attempts"),
    "q2": ("reviews", "decisions", "attempts", "outbox"),
    "q3": ("assisted_admissions", "attempts", "decisions"),
    "q4": ("outbox", "attempts"),
    "q5": ("outbox",),
}


@dataclass(frozen=True)
class Calibration:
    path: Path
    thresholds: Thresholds | None
    error: str | None
    det_uri: str | None

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            thresholds = load_thresholds(path)
        except ThresholdsError as err:
            return cls(path, None, err.message, None)
        det = charts.png_data_uri(path.with_name(path.stem + "_det.png"))
        return cls(path, thresholds, None, det)


def _share(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.1f} %" if whole else "-"


def _cost_rows(data: BriefData, inputs: CostInputs) -> tuple[float, list[CostResult]]:
    p50 = percentile(data.times_ms, 50)
    seconds = (p50 or 0.0) / 1000.0
    per_session = Counter(s for s in data.sessions)
    own = max(1, round(data.total / max(len(per_session), 1)))
    sizes = sorted({own, *SIZES})
    return seconds, [compute(inputs, n, seconds) for n in sizes]


def context(
    data: BriefData, calibration: Calibration, inputs: CostInputs, lang: Lang, now: dt.datetime
) -> dict[str, Any]:
    t = texts(lang)
    thresholds = calibration.thresholds
    used_versions = sorted({v for v, _m in data.by_thresholds})
    labels = {**t, "pass": t["pass"], "review": t["review"], "fail": t["fail"]}
    outcome_counts = Counter({t[k]: data.outcomes[k] for k in ("pass", "review", "fail")})
    colours = {t[k]: c for k, c in charts.OUTCOME_COLOURS.items()}
    credential_rows = [
        (t.get(c, c), n, _share(n, data.total)) for c, n in sorted(data.credentials.items(), key=lambda kv: -kv[1])
    ]
    assisted_n = sum(data.assisted.values())
    seconds, cost_rows = _cost_rows(data, inputs)
    p50, p95 = percentile(data.times_ms, 50), percentile(data.times_ms, 95)
    waits = data.reviews.wait_s
    return {
        "t": t,
        "lang": lang,
        "data": data,
        "period": data.period.label() if data.period.label() != "*" else t["all_data"],
        "built_at": now.strftime("%Y-%m-%d %H:%M"),
        "cal": calibration,
        "thr": thresholds,
        "cal_missing": None
        if thresholds
        else t["cal_missing"].format(path=calibration.path.name, error=calibration.error or "-"),
        "det_missing": t["det_missing"].format(path=calibration.path.stem + "_det.png")
        if thresholds and not calibration.det_uri
        else None,
        "mismatch": t["version_mismatch"].format(used=", ".join(used_versions), current=thresholds.version)
        if thresholds and used_versions != [thresholds.version]
        else None,
        "outcome_svg": charts.bars(outcome_counts, t["outcome_counts"], colours),
        "score_svg": charts.score_histogram(
            data.scores, thresholds.match if thresholds else None, thresholds.review if thresholds else None, labels
        )
        if data.scores
        else None,
        "outcome_rows": [
            (t[k], data.outcomes[k], _share(data.outcomes[k], data.total)) for k in ("pass", "review", "fail")
        ],
        "reason_rows": data.reasons.most_common(),
        "review_total": sum(data.reviews.by_status.values()),
        "review_rows": [(t[k], data.reviews.by_status[k]) for k in ("approved", "denied", "pending")],
        "proctor_reason_rows": [(t[s], r, n) for (s, r), n in data.reviews.by_reason.most_common()],
        "proctor_rows": sorted((p, c["approved"], c["denied"]) for p, c in data.reviews.per_proctor.items()),
        "wait": (percentile(waits, 50), percentile(waits, 95), max(waits)) if waits else None,
        "capture_rows": sorted((n, t.get(o, o), c) for (n, o), c in data.captures.items()),
        "credential_rows": credential_rows,
        "credential_svg": charts.bars(Counter({t.get(c, c): n for c, n in data.credentials.items()}), t["credential"]),
        "assisted_rows": sorted((t.get(c, c), o, n) for (c, o), n in data.assisted.items()),
        "assisted_line": t["assisted_total"].format(
            n=assisted_n, total=data.total, share=_share(assisted_n, data.total), signed=data.assisted_signed
        ),
        "assisted_kinds": [
            (t[c], sum(n for (k, _o), n in data.assisted.items() if k == c)) for c in ASSISTED_CREDENTIALS
        ],
        "cost_basis": t["cost_basis"].format(
            s=seconds, walk=inputs.walk_through_s, window=inputs.admission_window_min, years=inputs.years
        ),
        "cost_rows": cost_rows,
        "years": inputs.years,
        "fee_note": t["fee_note"].format(fee=f"{inputs.service_fee_vnd_per_check:,}", source=inputs.service_fee_source),
        "times_line": t["times"].format(p50=p50 / 1000, p95=p95 / 1000, n=len(data.times_ms), total=data.total)
        if p50 is not None and p95 is not None
        else t["no_times"],
        "time_svg": charts.time_histogram(data.times_ms, labels) if data.times_ms else None,
        "fault_rows": data.device_faults.most_common(),
        "sources": {k: t["section_sources"].format(tables=", ".join(v)) for k, v in SECTION_TABLES.items()},
    }


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("edge.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vnd"] = lambda v: f"{round(v):,}".replace(",", ".")
    return env


def render(data: BriefData, calibration: Calibration, inputs: CostInputs, lang: Lang, now: dt.datetime) -> str:
    return _environment().get_template("brief.html").render(**context(data, calibration, inputs, lang, now))


def build_brief(
    db: Path,
    out_dir: Path,
    period: Period,
    thresholds_file: Path,
    inputs: CostInputs,
    lang: Lang = "vi",
    now: dt.datetime | None = None,
) -> Path:
    """Write ``out_dir/brief.html`` and return its path. Raises E_REPORT_… on bad input (nothing is written)."""
    data = collect(db, period)
    html = render(data, Calibration.load(thresholds_file), inputs, lang, now or dt.datetime.now(dt.UTC))
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "brief.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
