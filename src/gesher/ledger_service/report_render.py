"""Printing an impact report: a JSON document, a tidy CSV (one figure per row), rich tables for a terminal,
and a self-contained HTML page with charts for a person (issue 6: "readable by a person")."""

from __future__ import annotations

import csv
import dataclasses
import html
import io
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

from rich.console import Console
from rich.table import Table

from gesher.ledger_service.impact import ExposureRow, Report
from gesher.stix.timestamps import format_micros

CSV_HEADER = ("section", "period", "group", "metric", "value")
SUMMARY_LABELS = {
    "responses": "responses (ledger entries)",
    "disclosures": "object versions disclosed",
    "distinct": "distinct (partner, object version)",
    "object_versions": "distinct object versions",
    "partners": "partners",
    "countries": "countries",
}


def when(micros: int | None) -> str | None:
    return format_micros(micros) if micros is not None else None


def duration(seconds: float | None) -> str:
    """A span for people: seconds, minutes, hours or days."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def readable(micros: int) -> str:
    """A time for people: `2026-11-23 09:15 UTC` (with seconds only when they are not zero)."""
    text = format_micros(micros)
    day, clock = text[:10], text[11:19]
    return f"{day} {clock if clock[6:] != '00' else clock[:5]} UTC"


def period_text(report: Report) -> str:
    """The period in words: the bounds asked for, else those of the disclosures found."""
    options, summary = report.options, report.summary
    if options.since is None and options.until is None:
        if summary.first is None or summary.last is None:
            return "Period: all time (no disclosure to a partner is recorded)"
        return f"Period: all time, disclosures from {readable(summary.first)} to {readable(summary.last)}"
    since = f"from {readable(options.since)}" if options.since is not None else "from the start"
    until = f"before {readable(options.until)}" if options.until is not None else "to now"
    return f"Period: {since}, {until}"


# --- JSON and CSV -------------------------------------------------------------------------------------------


def as_json(report: Report) -> dict[str, Any]:
    options = report.options
    return {
        "report": "disclosures",
        "period": {
            "since": when(options.since),
            "until": when(options.until),
            "first": when(report.summary.first),
            "last": when(report.summary.last),
        },
        "by": options.by.value,
        "interval": report.interval.value,
        "include_admins": options.include_admins,
        "summary": {
            k: when(v) if k in ("first", "last") else v for k, v in dataclasses.asdict(report.summary).items()
        },
        "groups": [dataclasses.asdict(r) for r in report.groups],
        "volume": [dataclasses.asdict(r) for r in report.volume],
        "exposure": [dataclasses.asdict(r) for r in report.exposure],
        "reciprocity": [dataclasses.asdict(r) for r in report.reciprocity],
        "latency": [dataclasses.asdict(r) for r in report.latency],
    }


def csv_rows(report: Report) -> Iterator[tuple[str, str, str, str, object]]:
    """Tidy rows (section, period, group, metric, value): every figure of the report, one per row."""
    document = as_json(report)
    for key in ("by", "interval", "include_admins"):
        yield "report", "", "", key, document[key]
    for key, value in document["period"].items():
        yield "period", "", "", key, value if value is not None else ""
    for key, value in document["summary"].items():
        if key not in ("first", "last"):
            yield "summary", "", "", key, value
    sections = (
        ("groups", "group", ""),
        ("volume", "group", "period"),
        ("exposure", "country", ""),
        ("reciprocity", "partner", ""),
        ("latency", "tier", ""),
    )
    for section, group_key, period_key in sections:
        for row in document[section]:
            for metric, value in row.items():
                if metric not in (group_key, period_key):
                    shown = "" if value is None else value
                    yield section, row.get(period_key, ""), row[group_key], metric, shown


def as_csv(report: Report) -> str:
    return csv_text(csv_rows(report))


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """A report's rows as CSV under `CSV_HEADER` (section, period, group, metric, value)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return buffer.getvalue()


# --- tables for a terminal ----------------------------------------------------------------------------------


def group_heading(report: Report) -> str:
    """What the groups are, in words (`--by tier` is the recipient's trust tier)."""
    return {"tier": "trust tier", "tlp": "TLP"}.get(report.options.by.value, report.options.by.value)


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]], words: int = 1) -> Table:
    """A table whose first `words` columns are text (left-aligned) and the rest figures."""
    table = Table(title=title, title_justify="left", title_style="bold")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i < words else "right")
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    return table


def tables(report: Report) -> list[Table]:
    s = report.summary
    summary = [(label, getattr(s, key)) for key, label in SUMMARY_LABELS.items()]
    if s.admin_responses:
        summary.append(("left out: responses to administrators", s.admin_responses))
    by = group_heading(report)
    return [
        _table("Summary", ("", "count"), summary),
        _table(
            f"By {by}",
            (by, "partners", "responses", "disclosures", "distinct"),
            [(r.group, r.partners, r.responses, r.disclosures, r.distinct) for r in report.groups],
        ),
        _table(
            f"Volume per {report.interval.value} (disclosures, distinct in brackets)",
            (report.interval.value, *_volume_groups(report)),
            _volume_pivot(report),
        ),
        _table(
            "Exposure of sensitive tiers and restricted TLP, by recipient country (distinct)",
            ("country", "partners", "sensitive", "offensive", "AMBER+STRICT", "RED", "any", "raw", "of all"),
            [_exposure_cells(r) for r in report.exposure],
        ),
        _table(
            "Reciprocity (distinct object versions)",
            ("partner", "country", "trust tier", "gave", "received", "disclosures"),
            [
                (r.partner, r.country, r.trust_tier, r.gave, r.received, r.disclosures)
                for r in report.reciprocity
            ],
            words=3,
        ),
        _table(
            "Time from ingest to first release",
            ("object tier", "released", "ingest known", "median", "90th percentile"),
            [
                (r.tier, r.released, r.known, duration(r.median_seconds), duration(r.p90_seconds))
                for r in report.latency
            ],
        ),
    ]


def _exposure_cells(r: ExposureRow) -> tuple[object, ...]:
    return (
        r.country,
        r.partners,
        r.sensitive,
        r.offensive,
        r.amber_strict,
        r.red,
        r.any,
        r.disclosures,
        r.total,
    )


def _volume_groups(report: Report) -> list[str]:
    return sorted({r.group for r in report.volume})


def _volume_pivot(report: Report) -> list[list[object]]:
    names = _volume_groups(report)
    cells: dict[str, dict[str, str]] = {}
    for r in report.volume:
        cells.setdefault(r.period, {})[r.group] = f"{r.disclosures:,} ({r.distinct:,})"
    return [[period, *(row.get(g, "0 (0)") for g in names)] for period, row in sorted(cells.items())]


def print_tables(report: Report, console: Console) -> None:
    console.print("[bold]Disclosures from this exchange[/]", highlight=False)
    console.print(f"{period_text(report)}; grouped by {group_heading(report)}", highlight=False)
    for table in tables(report):
        console.print(table)


# --- HTML ---------------------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } .period { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.6rem 0 1.2rem; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child, .text { text-align: left; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: 0.92rem; margin-top: 0.3rem; }
.note { color: #555; font-size: 0.9rem; }
"""


def _html_table(columns: Sequence[str], rows: Sequence[Sequence[object]], words: int = 1) -> str:
    """A table whose first `words` columns are text (left-aligned) and the rest figures."""
    text = ' class="text"'

    def cells(tag: str, values: Sequence[object]) -> str:
        return "".join(
            f"<{tag}{text if 0 < i < words else ''}>{html.escape(_cell(v))}</{tag}>"
            for i, v in enumerate(values)
        )

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', columns)}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _charts() -> ModuleType:
    # Imported on first use: matplotlib takes a moment to load (and builds its font cache on first run),
    # which no other command should pay for.
    from gesher.ledger_service import report_charts

    return report_charts


def as_html(report: Report, generated: str | None = None) -> str:
    """One self-contained page: title, period, a summary table, then each section with its chart (inline
    SVG), a plain-language caption and its table."""
    title = "Disclosures from this exchange"
    parts = [
        f"<h1>{title}</h1>",
        f'<p class="period">{html.escape(period_text(report))}. '
        f"Grouped by {html.escape(group_heading(report))}."
        + (f" Generated {html.escape(generated)}." if generated else "")
        + "</p>",
        _summary_section(report),
        _volume_section(report),
        _exposure_section(report),
        _reciprocity_section(report),
        _latency_section(report),
        _reading_notes(report),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>gesher: {title}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )


def _summary_section(report: Report) -> str:
    s = report.summary
    rows = [(label, getattr(s, key)) for key, label in SUMMARY_LABELS.items()]
    if s.admin_responses:
        rows.append(("left out: responses to administrator accounts", s.admin_responses))
        rows.append(("left out: object versions they held", s.admin_disclosures))
    by = group_heading(report)
    group_rows = [(r.group, r.partners, r.responses, r.disclosures, r.distinct) for r in report.groups]
    return (
        "<h2>Summary</h2>"
        + _html_table(("", "count"), rows)
        + f"<h3>By {html.escape(by)}</h3>"
        + _html_table((by, "partners", "responses", "disclosures", "distinct"), group_rows)
    )


def _volume_section(report: Report) -> str:
    s, by, step = report.summary, group_heading(report), report.interval.value
    if not report.volume:
        return "<h2>Volume over time</h2><p>No object was disclosed to a partner in this period.</p>"
    caption = (
        f"Each bar is one {step}; its height is the number of object versions disclosed to partners in that "
        f"{step}, coloured by {by}. In all, {s.disclosures:,} object versions went out in "
        f"{s.responses:,} responses; counting each partner and object version once, {s.distinct:,}."
    )
    return "<h2>Volume over time</h2>" + _figure(_charts().volume_chart(report.volume, step, by), caption)


def _exposure_section(report: Report) -> str:
    rows = report.exposure
    table = _html_table(
        ("country", "partners", "sensitive", "offensive", "AMBER+STRICT", "RED", "any", "raw", "of all"),
        [_exposure_cells(r) for r in rows],
    )
    exposed = [r for r in rows if r.any]
    head = "<h2>Exposure of sensitive material by country</h2>"
    if not exposed:
        return (
            head
            + "<p>No sensitive or offensive tier, nor TLP:AMBER+STRICT or RED, was disclosed.</p>"
            + table
        )
    top = exposed[0]
    caption = (
        "For each recipient country, how many distinct (partner, object version) disclosures were of the "
        "sensitive or offensive tier, or marked TLP:AMBER+STRICT or TLP:RED (one disclosure can be both a "
        f"tier and a TLP). {top.country} received the most: {top.any:,} of its {top.total:,}."
    )
    return head + _figure(_charts().exposure_chart(rows), caption) + table


def _reciprocity_section(report: Report) -> str:
    rows = report.reciprocity
    table = _html_table(
        ("partner", "country", "trust tier", "gave", "received", "disclosures"),
        [(r.partner, r.country, r.trust_tier, r.gave, r.received, r.disclosures) for r in rows],
        words=3,
    )
    head = "<h2>Reciprocity</h2>"
    if not any(r.gave or r.received for r in rows):
        return head + "<p>No partner gave or received anything in this period.</p>" + table
    takers = [r.partner for r in rows if r.received and not r.gave]
    caption = (
        "For each partner, the object versions it contributed (gave) and the distinct object versions it "
        "received in the period. "
        + (f"Received without giving: {', '.join(takers[:10])}." if takers else "Every recipient also gave.")
    )
    return head + _figure(_charts().reciprocity_chart(rows), caption) + table


def _latency_section(report: Report) -> str:
    rows = report.latency
    table = _html_table(
        ("object tier", "released", "ingest time known", "median", "90th percentile"),
        [(r.tier, r.released, r.known, duration(r.median_seconds), duration(r.p90_seconds)) for r in rows],
    )
    head = "<h2>Time from ingest to first release</h2>"
    overall = rows[-1] if rows else None
    if overall is None or not overall.known:
        return head + "<p>No object version was first released in this period with a known ingest time.</p>"
    caption = (
        "For each object version first disclosed to any partner in this period, the time between its ingest "
        "and that first disclosure, by the object's sensitivity tier. Half were released within "
        f"{duration(overall.median_seconds)}, nine in ten within {duration(overall.p90_seconds)}."
    )
    return head + _figure(_charts().latency_chart(rows), caption) + table


def _reading_notes(report: Report) -> str:
    admins = (
        "Reads by the exchange's own administrator accounts are included."
        if report.options.include_admins
        else "Reads by the exchange's own administrator accounts are not counted as disclosures."
    )
    notes = (
        "A disclosure is one object version served to one partner in one TAXII response, as the "
        "disclosure ledger records it; distinct counts each partner and object version once. "
        "Country and trust tier are the recipient's as registered now. An object's tier and TLP are "
        "those of its markings, or the sharing policy's defaults where it carries none. "
        "The ledger itself is checked by `gesher ledger verify`. " + admins
    )
    return f'<h2>How to read this report</h2><p class="note">{html.escape(notes)}</p>'
