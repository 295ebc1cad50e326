"""The incident board report's charts, drawn as the disclosure report's are (`ledger_service.report_charts`:
matplotlib without pyplot, inline SVG, text kept as text), with its helpers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from matplotlib.dates import date2num
from matplotlib.ticker import MaxNLocator

from gesher.ledger_service.report_charts import PALETTE, _figure, _grouped, _svg, percentile_bars
from gesher.warning.incidents import EPOCH, LatencyRow, MonthRow, SectorRow, Step

MOST = 15  # sectors drawn


def _moment(at: int) -> datetime:
    return EPOCH + timedelta(microseconds=at)


def attacks_chart(rows: Sequence[MonthRow]) -> str:
    """Grouped bars per month: incidents opened, and alerts raised (attacks) by level."""
    series = {
        "incidents opened": [r.opened for r in rows],
        "L1 alerts": [r.l1 for r in rows],
        "L2 alerts": [r.l2 for r in rows],
        "L3 alerts": [r.l3 for r in rows],
    }
    figure = _figure(8, 3.4)
    ax = figure.subplots()
    _grouped(ax, [r.month for r in rows], series)
    ax.set_xticks(range(len(rows)), [r.month for r in rows])
    ax.set_xlabel("month (UTC)")
    ax.set_ylabel("count")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Incidents opened and attacks (alerts) per month")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure, "attacks")


def concurrent_chart(steps: Sequence[Step], end: int) -> str:
    """A step line: incidents open, and open or contained, from each change to the next (up to `end`)."""
    times = [_moment(s.at) for s in steps] + [_moment(max(end, steps[-1].at))]
    figure = _figure(8, 3.2)
    ax = figure.subplots()
    active = [s.active for s in steps] + [steps[-1].active]
    opened = [s.open for s in steps] + [steps[-1].open]
    x = date2num(times)  # type: ignore[no-untyped-call]
    ax.step(x, active, where="post", label="open or contained", color=PALETTE[0])
    ax.step(x, opened, where="post", label="open", color=PALETTE[3], linestyle="--")
    ax.xaxis_date(tz="UTC")
    ax.set_ylim(bottom=0, top=max(active) + 1)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("time (UTC)")
    ax.set_ylabel("incidents")
    ax.set_title("Concurrent incidents over time")
    ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    ax.legend(fontsize=7)
    return _svg(figure, "concurrent")


def sectors_chart(rows: Sequence[SectorRow]) -> str:
    """Horizontal bars: incidents that hit each sector (the most hit on top)."""
    shown = list(rows[:MOST])[::-1]
    figure = _figure(7, max(2.2, 0.45 * len(shown) + 1.2))
    ax = figure.subplots()
    _grouped(ax, [r.sector for r in shown], {"incidents": [r.incidents for r in shown]}, horizontal=True)
    ax.set_yticks(range(len(shown)), [r.sector for r in shown])
    ax.set_xlabel("incidents")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("Sectors hit")
    return _svg(figure, "sectors")


def latency_chart(rows: Sequence[LatencyRow]) -> str:
    """Bars per month and level: median and 90th percentile of the time from first sighting to alert."""
    shown = [r for r in rows if r.known]
    figure, ax, unit = percentile_bars(shown, 8)
    ax.set_xticks(range(len(shown)), [f"{r.month}\n{r.level} ({r.known})" for r in shown])
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel("month, alert level (alerts)")
    ax.set_ylabel(f"{unit} from first sighting to alert")
    ax.set_title("Time from first sighting to alert")
    ax.legend(fontsize=7)
    return _svg(figure, "latency")
