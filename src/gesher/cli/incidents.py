"""`gesher incidents ...`: the national incident board (issue 7, "Incident board").

`gesher incidents` alone prints the board (open and contained incidents); the subcommands open, link,
contain, close, reopen, show and report. Every change is one transaction: the incident, its event row and
its ledger entry together, or nothing (a concurrent change is refused with its reason)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import orjson
import typer
from rich.console import Console

from gesher.cli.context import actor as default_actor
from gesher.cli.context import out, print_json, state
from gesher.errors import InvalidRequest
from gesher.ledger_service.impact import parse_when
from gesher.warning.incidents import Action, State, micros_of, month_bounds
from gesher.warning_service import incident_render as render
from gesher.warning_service import incidents

app = typer.Typer(
    help="The national incident board: incidents linked to alerts, sightings and sectors.",
    invoke_without_command=True,
)

_REASON = typer.Option(..., "--reason", help="Why (recorded with the change and in the ledger).")
_ACTOR = typer.Option(None, "--actor", help="Who acts (default: cli:<your user name>).")


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@app.callback()
def board(
    ctx: typer.Context,
    everything: bool = typer.Option(False, "--all", help="Every incident, closed ones too."),
    month: str | None = typer.Option(None, help="Incidents open or contained at some time in YYYY-MM."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The board: open and contained incidents with their level, age, alerts and sectors hit."""
    if ctx.invoked_subcommand is not None:
        return
    node = state(ctx).node()
    states = None if everything or month else (State.OPEN, State.CONTAINED)
    with node.db.read() as conn:
        rows = incidents.listing(conn, datetime.now(UTC), states, month, node.warning_config.ruleset.longest)
    if as_json:
        print_json(render.board_json(rows))
        return
    heading = (
        "Incidents" if everything else "Incidents in " + month if month else "Open and contained incidents"
    )
    render.print_board(rows, out, heading)


@app.command("show")
def show(
    ctx: typer.Context,
    incident: int = typer.Argument(..., help="The incident's number."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """One incident: its history, its alerts, the sectors and countries they reached, time to alert."""
    node = state(ctx).node()
    with node.db.read() as conn:
        detail = incidents.show(conn, incident, node.warning_config.ruleset.longest)
    if as_json:
        print_json(render.detail_json(detail))
    else:
        render.print_detail(detail, out)


@app.command("open")
def open_command(
    ctx: typer.Context,
    title: str = typer.Option(..., "--title", help="What the incident is, in a few words."),
    alert: list[str] = typer.Option([], "--alert", help="An alert to link (repeat for more)."),
    level: int | None = typer.Option(
        None, "--level", min=1, max=3, help="1-3; default: its alerts' highest."
    ),
    reason: str = _REASON,
    actor: str | None = _ACTOR,
) -> None:
    """Open an incident from one or more alerts."""
    with state(ctx).node().db.write() as conn:
        opened = incidents.open_incident(conn, title, level, actor or default_actor(), reason, alert, _now())
    out.print(f"incident {opened.id} opened: L{opened.level}, {len(alert)} alert(s)", highlight=False)


@app.command("link")
def link(
    ctx: typer.Context,
    incident: int = typer.Argument(..., help="The incident's number."),
    alert: str = typer.Argument(..., help="The alert's id (see `gesher alerts`)."),
    reason: str = typer.Option("", "--reason", help="Why (default: the alert is named)."),
    actor: str | None = _ACTOR,
) -> None:
    """Link an alert to an open or contained incident (its level rises to the alert's if higher)."""
    with state(ctx).node().db.write() as conn:
        linked = incidents.link(conn, incident, alert, actor or default_actor(), _now(), reason)
    out.print(f"incident {linked.id}: {alert} linked (L{linked.level}, {linked.state})", highlight=False)


_VERSION = typer.Option(
    None,
    "--expect-version",
    help="The version you looked at (`incidents show`): refused if it changed since.",
)


def _change(
    ctx: typer.Context, action: Action, incident: int, reason: str, actor: str | None, version: int | None
) -> None:
    with state(ctx).node().db.write() as conn:
        who = actor or default_actor()
        changed = incidents.change(conn, incident, action, who, reason, _now(), version)
    out.print(f"incident {changed.id} is {changed.state} (version {changed.version})", highlight=False)


@app.command("contain")
def contain(
    ctx: typer.Context,
    incident: int = typer.Argument(...),
    reason: str = _REASON,
    actor: str | None = _ACTOR,
    version: int | None = _VERSION,
) -> None:
    """open -> contained."""
    _change(ctx, Action.CONTAIN, incident, reason, actor, version)


@app.command("close")
def close(
    ctx: typer.Context,
    incident: int = typer.Argument(...),
    reason: str = _REASON,
    actor: str | None = _ACTOR,
    version: int | None = _VERSION,
) -> None:
    """contained -> closed."""
    _change(ctx, Action.CLOSE, incident, reason, actor, version)


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    incident: int = typer.Argument(...),
    reason: str = _REASON,
    actor: str | None = _ACTOR,
    version: int | None = _VERSION,
) -> None:
    """contained or closed -> open."""
    _change(ctx, Action.REOPEN, incident, reason, actor, version)


@app.command("report")
def report(
    ctx: typer.Context,
    month: str | None = typer.Option(None, help="One month, YYYY-MM (UTC)."),
    since: str | None = typer.Option(None, help="Start: a date (YYYY-MM-DD, UTC) or a time with its zone."),
    until: str | None = typer.Option(
        None, help="End: a date (that whole day included) or a time (excluded)."
    ),
    fmt: Format = typer.Option(Format.TABLE, "--format", help="Output format; html renders charts."),
    output: Path | None = typer.Option(None, "--output", "-o", dir_okay=False, help="Write to this file."),
) -> None:
    """Attacks and incidents per month, concurrent incidents over time, sectors hit, and time from first
    sighting to alert."""
    start, end = _period(month, since, until)
    node = state(ctx).node()
    with node.db.read() as conn:
        found = incidents.report(conn, start, end, node.warning_config.ruleset.longest)
    if fmt is Format.TABLE:
        if output is None:
            render.print_tables(found, out)
        else:
            with output.open("w", encoding="utf-8") as handle:
                render.print_tables(found, Console(file=handle, width=140, color_system=None))
        return
    now = datetime.now(UTC)
    text = {
        Format.CSV: lambda: render.as_csv(found),
        Format.JSON: lambda: orjson.dumps(render.as_json(found), option=orjson.OPT_INDENT_2).decode() + "\n",
        Format.HTML: lambda: render.as_html(found, now.strftime("%Y-%m-%d %H:%M UTC"), micros_of(now)),
    }[fmt]()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        out.print(f"report written to {output}", highlight=False)


def _period(month: str | None, since: str | None, until: str | None) -> tuple[int | None, int | None]:
    if month is not None:
        if since is not None or until is not None:
            raise InvalidRequest("give --month or --since/--until, not both")
        try:
            return month_bounds(month)
        except ValueError as error:
            raise InvalidRequest(f"--month: {error}") from None
    try:
        start = parse_when(since) if since is not None else None
        end = parse_when(until, end=True) if until is not None else None
    except ValueError as error:
        raise InvalidRequest(str(error)) from None
    if start is not None and end is not None and start >= end:
        raise InvalidRequest("--until must be after --since")
    return start, end


def _now() -> datetime:
    return datetime.now(UTC)
