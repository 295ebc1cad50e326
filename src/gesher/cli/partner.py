"""`gesher partner ...`"""

from __future__ import annotations

import typer
from rich.table import Table

from gesher.cli.context import actor, out, print_json, state
from gesher.errors import InvalidRequest
from gesher.licensing_service import roles
from gesher.partners import organisations, service, vetting
from gesher.stix.timestamps import format_micros
from gesher.store import partners as store
from gesher.store.licensing_roles import RoleRow

app = typer.Typer(help="Manage partners, their tokens and their grants.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name (its HTTP Basic user name)."),
    country: str = typer.Option(..., help="ISO 3166-1 alpha-2 country code."),
    kind: str = typer.Option(..., help="government, industry, isac, ngo or academia."),
    admin: bool = typer.Option(
        False, "--admin", help="Administrator of this exchange (reads and writes all)."
    ),
    legal_name: str | None = typer.Option(None, help="Registered legal name (screened; default: NAME)."),
    alias: list[str] | None = typer.Option(None, help="Other names it uses (screened); repeat the option."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a partner and print its API token (shown once; stored only as a hash). The partner is screened
    against the watchlists in force first: a match refuses the registration."""
    node = state(ctx).node()
    with node.db.write() as conn:
        partner, token = service.create_partner(conn, actor(), name, country, kind, admin)
        if legal_name or alias:
            organisations.set_record(conn, actor(), partner, legal_name, alias or None)
        if not admin:
            vetting.screen_registration(node, conn, actor(), partner)
    if as_json:
        print_json({"name": partner.name, "country": partner.country, "kind": partner.kind, "token": token})
    else:
        out.print(f"partner {partner.name} created; token (shown once): [bold]{token}[/]", highlight=False)


@app.command("grant")
def grant(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    collection: str = typer.Argument(..., help="Collection name or id."),
    read: bool = typer.Option(False, "--read", help="May read the collection."),
    write: bool = typer.Option(False, "--write", help="May add objects to the collection."),
) -> None:
    """Set a partner's access to a collection (no flags: remove access)."""
    with state(ctx).node().db.write() as conn:
        partner = service.require_partner(conn, name)
        target = service.require_collection(conn, collection)
        service.grant(conn, actor(), partner, target, read, write)
    rights = " and ".join(r for r, on in (("read", read), ("write", write)) if on) or "no access"
    out.print(f"{name}: {rights} on {target.name}")


@app.command("revoke-token")
def revoke_token(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    reason: str = typer.Option("revoked by operator", help="Why (recorded in the audit log)."),
) -> None:
    """Revoke every live token of a partner at once."""
    with state(ctx).node().db.write() as conn:
        count = service.revoke_tokens(conn, actor(), service.require_partner(conn, name), reason)
    out.print(f"{count} token(s) of {name} revoked")


@app.command("set")
def set_standing(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    tier: str | None = typer.Option(None, help="Trust tier 1 (closest allies) to 4 (restricted), or 'none'."),
    sectors: str | None = typer.Option(
        None, help="Comma-separated sectors, e.g. energy,finance ('' for none)."
    ),
    suspend: bool | None = typer.Option(
        None, "--suspend/--reinstate", help="Suspend (receives nothing) or reinstate."
    ),
    reliability: str | None = typer.Option(
        None, help="Admiralty source reliability A (completely reliable) to F (cannot be judged)."
    ),
    reason: str = typer.Option(..., help="Why (recorded in the audit log)."),
) -> None:
    """Change a partner's standing; it applies from the partner's next request. Its source reliability
    weighs its sightings in early warning's correlation."""
    chosen: int | str | None = "keep"
    if tier is not None:
        chosen = None if tier.strip().lower() == "none" else _tier(tier)
    listed = [s for s in sectors.split(",") if s.strip()] if sectors is not None else None
    with state(ctx).node().db.write() as conn:
        partner = service.require_partner(conn, name)
        updated = service.set_standing(conn, actor(), partner, reason, chosen, listed, suspend, reliability)
    state_word = "suspended" if updated.suspended else "active"
    out.print(
        f"{name}: trust tier {updated.trust_tier or 'none'}, sectors {updated.sectors or 'none'}, "
        f"reliability {updated.reliability}, {state_word}",
        highlight=False,
    )


def _tier(value: str) -> int:
    if not value.strip().isascii() or not value.strip().isdigit():
        raise InvalidRequest(f"trust tier {value[:20]!r} must be 1 to 4 or 'none'")
    return int(value)


@app.command("token")
def token(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Issue a new API token for a partner (shown once)."""
    with state(ctx).node().db.write() as conn:
        issued = service.issue_token(conn, actor(), service.require_partner(conn, name))
    if as_json:
        print_json({"name": name, "token": issued})
    else:
        out.print(f"new token for {name} (shown once): [bold]{issued}[/]", highlight=False)


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List partners."""
    with state(ctx).node().db.read() as conn:
        found = store.all_partners(conn)
    rows = [
        {
            "name": p.name,
            "country": p.country,
            "kind": p.kind,
            "admin": p.is_admin,
            "trust_tier": p.trust_tier,
            "sectors": p.sectors,
            "suspended": p.suspended,
            "reliability": p.reliability,
        }
        for p in found
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("name", "country", "kind", "admin", "trust tier", "sectors", "suspended", "reliability")
    for r in rows:
        table.add_row(*(str(v) for v in r.values()))
    out.print(table)


@app.command("approve-tier")
def approve_tier(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    tier: str = typer.Argument(..., help="Trust tier 1 (closest allies) to 4 (restricted), or 'none'."),
    reason: str = typer.Option(..., help="Why (recorded; an override of the proposal must say why)."),
) -> None:
    """Decide a partner's trust tier on its latest vetting: the proposed tier, or an override (with why)."""
    chosen = None if tier.strip().lower() == "none" else _tier(tier)
    with state(ctx).node().db.write() as conn:
        event = vetting.approve_tier(conn, actor(), service.require_partner(conn, name), chosen, reason)
    proposed = event.proposed_tier or "none"
    out.print(
        f"{name}: trust tier {event.tier or 'none'} {event.action} (proposed {proposed})", highlight=False
    )


@app.command("org")
def org(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    legal_name: str | None = typer.Option(None, help="Registered legal name (screened)."),
    alias: list[str] | None = typer.Option(None, help="Other names it uses (screened); repeat the option."),
    government_share: float | None = typer.Option(None, help="Share owned by a government, 0..1."),
) -> None:
    """Enter or change the organisation record behind a partner."""
    with state(ctx).node().db.write() as conn:
        partner = service.require_partner(conn, name)
        saved = organisations.set_record(conn, actor(), partner, legal_name, alias or None, government_share)
    aliases = ", ".join(saved.aliases) or "none"
    out.print(
        f"{name}: {saved.legal_name} (aliases {aliases}), government share {saved.government_share:.0%}"
    )


@app.command("owner")
def owner(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    owner_name: str = typer.Argument(..., help="Legal name of the owner (an organisation or a person)."),
    country: str | None = typer.Option(None, help="The owner's ISO 3166-1 alpha-2 country."),
    share: float | None = typer.Option(None, help="Share it holds, 0..1."),
) -> None:
    """Record an owner of a partner; owners are screened with the partner (a listed owner blocks it)."""
    with state(ctx).node().db.write() as conn:
        organisations.set_owner(
            conn, actor(), service.require_partner(conn, name), owner_name, country, share
        )
    out.print(
        f"{name}: owned by {owner_name}" + (f" ({share:.0%})" if share is not None else ""), highlight=False
    )


@app.command("licensing-role")
def licensing_role(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Partner name."),
    role: str | None = typer.Option(
        None, help="vendor, officer, senior-officer, or none (withdraw). Without it: show the role."
    ),
    org: str | None = typer.Option(
        None, "--org", help="The vendor's organisation (required for a vendor) or the officer's agency."
    ),
    reason: str | None = typer.Option(None, help="Why (recorded in the audit log; required with --role)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Give a partner account a role in export licensing over REST (default deny: without one, every
    licensing route answers 403), change or withdraw it; or show it and its history."""
    with state(ctx).node().db.write() as conn:
        partner = service.require_partner(conn, name)
        if role is not None:
            if not (reason or "").strip():
                raise InvalidRequest("--reason is required with --role")
            roles.set_role(conn, actor(), partner, role, org, reason or "")
        held, history = roles.role_of(conn, partner), roles.history_of(conn, partner)
    if as_json:
        print_json({"partner": name, "role": _role_json(held), "history": [_role_json(r) for r in history]})
        return
    summary = f"{held.role} of {held.organisation}" if held else "no licensing role"
    out.print(f"{name}: {summary}", highlight=False, markup=False)
    for r in history:
        line = f"  {format_micros(r.set_at)} {r.role} {r.organisation} by {r.actor}: {r.reason}"
        out.print(line, highlight=False, markup=False)


def _role_json(row: RoleRow | None) -> dict[str, object] | None:
    if row is None:
        return None
    return {"role": row.role, "organisation": row.organisation, "set_at": format_micros(row.set_at),
            "actor": row.actor, "reason": row.reason}  # fmt: skip
