"""`gesher licence overview --by item|vendor|country`: the report issue 5 asks for under "Everything
recorded" (what is licensed where, what was refused and why, what is open), as a table, JSON or CSV. Not to
be confused with `gesher licence report`, which records a periodic usage report under a licence."""

from __future__ import annotations

import sys
from enum import StrEnum

import orjson
import typer
from rich.markup import escape
from rich.table import Table

from gesher.cli.context import out, state
from gesher.cli.licensing import ACTOR, AS_ROLE, ORG, ActingAs, acting
from gesher.licensing_service import overview as reports
from gesher.licensing_service.overview import By

SHOWN = ("group", "record", "id", "kind", "item", "vendor", "countries", "end_user", "state", "reason")


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


def overview(
    ctx: typer.Context,
    by: By = typer.Option(..., "--by", help="Group by item, vendor or country."),
    format_: Format = typer.Option(Format.TABLE, "--format", help="table, json or csv."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
) -> None:
    """What is licensed where (every licence and its state today), what was refused and why, and what is
    still open, per item, vendor or country. Officers see every vendor's; a vendor its own, without the
    officers' parts of a refusal (reason codes, who decided). A marketing licence counts under each of its
    countries."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        groups = reports.overview(conn, who, by)
    if format_ == Format.CSV:
        sys.stdout.write(reports.as_csv(groups))
    elif format_ == Format.JSON:
        data = {"by": By(by).value, "groups": [reports.group_json(g) for g in groups]}
        sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        _table(groups)


def _table(groups: tuple[reports.Group, ...]) -> None:
    table = Table(*SHOWN)
    for row in reports.rows(groups):
        table.add_row(*(escape(row[c]) for c in SHOWN))
    out.print(table)
    for g in groups:
        summary = f"{g.key}: {g.in_force} in force, {len(g.refused)} refused, {len(g.pending)} open"
        out.print(escape(summary), highlight=False)
