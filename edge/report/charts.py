"""Charts of the brief as inline SVG (matplotlib, Agg backend): no file, no network, prints sharply on A4."""

from __future__ import annotations

import base64
import io
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

OUTCOME_COLOURS = {"pass": "#2e7d32", "review": "#f9a825", "fail": "#c62828"}


def _figure(width_in: float, height_in: float) -> Figure:
    import matplotlib  # noqa: PLC0415 - only the brief needs it

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    return Figure(figsize=(width_in, height_in))


def _svg(fig: Figure) -> str:
    out = io.StringIO()
    fig.tight_layout()
    fig.savefig(out, format="svg")
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG sits inside HTML


def score_histogram(
    scores: list[tuple[float, str]], match: float | None, review: float | None, labels: dict[str, str]
) -> str:
    """Face scores of this period by outcome, with the thresholds in force drawn as lines."""
    fig = _figure(6.2, 2.6)
    ax = fig.add_subplot()
    values = [s for s, _ in scores]
    low = min([*values, *(t for t in (review,) if t is not None)], default=0.0)
    bins = [low + (1.0 - low) * i / 40 for i in range(41)]
    for outcome, colour in OUTCOME_COLOURS.items():
        chosen = [s for s, o in scores if o == outcome]
        if chosen:
            ax.hist(chosen, bins=bins, color=colour, alpha=0.75, label=labels[outcome])
    for value, style, name in ((match, "--", labels["match"]), (review, ":", labels["review_line"])):
        if value is not None:
            ax.axvline(value, color="black", ls=style, lw=1, label=f"{name} {value:.3f}")
    ax.set_xlabel(labels["score_axis"])
    ax.set_ylabel(labels["candidates"])
    ax.legend(fontsize=7)
    return _svg(fig)


def bars(counts: Counter[str], title: str, colours: dict[str, str] | None = None) -> str:
    """Horizontal bars of a few counts (decision outcomes, credentials)."""
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    fig = _figure(6.2, 0.35 * max(len(items), 1) + 0.8)
    ax = fig.add_subplot()
    names = [k for k, _ in items]
    ax.barh(names, [v for _, v in items], color=[(colours or {}).get(k, "#1565c0") for k in names])
    for y, (_, v) in enumerate(items):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=8)
    return _svg(fig)


def time_histogram(times_ms: list[float], labels: dict[str, str]) -> str:
    fig = _figure(6.2, 2.2)
    ax = fig.add_subplot()
    ax.hist([t / 1000.0 for t in times_ms], bins=20, color="#1565c0")
    ax.set_xlabel(labels["seconds"])
    ax.set_ylabel(labels["candidates"])
    return _svg(fig)


def png_data_uri(path: Path) -> str | None:
    """A calibration PNG embedded as a data URI, or None when the file is gone."""
    try:
        return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return None
