"""The impact report's charts: matplotlib figures (no pyplot, so no global state and no GUI backend) saved
as SVG to be embedded inline, so the HTML file is self-contained and opens offline. Text stays text
(`svg.fonttype: none`), so the numbers on the charts can be searched and read by assistive tools."""

from __future__ import annotations

import io
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import Any

import matplotlib
from matplotlib.figure import Figure

from gesher.ledger_service.impact import ExposureRow, LatencyRow, ReciprocityRow, VolumeRow

matplotlib.use("Agg")  # never a GUI backend, even where a display is set

TOP = 7  # groups drawn in the volume chart; the rest are summed as "other"
MOST = 15  # countries or partners drawn in a bar chart
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(figure: Figure, name: str) -> str:
    """The figure as an inline <svg> element (without the XML prolog and doctype a standalone file has)."""
    buffer = io.StringIO()
    with matplotlib.rc_context({**_STYLE, "svg.hashsalt": name}), warnings.catch_warnings():
        # A partner name in a script the default font lacks is drawn as boxes; that is not an error.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _figure(width: float, height: float) -> Figure:
    with matplotlib.rc_context(_STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def volume_chart(rows: Sequence[VolumeRow], interval: str, by: str) -> str:
    """Stacked bars: disclosures per day or week, split by the largest groups."""
    totals: Counter[str] = Counter()
    for r in rows:
        totals[r.group] += r.disclosures
    shown = [g for g, _ in totals.most_common(TOP)] if len(totals) > TOP + 1 else sorted(totals)
    periods = sorted({r.period for r in rows})
    series: dict[str, list[int]] = {g: [0] * len(periods) for g in [*shown, "other"]}
    where = {p: i for i, p in enumerate(periods)}
    for r in rows:
        series[r.group if r.group in shown else "other"][where[r.period]] += r.disclosures
    figure = _figure(8, 3.6)
    ax = figure.subplots()
    base = [0] * len(periods)
    top = None
    for i, (group, values) in enumerate(series.items()):
        if any(values):
            top = ax.bar(periods, values, bottom=base, label=group, color=PALETTE[i % len(PALETTE)])
            base = [b + v for b, v in zip(base, values, strict=True)]
    if top is not None and len(periods) <= 31:  # the totals on top of the stacks
        ax.bar_label(top, labels=[str(b) if b else "" for b in base], fontsize=7)
    ax.set_xlabel(f"{interval} (UTC{', week starting Monday' if interval == 'week' else ''})")
    ax.set_ylabel("object versions disclosed")
    ax.set_title(f"Disclosures per {interval}, by {by}")
    ax.legend(title=by, fontsize=7, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    step = max(1, len(periods) // 12)
    ax.set_xticks(range(0, len(periods), step), [periods[i] for i in range(0, len(periods), step)])
    ax.tick_params(axis="x", labelrotation=45)
    return _svg(figure, "volume")


def _grouped(
    ax: object, labels: Sequence[str], series: dict[str, list[int]], horizontal: bool = False
) -> None:
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        at = [x + (i - (len(series) - 1) / 2) * width for x in range(len(labels))]
        draw = ax.barh if horizontal else ax.bar  # type: ignore[attr-defined]
        bars = draw(at, values, width, label=name, color=PALETTE[i % len(PALETTE)])
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=7)  # type: ignore[attr-defined]


def exposure_chart(rows: Sequence[ExposureRow]) -> str:
    """Grouped horizontal bars: distinct sensitive, offensive, AMBER+STRICT and RED disclosures by country."""
    shown = [r for r in rows if r.any][:MOST][::-1]
    series = {
        "sensitive tier": [r.sensitive for r in shown],
        "offensive tier": [r.offensive for r in shown],
        "TLP:AMBER+STRICT": [r.amber_strict for r in shown],
        "TLP:RED": [r.red for r in shown],
    }
    figure = _figure(8, max(2.4, 0.55 * len(shown) + 1.2))
    ax = figure.subplots()
    _grouped(ax, [r.country for r in shown], series, horizontal=True)
    ax.set_yticks(range(len(shown)), [r.country for r in shown])
    ax.set_xlabel("distinct (partner, object version) disclosures")
    ax.set_ylabel("recipient country")
    ax.set_title("Sensitive and restricted material disclosed, by recipient country")
    handles, names = ax.get_legend_handles_labels()  # listed top to bottom, as the bars are drawn
    ax.legend(handles[::-1], names[::-1], fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure, "exposure")


def reciprocity_chart(rows: Sequence[ReciprocityRow]) -> str:
    """Grouped bars per partner: object versions it gave against those it received."""
    shown = [r for r in rows if r.gave or r.received][:MOST]
    figure = _figure(8, 3.6)
    ax = figure.subplots()
    series = {"gave": [r.gave for r in shown], "received": [r.received for r in shown]}
    _grouped(ax, [r.partner for r in shown], series)
    ax.set_xticks(range(len(shown)), [f"{r.partner}\n({r.country})" for r in shown])
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.set_xlabel("partner (country)")
    ax.set_ylabel("distinct object versions")
    ax.set_title("Reciprocity: what each partner gave and received")
    ax.legend(fontsize=7)
    return _svg(figure, "reciprocity")


def latency_chart(rows: Sequence[LatencyRow]) -> str:
    """Bars per sensitivity tier: median and 90th percentile of the time from ingest to first release."""
    shown = [r for r in rows if r.known]
    figure, ax, unit = percentile_bars(shown, 6.5)
    ax.set_xticks(range(len(shown)), [f"{r.tier}\n({r.known} versions)" for r in shown])
    ax.set_xlabel("sensitivity tier of the object at its first release")
    ax.set_ylabel(f"{unit} from ingest to first release")
    ax.set_title("Time from ingest to first release")
    ax.legend(fontsize=7)
    return _svg(figure, "latency")


def percentile_bars(shown: Sequence[Any], width: float) -> tuple[Figure, Any, str]:
    """A figure with a median and a 90th-percentile bar per row (rows with `median_seconds` and
    `p90_seconds`), in the unit that keeps the longest readable; the caller labels it."""
    unit, size = _unit(max((r.p90_seconds or 0) for r in shown) if shown else 0)
    spans = {
        "median": [round((r.median_seconds or 0) / size, 1) for r in shown],
        "90th percentile": [round((r.p90_seconds or 0) / size, 1) for r in shown],
    }
    figure = _figure(width, 3.2)
    ax = figure.subplots()
    bar = 0.38
    for i, (name, values) in enumerate(spans.items()):
        at = [x + (i - 0.5) * bar for x in range(len(shown))]
        bars = ax.bar(at, values, bar, label=name, color=PALETTE[i])
        ax.bar_label(bars, labels=[f"{v:g}" for v in values], fontsize=7)
    return figure, ax, unit


def _unit(longest: float) -> tuple[str, float]:
    """The unit that keeps the longest bar readable: minutes, hours or days."""
    if longest < 2 * 3600:
        return "minutes", 60.0
    if longest < 3 * 86_400:
        return "hours", 3600.0
    return "days", 86_400.0
