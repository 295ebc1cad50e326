"""`gesher report disclosures`: impact reports over the disclosure ledger for oversight (issue 6, item 5).

What is counted and how is `gesher.ledger_service.impact`'s docstring; the README has the short version."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import orjson
import typer
from rich.console import Console

from gesher.cli.context import out, state
from gesher.ledger_service.impact import By, Interval, Options, parse_when
from gesher.ledger_service.report_render import as_csv, as_html, as_json, print_tables
from gesher.ledger_service.reports import disclosures_report

app = typer.Typer(help="Impact reports over the disclosure ledger.", no_args_is_help=True)


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


def _since(value: str | None) -> int | None:
    return _when(value, end=False)


def _until(value: str | None) -> int | None:
    return _when(value, end=True)


def _when(value: str | None, end: bool) -> int | None:
    if value is None:
        return None
    try:
        return parse_when(value, end=end)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


@app.command("disclosures")
def disclosures(
    ctx: typer.Context,
    since: str | None = typer.Option(
        None, help="Start: a date (YYYY-MM-DD, UTC) or a time with its zone (2026-11-23T09:15:00Z)."
    ),
    until: str | None = typer.Option(
        None, help="End: a date (that whole day included) or a time (excluded)."
    ),
    by: By = typer.Option(
        By.COUNTRY,
        help="Group by the recipient's country, the recipient, its trust tier, or the object's TLP.",
    ),
    fmt: Format = typer.Option(Format.TABLE, "--format", help="Output format; html renders charts."),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False, help="Write to this file."),
    interval: Interval = typer.Option(Interval.AUTO, help="The volume chart's step."),
    include_admins: bool = typer.Option(
        False, help="Also count reads by the exchange's administrator accounts."
    ),
) -> None:
    """Who received what: volumes over time, exposure of sensitive tiers by country, reciprocity, and time
    from ingest to first release."""
    start, end = _since(since), _until(until)
    if start is not None and end is not None and start >= end:
        raise typer.BadParameter("--until must be after --since", param_hint="'--until'")
    options = Options(start, end, by, interval, include_admins)
    node = state(ctx).node()
    with node.db.read() as conn:
        report = disclosures_report(conn, options)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if fmt is Format.TABLE:
        if output is None:
            print_tables(report, out)
        else:
            with output.open("w", encoding="utf-8") as handle:
                print_tables(report, Console(file=handle, width=140, color_system=None))
        return
    text = {
        Format.CSV: lambda: as_csv(report),
        Format.JSON: lambda: orjson.dumps(as_json(report), option=orjson.OPT_INDENT_2).decode() + "\n",
        Format.HTML: lambda: as_html(report, generated),
    }[fmt]()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"report written to {output}", highlight=False)
