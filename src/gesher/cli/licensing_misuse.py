"""`gesher misuse ...`: misuse reports (received -> investigated -> actioned) and their actions, whose cascade
(licences, open applications, denied parties, country and partner tiers) applies at once, in the same
transaction. Officers only."""

from __future__ import annotations

import typer
from rich.markup import escape
from sqlalchemy import Connection

from gesher.cli.context import out, print_json, state
from gesher.cli.licensing import ACTOR, ACTOR_HELP, AS_ROLE, JSON, ORG, ActingAs, acting, encoded, say
from gesher.errors import InvalidRequest
from gesher.exchange.node import Node
from gesher.licensing.conditions import TargetClass
from gesher.licensing.misuse import (
    Action,
    DenyEndUser,
    LowerCountryTier,
    LowerPartnerTier,
    MisuseFinding,
    MisuseReport,
    RevokeLicence,
    SuspendLicence,
)
from gesher.licensing_service import applications, misuse
from gesher.partners import service as partners
from gesher.policy.entitlement import TrustTier
from gesher.vetting.countries import ExportTier

NO_LIST = "none"  # a country on none of the operator's lists

app = typer.Typer(
    help="Misuse reports and the actions taken on them (each cascades at once).\n\n" + ACTOR_HELP,
    no_args_is_help=True,
)


def print_report(report: MisuseReport, as_json: bool) -> None:
    if as_json:
        print_json(encoded(report))
        return
    out.print(f"[bold]{report.id}[/] misuse report from {escape(report.source)}: {report.state.value}")
    say(f"  allegation: {report.summary}")
    for label, value in (("country", report.country), ("end user", report.end_user),
                         ("licences", ", ".join(report.licences)),
                         ("targets", ", ".join(sorted(t.value for t in report.targets))),
                         ("finding", report.finding.value if report.finding else "")):  # fmt: skip
        if value:
            say(f"  {label}: {value}")
    for action in report.actions:
        say(f"  action: {type(action).__name__} {encoded(action)}")


@app.command("report")
def report(
    ctx: typer.Context,
    source: str = typer.Option(..., help="Who reported it (e.g. Amnesty Tech)."),
    allegation: str = typer.Option(..., help="What is alleged."),
    country: str = typer.Option("", help="Country where the misuse took place."),
    end_user: str = typer.Option("", help="The end user alleged to misuse."),
    licence: list[str] | None = typer.Option(None, help="A licence concerned; repeat."),
    target: list[str] | None = typer.Option(None, help="Targeted class, e.g. journalists; repeat."),
    credibility: str = typer.Option("", help="An assessment of the source's credibility."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Record a misuse report (the history records it as received from SOURCE)."""
    who = acting(as_, org, actor_name)
    try:
        targets = frozenset(TargetClass(t) for t in target or ())
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from None
    node = state(ctx).node()
    with node.db.write() as conn:
        done = misuse.receive(
            node, conn, who, source, allegation, licences=tuple(licence or ()), country=country,
            end_user=end_user, targets=targets, credibility=credibility,
        )  # fmt: skip
    print_report(done, as_json)


@app.command("investigate")
def investigate(
    ctx: typer.Context,
    report_id: str = typer.Argument(..., metavar="ID"),
    finding: MisuseFinding = typer.Option(..., help="substantiated, unsubstantiated or inconclusive."),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Record the investigation's finding."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        done = misuse.investigate(node, conn, who, report_id, finding, reason)
    print_report(done, as_json)


@app.command("act")
def act(
    ctx: typer.Context,
    report_id: str = typer.Argument(..., metavar="ID"),
    suspend_licence: list[str] | None = typer.Option(None, help="Suspend this licence; repeat."),
    revoke_licence: list[str] | None = typer.Option(None, help="Revoke this licence; repeat."),
    deny_end_user: list[str] | None = typer.Option(
        None, help="Add this end user to the denied parties; repeat."
    ),
    lower_country: str | None = typer.Option(None, help="Lower this country's export tier (with --to-tier)."),
    lower_partner: str | None = typer.Option(None, help="Lower this partner's trust tier (with --to-tier)."),
    to_tier: str | None = typer.Option(None, help="The lower tier: A, B, C, none, EMBARGOED or 1-4."),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Take actions on a report (on receipt: interim suspensions only) and print what the cascade changed.
    A tier lowering is from the tier the country or partner has now."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        actions: list[Action] = [SuspendLicence(x) for x in suspend_licence or ()]
        actions += [RevokeLicence(x) for x in revoke_licence or ()]
        actions += [DenyEndUser(x) for x in deny_end_user or ()]
        actions += _lowering(node, conn, lower_country, lower_partner, to_tier)
        done = misuse.act(node, conn, who, report_id, tuple(actions), reason)
    c = done.cascade
    changed = {
        "report": encoded(done.report),
        "suspended_licences": [x.id for x in c.suspended_licences],
        "revoked_licences": [x.id for x in c.revoked_licences],
        "refused_applications": [a.id for a in c.refused_applications],
        "rescreened_applications": [f"{a.id}: {a.state.value}" for a in done.rescreened],
        "denied_parties": list(c.denied_parties),
        "denied_list_cut_off": list(done.denied_list.rescreen.cut_off) if done.denied_list else [],
        "countries_lowered": [f"{x.country}: {_tier(x.from_tier)} -> {_tier(x.to_tier)}"
                              for x in c.country_tier_changes],
        "partners_lowered": [f"{x.partner}: {int(x.from_tier)} -> {int(x.to_tier)}"
                             for x in c.partner_tier_changes],
    }  # fmt: skip
    if as_json:
        print_json(changed)
        return
    say(f"misuse report {done.report.id}: {done.report.state.value}")
    for label, values in changed.items():
        if label != "report" and values:
            say(f"  {label.replace('_', ' ')}: {', '.join(values)}")


def _tier(tier: ExportTier | None) -> str:
    return tier.value if tier else NO_LIST


def _lowering(
    node: Node, conn: Connection, country: str | None, partner: str | None, to: str | None
) -> list[Action]:
    if (country or partner) and not to:
        raise InvalidRequest("--lower-country and --lower-partner need --to-tier")
    if country and partner:
        raise InvalidRequest("lower a country or a partner in one command, not both (one --to-tier)")
    if not (country or partner):
        if to:
            raise InvalidRequest("--to-tier goes with --lower-country or --lower-partner")
        return []
    assert to is not None
    if country:
        current = applications.country_facts(node, conn, country).export_tier
        target = None if to.lower() == NO_LIST else _export_tier(to)
        return [LowerCountryTier(country.upper(), current, target)]
    assert partner is not None
    held = partners.require_partner(conn, partner).trust_tier
    if held is None:
        raise InvalidRequest(f"{partner} has no trust tier to lower")
    try:
        return [LowerPartnerTier(partner, TrustTier(held), TrustTier(int(to)))]
    except ValueError:
        raise InvalidRequest(f"a partner's trust tier is 1 (closest) to 4, not {to!r}") from None


def _export_tier(value: str) -> ExportTier:
    try:
        return ExportTier(value.upper())
    except ValueError:
        raise InvalidRequest(
            f"a country's export tier is A, B, C, {NO_LIST} or EMBARGOED, not {value!r}"
        ) from None


@app.command("show")
def show(
    ctx: typer.Context,
    report_id: str = typer.Argument(..., metavar="ID"),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """A misuse report: its state, finding and the actions taken (officers only)."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        found = misuse.report_of(conn, who, report_id)
    print_report(found, as_json)
