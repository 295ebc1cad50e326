"""Printing the incident board and its report: JSON, a tidy CSV (one figure per row, the disclosure report's
columns), rich tables for a terminal, and one self-contained HTML page with inline SVG charts. The
disclosure report's helpers (`ledger_service.report_render`) do the tables, figures and spans."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gesher.ledger_service.report_render import (
    _CSS,
    _figure,
    _html_table,
    _table,
    csv_text,
    duration,
    readable,
    when,
)
from gesher.warning.incidents import Report
from gesher.warning_service.incidents import BoardRow, Detail

SUMMARY_LABELS = {
    "opened": "incidents opened",
    "contained": "incidents contained",
    "closed": "incidents closed",
    "reopened": "incidents reopened",
    "alerts": "alerts raised (attacks)",
    "linked_alerts": "alerts linked to an incident",
    "open_at_end": "open at the end",
    "contained_at_end": "contained at the end",
}


def seconds(micros: int | None) -> float | None:
    return None if micros is None else micros / 1_000_000


# --- the board and one incident -----------------------------------------------------------------------------


def board_json(rows: list[BoardRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.incident.id,
            "title": r.incident.title,
            "state": r.incident.state,
            "level": r.incident.level,
            "opened_at": when(r.incident.opened_at),
            "updated_at": when(r.incident.updated_at),
            "version": r.incident.version,
            "age_seconds": seconds(r.age),
            "alerts": r.alerts,
            "sectors": r.sectors,
        }
        for r in rows
    ]


def print_board(rows: list[BoardRow], console: Console, heading: str) -> None:
    """The board as a table: the short columns first and kept whole, the sectors and the title last."""
    if not rows:
        console.print(f"{heading}: none", highlight=False)
        return
    table = Table(title=heading, title_justify="left", title_style="bold")
    for name in ("id", "level", "state", "opened", "age", "alerts"):
        table.add_column(name, no_wrap=True, justify="right" if name in ("id", "age", "alerts") else "left")
    table.add_column("sectors", overflow="fold", ratio=1)
    table.add_column("title", overflow="fold", ratio=2)
    for r in rows:
        i = r.incident
        table.add_row(
            str(i.id),
            f"L{i.level}",
            i.state,
            readable(i.opened_at)[:10],
            duration(seconds(r.age)),
            str(r.alerts),
            ", ".join(r.sectors) or "-",
            escape(i.title),
        )
    console.print(table)


def detail_json(detail: Detail) -> dict[str, Any]:
    i = detail.incident
    return {
        "id": i.id,
        "title": i.title,
        "state": i.state,
        "level": i.level,
        "opened_at": when(i.opened_at),
        "updated_at": when(i.updated_at),
        "version": i.version,
        "sectors": detail.sectors,
        "countries": detail.countries,
        "partners": detail.partners,
        "first_sighting": when(detail.first_sighting),
        "time_to_alert_seconds": seconds(detail.time_to_alert),
        "alerts": [
            {
                "id": a.id,
                "token": a.token,
                "level": a.level,
                "rule": a.rule,
                "raised_at": when(a.raised_at),
                "organisations": a.organisations,
                "time_to_alert_seconds": seconds(span),
            }
            for a, span in detail.alerts
        ],
        "events": [
            {
                "at": when(e.at),
                "actor": e.actor,
                "action": e.action,
                "state": e.state,
                "reason": e.reason,
                "alert": e.alert_id,
            }
            for e in detail.events
        ],
    }


def print_detail(detail: Detail, console: Console) -> None:
    i = detail.incident
    console.print(f"[bold]incident {i.id}[/]: {escape(i.title)}", highlight=False)
    facts = [
        ("state", i.state),
        ("level", f"L{i.level}"),
        ("opened", readable(i.opened_at)),
        ("updated", f"{readable(i.updated_at)} (version {i.version})"),
        ("sectors", ", ".join(detail.sectors) or "-"),
        ("countries", ", ".join(detail.countries) or "-"),
        ("reporting partners", detail.partners),
        ("first sighting", readable(detail.first_sighting) if detail.first_sighting is not None else "-"),
        ("first sighting to first alert", duration(seconds(detail.time_to_alert))),
    ]
    console.print(_table("", ("", ""), [(k, str(v)) for k, v in facts], words=2))
    alerts = [
        (a.id, f"L{a.level}", a.token, readable(a.raised_at), a.organisations, duration(seconds(span)))
        for a, span in detail.alerts
    ]
    columns = ("alert", "level", "token", "raised", "organisations", "to alert")
    console.print(_table("Alerts", columns, alerts, words=4))
    events = [
        (readable(e.at), e.actor, e.action, e.state, e.reason + (f" ({e.alert_id})" if e.alert_id else ""))
        for e in detail.events
    ]
    console.print(_table("History", ("at", "actor", "action", "state", "reason"), events, words=5))


# --- the report: JSON and CSV -------------------------------------------------------------------------------


def as_json(report: Report) -> dict[str, Any]:
    summary = dataclasses.asdict(report.summary)
    return {
        "report": "incidents",
        "period": {"since": when(report.since), "until": when(report.until)},
        "summary": summary,
        "months": [dataclasses.asdict(r) for r in report.months],
        "concurrent": [
            {"at": when(s.at), "open": s.open, "contained": s.contained, "active": s.active}
            for s in report.concurrent
        ],
        "sectors": [dataclasses.asdict(r) for r in report.sectors],
        "latency": [dataclasses.asdict(r) for r in report.latency],
    }


def csv_rows(report: Report) -> Iterator[tuple[str, str, str, str, object]]:
    """Tidy rows (section, period, group, metric, value): every figure of the report, one per row."""
    document = as_json(report)
    for key, value in document["period"].items():
        yield "period", "", "", key, value if value is not None else ""
    for key, value in document["summary"].items():
        yield "summary", "", "", key, "" if value is None else value
    sections = (("months", "month", None), ("concurrent", "at", None), ("sectors", None, "sector"))
    for section, period_key, group_key in (*sections, ("latency", "month", "level")):
        for row in document[section]:
            period = row[period_key] if period_key else ""
            group = row[group_key] if group_key else ""
            for metric, value in row.items():
                if metric not in (period_key, group_key):
                    yield section, period, group, metric, "" if value is None else value


def as_csv(report: Report) -> str:
    return csv_text(csv_rows(report))


# --- the report: tables -------------------------------------------------------------------------------------


def period_text(report: Report) -> str:
    since = f"from {readable(report.since)}" if report.since is not None else "from the start"
    until = f"before {readable(report.until)}" if report.until is not None else "to now"
    return f"Period: {since}, {until}"


def _month_cells(report: Report) -> list[tuple[object, ...]]:
    return [
        (m.month, m.opened, m.contained, m.closed, m.reopened, m.alerts, m.l1, m.l2, m.l3)
        for m in report.months
    ]


MONTH_COLUMNS = ("month", "opened", "contained", "closed", "reopened", "alerts", "L1", "L2", "L3")


def _latency_cells(report: Report) -> list[tuple[object, ...]]:
    return [
        (r.month, r.level, r.alerts, r.known, duration(r.median_seconds), duration(r.p90_seconds))
        for r in report.latency
    ]


LATENCY_COLUMNS = ("month", "level", "alerts", "sighting known", "median", "90th percentile")


def _step_cells(report: Report) -> list[tuple[object, ...]]:
    return [(readable(s.at), s.open, s.contained, s.active) for s in report.concurrent]


def print_tables(report: Report, console: Console) -> None:
    s = report.summary
    console.print("[bold]National incident board[/]", highlight=False)
    console.print(period_text(report), highlight=False)
    rows: list[tuple[object, ...]] = [(label, getattr(s, key)) for key, label in SUMMARY_LABELS.items()]
    rows.append(("time from first sighting to alert, median", duration(s.median_seconds)))
    rows.append(("time from first sighting to alert, 90th percentile", duration(s.p90_seconds)))
    console.print(_table("Summary", ("", ""), rows))
    console.print(_table("Per month (alerts are attacks)", MONTH_COLUMNS, _month_cells(report)))
    steps = ("from", "open", "contained", "open or contained")
    console.print(_table("Concurrent incidents", steps, _step_cells(report)))
    sectors = [(r.sector, r.incidents, r.alerts, r.partners) for r in report.sectors]
    console.print(_table("Sectors hit", ("sector", "incidents", "alerts", "partners"), sectors))
    console.print(
        _table("Time from first sighting to alert", LATENCY_COLUMNS, _latency_cells(report), words=2)
    )


# --- the report: HTML ---------------------------------------------------------------------------------------


def _charts() -> ModuleType:
    # Imported on first use, as the disclosure report does: matplotlib takes a moment to load.
    from gesher.warning_service import incident_charts

    return incident_charts


def as_html(report: Report, generated: str | None = None, now: int | None = None) -> str:
    """One self-contained page: the period, a summary, then each section with its chart (inline SVG), a
    caption in plain words and its table. `now` ends the concurrent series of an open-ended period."""
    title = "National incident board"
    parts = [
        f"<h1>{title}</h1>",
        f'<p class="period">{html.escape(period_text(report))}.'
        + (f" Generated {html.escape(generated)}." if generated else "")
        + "</p>",
        _summary_section(report),
        _attacks_section(report),
        _concurrent_section(report, now),
        _sectors_section(report),
        _latency_section(report),
        _reading_notes(),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>gesher: {title}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def _summary_section(report: Report) -> str:
    s = report.summary
    rows: list[tuple[object, ...]] = [(label, getattr(s, key)) for key, label in SUMMARY_LABELS.items()]
    rows.append(("time from first sighting to alert, median", duration(s.median_seconds)))
    rows.append(("time from first sighting to alert, 90th percentile", duration(s.p90_seconds)))
    return "<h2>Summary</h2>" + _html_table(("", ""), rows)


def _attacks_section(report: Report) -> str:
    head = "<h2>Attacks and incidents per month</h2>"
    table = _html_table(MONTH_COLUMNS, _month_cells(report))
    if not any(m.opened or m.alerts for m in report.months):
        return head + "<p>No incident was opened and no alert raised in this period.</p>" + table
    s = report.summary
    caption = (
        "For each month, the incidents opened and the alerts raised (each alert is one detected wave of a "
        f"threat across partners), by level. In all, {s.opened:,} incidents opened and {s.alerts:,} alerts "
        f"raised, {s.linked_alerts:,} of them linked to an incident."
    )
    return head + _figure(_charts().attacks_chart(report.months), caption) + table


def _concurrent_section(report: Report, now: int | None) -> str:
    head = "<h2>Concurrent incidents over time</h2>"
    steps = report.concurrent
    if not steps:
        return head + "<p>No incident was open or contained in this period.</p>"
    end = report.until if report.until is not None else (now if now is not None else steps[-1].at)
    peak = max(steps, key=lambda s: s.active)
    caption = (
        "How many incidents were open (dashed) and open or contained (solid) at each moment; the line steps "
        f"at every change. The most at once: {peak.active} from {readable(peak.at)}. At the end: "
        f"{report.summary.open_at_end} open, {report.summary.contained_at_end} contained."
    )
    table = _html_table(("from", "open", "contained", "open or contained"), _step_cells(report))
    return head + _figure(_charts().concurrent_chart(steps, end), caption) + table


def _sectors_section(report: Report) -> str:
    head = "<h2>Sectors hit</h2>"
    rows = [(r.sector, r.incidents, r.alerts, r.partners) for r in report.sectors]
    table = _html_table(("sector", "incidents", "alerts", "partners"), rows)
    if not rows:
        return head + "<p>No alert of an incident was raised in this period.</p>"
    top = report.sectors[0]
    caption = (
        "For each sector, the incidents whose alerts in this period rest on sightings by partners of that "
        "sector (a partner in several sectors counts in each; `unspecified`: partners with no sector on "
        f"record). {top.sector} was hit by the most: {top.incidents:,} incidents."
    )
    return head + _figure(_charts().sectors_chart(report.sectors), caption) + table


def _latency_section(report: Report) -> str:
    head = "<h2>Time from first sighting to alert</h2>"
    table = _html_table(LATENCY_COLUMNS, _latency_cells(report), words=2)
    s = report.summary
    if s.median_seconds is None:
        return head + "<p>No alert in this period rests on a stored sighting.</p>" + table
    caption = (
        "For each alert, the time from the earliest sighting behind it (of its indicator or value, within "
        "the longest rule window before it) to the alert, by month and level. Half the alerts came within "
        f"{duration(s.median_seconds)} of the first sighting, nine in ten within {duration(s.p90_seconds)}."
    )
    return head + _figure(_charts().latency_chart(report.latency), caption) + table


def _reading_notes() -> str:
    notes = (
        "An incident is national-level: it groups the alerts on one threat; it is opened, contained, closed "
        "and reopened by analysts (each change with its actor and reason, in the disclosure ledger). An "
        "incident counts in the month it was opened. Sectors and countries are the reporting partners' at "
        "the time of each sighting; reporters are never named here."
    )
    return f'<h2>How to read this report</h2><p class="note">{html.escape(notes)}</p>'
