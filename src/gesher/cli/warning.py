"""`gesher sighting ...`: early warning from the command line (issue 7).

An operator records what a partner reported (one value, or a sensor/SIEM export file) on its behalf; the
sightings are attributed to that partner, correlated, and may raise alerts, exactly as over TAXII."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from gesher.cli.context import out, state
from gesher.errors import InvalidRequest
from gesher.partners.service import require_partner
from gesher.warning.observations import SIGHTING_NAMES, Format, parse_time
from gesher.warning_service import observation_files, sightings
from gesher.warning_service.sightings import Outcome, Report

app = typer.Typer(help="Record partners' sightings (values or observation files).", no_args_is_help=True)

_PARTNER = typer.Option(..., "--partner", help="The reporting partner (its sectors and country count).")


@app.command("add")
def add(
    ctx: typer.Context,
    value: str = typer.Argument(..., help="The observed value (domain, IP address, URL, e-mail, hash)."),
    partner: str = _PARTNER,
    kind: str = typer.Option("sighting", "--type", help="sighting, false-positive or expiration."),
    time: str | None = typer.Option(None, help="When it was seen (RFC 3339 or epoch seconds); default now."),
    value_type: str | None = typer.Option(None, "--value-type", help="Declared type; default: by shape."),
) -> None:
    """Record one sighting of a value by a partner."""
    if kind not in SIGHTING_NAMES:
        raise InvalidRequest(f"--type {kind!r} must be sighting, false-positive or expiration")
    now = datetime.now(tz=UTC)
    when = _time(time) if time else now
    report = sightings.value_report(value, when, SIGHTING_NAMES[kind], value_type)
    _record(ctx, partner, [report], now, "cli")


@app.command("load")
def load(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="CSV or JSON lines observation files (one format)."
    ),
    partner: str = _PARTNER,
    fmt: Format | None = typer.Option(None, "--format", help="csv or jsonl; default: by the first suffix."),
) -> None:
    """Match observation files against the indicators and recent sightings, and record what matches as
    the partner's sightings: every file whole, or nothing (line-precise errors). Unmatched values are not
    kept."""
    now = datetime.now(tz=UTC)
    chosen = fmt or (Format.CSV if files[0].suffix.lower() == ".csv" else Format.JSONL)
    node = state(ctx).node()
    with node.db.write() as conn:
        reporter = require_partner(conn, partner)
        loaded = observation_files.load(
            conn, reporter, files, chosen, now, node.warning_config, node.identity
        )
    out.print(
        f"{loaded.matched} matching observation(s) in {len(files)} file(s); "
        f"{loaded.reports} sighting(s) recorded for {partner} ({loaded.outcome.stored} row(s))",
        highlight=False,
    )
    _alerts(loaded.outcome)


def _time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise InvalidRequest(f"--time: {exc}") from None


def _record(ctx: typer.Context, name: str, reports: list[Report], now: datetime, source: str) -> None:
    node = state(ctx).node()
    with node.db.write() as conn:
        reporter = require_partner(conn, name)
        done: Outcome = sightings.record(
            conn, reporter, reports, now, node.warning_config, node.identity, source
        )
    out.print(f"{len(reports)} sighting(s) recorded for {name} ({done.stored} row(s))", highlight=False)
    _alerts(done)


def _alerts(done: Outcome) -> None:
    for p in done.alerts:
        a = p.raised.alert
        out.print(f"alert {p.id}: {a.rule} ({p.raised.token})", highlight=False)
