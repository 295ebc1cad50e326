"""`gesher screen`, `gesher vet` and `gesher watchlist ...`: denied-party screening and partner vetting."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection

from gesher.cli.context import actor, out, print_json, state
from gesher.errors import InvalidRequest
from gesher.partners import screening, service, vetting, watchlists
from gesher.screening.loaders import SHIPPED, shipped_file
from gesher.stix.timestamps import format_micros
from gesher.store import vetting as records
from gesher.store import watchlists as watchlist_store
from gesher.store.partners import PartnerRow

watchlist_app = typer.Typer(help="Load and list denied-party watchlists.", no_args_is_help=True)


def screen(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The name to screen (an organisation or a person)."),
    country: str | None = typer.Option(None, help="ISO 3166-1 alpha-2 country of the named party."),
    schema: str | None = typer.Option(None, help="Person, Company, Organization or LegalEntity."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Screen a name against the watchlists in force; the result (and the list versions used) is recorded."""
    node = state(ctx).node()
    with node.db.write() as conn:
        result = screening.screen_query(node.screeners, conn, actor(), name, country, schema)
    if as_json:
        print_json(result.as_json())
        return
    for line in result.explanation_lines():
        out.print(line, highlight=False)


def vet(
    ctx: typer.Context,
    partner: str | None = typer.Argument(None, help="Partner name (omit with --due)."),
    due: bool = typer.Option(False, "--due", help="Vet every partner whose vetting is due."),
    history: bool = typer.Option(False, "--history", help="Show the partner's vetting history instead."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Assess a partner: country profile, screening of it and its owners, agreements; a proposed tier with
    reasons. An officer then decides with `gesher partner approve-tier`."""
    node = state(ctx).node()
    if (partner is None) == (not due):
        raise InvalidRequest("name one partner, or give --due")
    with node.db.write() as conn:
        if history:
            _history(conn, service.require_partner(conn, partner or ""), as_json)
            return
        chosen = (
            vetting.due(conn, node.settings.revet_days)
            if due
            else [service.require_partner(conn, partner or "")]
        )
        done = [vetting.vet(node, conn, actor(), p) for p in chosen]
    if as_json:
        print_json([v.as_json() for v in done] if due else done[0].as_json())
        return
    if due and not done:
        out.print("no partner is due for vetting")
    for v in done:
        _print_vetting(v)


def _print_vetting(v: vetting.Vetting) -> None:
    a = v.assessment
    tier = f"tier {int(a.proposed_tier)}" if a.proposed_tier is not None else "no tier"
    flags = [f for f, on in (("BLOCKED", a.blocking), ("needs review", a.needs_review)) if on]
    out.print(
        f"[bold]{escape(v.partner.name)}[/]: proposed {tier}, risk {a.composite_risk.value} {' '.join(flags)}"
    )
    out.print(
        f"  screening: {v.screening.outcome}"
        + (f" ({'; '.join(v.screening.hits)})" if v.screening.hits else "")
    )
    for owner, s in v.owners:
        via = f" via {owner.via}" if owner.via else ""
        out.print(f"  owner {owner.organisation.legal_name}{via}: {s.outcome}", highlight=False)
    for r in a.reasons:
        out.print(f"  - {escape(f'[{r.effect.value}]')} {r.text}", highlight=False)
    if v.cut_off:
        out.print(f"  [bold red]{v.partner.name} is listed: suspended and its tokens revoked[/]")


def _history(conn: Connection, partner: PartnerRow, as_json: bool) -> None:
    events = records.events_of(conn, partner.id)
    rows = [
        {"at": format_micros(e.at), "actor": e.actor, "action": e.action, "proposed_tier": e.proposed_tier,
         "tier": e.tier, "risk": e.risk, "reason": e.reason}
        for e in events
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    table = Table("at", "actor", "action", "proposed", "tier", "risk", "reason")
    for r in rows:
        table.add_row(*(str(v) if v is not None else "" for v in r.values()))
    out.print(table)


@watchlist_app.command("load")
def load(
    ctx: typer.Context,
    path: Path | None = typer.Argument(
        None, help="Watchlist file: gesher JSON, FollowTheMoney JSON lines or CSV."
    ),
    shipped: bool = typer.Option(False, "--shipped", help="Load the spyware watchlist shipped with gesher."),
    name: str | None = typer.Option(None, help="List name, when the file does not carry one."),
    version: str | None = typer.Option(None, help="List version, when the file does not carry one."),
    published: str | None = typer.Option(None, help="Publication date YYYY-MM-DD, when the file has none."),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Load a list version (all or nothing) and re-screen every partner against the lists in force at once."""
    if (path is None) == (not shipped):
        raise InvalidRequest("give a watchlist FILE or --shipped")
    if shipped:
        data, filename = shipped_file(), SHIPPED
    else:
        assert path is not None
        if not path.is_file():
            raise InvalidRequest(f"{path}: no such file")
        data, filename = path.read_bytes(), path.name
    day = _date(published) if published else None
    node = state(ctx).node()
    with node.db.write() as conn:
        done = watchlists.update(node, conn, actor(), data, filename, reason, name, version, day)
    if as_json:
        print_json(done.as_json())
        return
    for w in done.loaded.lists:
        kind = "confidential, members unpublished" if w.confidential else f"{len(w.entries)} entries"
        out.print(f"loaded {w.name} version {w.version} ({kind})", highlight=False)
    rescreen = done.rescreen
    out.print(f"re-screened {rescreen.screened} partner(s)")
    for label, names in (("cut off", rescreen.cut_off), ("to review", rescreen.review),
                         ("delisted, to review (not reinstated)", rescreen.delisted)):  # fmt: skip
        if names:
            out.print(f"  {label}: {', '.join(names)}", highlight=False)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"published date {value[:20]!r} must be YYYY-MM-DD") from None


@watchlist_app.command("list")
def list_(
    ctx: typer.Context,
    every: bool = typer.Option(False, "--all", help="Every version ever loaded, not only those in force."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The watchlists in force (the newest version of each)."""
    with state(ctx).node().db.read() as conn:
        found = watchlist_store.history(conn) if every else watchlist_store.in_force(conn)
    rows = [
        {"name": w.name, "version": w.version, "published": w.published, "confidential": w.confidential,
         "entries": w.entries, "file": w.filename, "loaded_by": w.actor}
        for w in found
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    table = Table("name", "version", "published", "confidential", "entries", "file", "loaded by")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    out.print(table)
