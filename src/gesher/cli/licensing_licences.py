"""`gesher licence ...`: marketing and export licence applications (screened automatically at submission),
the officers' decisions, and licences (suspend, reinstate, revoke) with their append-only history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import typer
from rich.markup import escape
from rich.table import Column, Table
from sqlalchemy import Connection

from gesher.cli import licensing_reports
from gesher.cli.context import out, print_json, state
from gesher.cli.licensing import (
    ACTOR,
    ACTOR_HELP,
    AS_ROLE,
    JSON,
    ORG,
    ActingAs,
    acting,
    encoded,
    print_events,
    say,
)
from gesher.errors import InvalidRequest, NotFound
from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.conditions import (
    Condition,
    EndUseLimit,
    GovernmentEndUserOnly,
    GovernmentToGovernmentOnly,
    LicenceKind,
    NoReexport,
    ProhibitedTargets,
    ReportingDuty,
    TargetClass,
)
from gesher.licensing.history import Actor
from gesher.licensing.licences import Licence, LicenceState
from gesher.licensing_service import applications, history, licences, reporting
from gesher.store import licensing as store

app = typer.Typer(
    help="Marketing and export licences: apply (screening runs at once), confirm the classification, approve "
    "(offensive items: two distinct officers), deny, withdraw; suspend, reinstate, revoke.\n\n" + ACTOR_HELP,
    no_args_is_help=True,
)

CONDITION_HELP = (
    "end-use-limit[:YEARS], no-reexport, government-end-user-only, g2g-only, reporting:DAYS[:GRACE], "
    "prohibited-targets:CLASS[,CLASS]; repeat."
)


def parse_condition(text: str) -> Condition:
    """A typed licence condition from its command-line spelling (see CONDITION_HELP)."""
    name, _, arg = text.strip().partition(":")
    try:
        if name == "end-use-limit":
            return EndUseLimit(int(arg)) if arg else EndUseLimit()
        if name == "reporting":
            days, _, grace = arg.partition(":")
            return ReportingDuty(int(days), int(grace or 0))
        if name == "prohibited-targets":
            return ProhibitedTargets(frozenset(TargetClass(c.strip()) for c in arg.split(",") if c.strip()))
    except ValueError as exc:
        raise InvalidRequest(f"condition {text!r}: {exc}") from None
    simple: dict[str, Callable[[], Condition]] = {
        "no-reexport": NoReexport,
        "government-end-user-only": GovernmentEndUserOnly,
        "g2g-only": GovernmentToGovernmentOnly,
    }
    if name in simple and not arg:
        return simple[name]()
    raise InvalidRequest(f"unknown condition {text!r}: one of {CONDITION_HELP}")


def application_json(a: Application) -> dict[str, object]:
    return {**encoded(a), "state": a.state.value}


def print_application(a: Application, as_json: bool, licence: Licence | None = None) -> None:
    if as_json:
        print_json({**application_json(a), "licence": encoded(licence) if licence else None})
        return
    where = ", ".join(a.countries)
    party = f" to {a.end_user}" if a.end_user else ""
    out.print(f"[bold]{a.id}[/] {a.kind.value} application: {escape(a.item)}{escape(party)} ({where})")
    say(f"  state: {a.state.value}  tier: {a.tier.value}  vendor: {a.vendor}  applicant: {a.applicant}")
    if a.recommendation is not None:
        say(f"  recommendation: {a.recommendation.verdict.value}")
        for r in a.recommendation.reasons:
            say(f"    - [{r.verdict.value}] {r.code}: {r.text}")
    for x in a.approvals:
        extra = f" with {', '.join(c.text for c in x.conditions)}" if x.conditions else ""
        say(f"  approved by {x.officer} ({x.role}){extra}: {x.reason}")
    if a.decision_reason:
        say(f"  decision: {a.decision_reason}")
    if licence is not None:
        print_licence(licence, False)


def print_licence(x: Licence, as_json: bool) -> None:
    if as_json:
        print_json(encoded(x))
        return
    party = f" to {x.end_user}" if x.end_user else ""
    out.print(
        f"[bold]{x.id}[/] {x.kind.value} licence: {escape(x.item)}{escape(party)} ({', '.join(x.countries)})"
    )
    say(f"  state: {x.state.value}  valid {x.valid_from} to {x.valid_until}  application {x.application}")
    for c in x.conditions:
        say(f"  condition: {c.text}")


@app.command("apply")
def apply(
    ctx: typer.Context,
    kind: LicenceKind = typer.Argument(..., help="marketing or export."),
    item: str = typer.Argument(..., help="The catalogued item."),
    country: list[str] = typer.Option(..., help="Target country (marketing) or the destination; repeat."),
    end_user: str = typer.Option("", help="Export: the end user."),
    end_use: str = typer.Option("", help="Export: the stated end use."),
    intermediary: list[str] | None = typer.Option(None, help="Export: an intermediary; repeat."),
    declaration_signed: bool = typer.Option(
        False, "--declaration-signed", help="The end-user declaration is signed."
    ),
    government: bool | None = typer.Option(
        None, "--government-end-user/--not-government", help="Whether the end user is a government end user."
    ),
    marketing_licence: str | None = typer.Option(None, help="Export: the marketing licence it rests on."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """A vendor drafts and submits an application in one step; screening runs at once and recommends, with
    its reasons. Refused (nothing stored) without a signed declaration or a marketing licence."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        draft = applications.draft(
            node, conn, who, kind, item, tuple(country), end_user=end_user, end_use=end_use,
            intermediaries=tuple(intermediary or ()), declaration_signed=declaration_signed,
            marketing_licence=marketing_licence, end_user_government=government,
        )  # fmt: skip
        submitted = applications.submit(node, conn, who, draft.id)
    print_application(submitted, as_json)


@app.command("confirm-classification")
def confirm_classification(
    ctx: typer.Context,
    application_id: str = typer.Argument(..., metavar="APP"),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer confirms the item's classification; the recommendation is made again with it."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        done = applications.confirm_classification(node, conn, who, application_id)
    print_application(done, as_json)


@app.command("approve")
def approve(
    ctx: typer.Context,
    application_id: str = typer.Argument(..., metavar="APP"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    condition: list[str] | None = typer.Option(None, help=CONDITION_HELP),
    validity_days: int | None = typer.Option(None, help="Validity of the licence issued (days)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer approves; the approval that decides the application issues the licence."""
    who = acting(as_, org, actor_name)
    conditions = tuple(parse_condition(c) for c in condition or ())
    node = state(ctx).node()
    with node.db.write() as conn:
        done = applications.approve(
            node, conn, who, application_id, reason, conditions, validity_days=validity_days
        )
    print_application(done.application, as_json, done.licence)


@app.command("deny")
def deny(
    ctx: typer.Context,
    application_id: str = typer.Argument(..., metavar="APP"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer denies an open application."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        done = applications.deny(node, conn, who, application_id, reason)
    print_application(done, as_json)


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    application_id: str = typer.Argument(..., metavar="APP"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """The vendor (or an officer) withdraws an application before a decision."""
    who = acting(as_, org, actor_name)
    node = state(ctx).node()
    with node.db.write() as conn:
        done = applications.withdraw(node, conn, who, application_id, reason)
    print_application(done, as_json)


def _either(conn: Connection, who: Actor, ident: str) -> Application | Licence:
    try:
        return licences.licence_of(conn, who, ident)
    except NotFound:
        pass
    try:
        return applications.application_of(conn, who, ident)
    except NotFound:
        raise NotFound(f"no application or licence {ident!r}") from None


@app.command("show")
def show(
    ctx: typer.Context,
    ident: str = typer.Argument(..., metavar="APP|LICENCE"),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An application (the recommendation with every reason, approvals, state) or a licence."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        found = _either(conn, who, ident)
    if isinstance(found, Licence):
        print_licence(found, as_json)
    else:
        print_application(found, as_json)


@app.command("list")
def list_(
    ctx: typer.Context,
    vendor: str | None = typer.Option(None, help="Only this vendor's."),
    state_: str | None = typer.Option(
        None, "--state", help="Only in this state (an application's or a licence's)."
    ),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """The applications and licences the actor may see (a vendor: its own)."""
    who = acting(as_, org, actor_name)
    known = {s.value for s in ApplicationState} | {s.value for s in LicenceState}
    if state_ is not None and state_ not in known:
        raise InvalidRequest(f"unknown state {state_!r}: one of {', '.join(sorted(known))}")
    with state(ctx).node().db.read() as conn:
        apps = applications.applications_of(conn, who)
        issued = licences.licences_of(conn, who)

    def wanted(x: Application | Licence) -> bool:
        return (vendor is None or x.vendor == vendor) and (state_ is None or x.state.value == state_)

    apps, issued = [a for a in apps if wanted(a)], [x for x in issued if wanted(x)]
    if as_json:
        print_json(
            {"applications": [application_json(a) for a in apps], "licences": [encoded(x) for x in issued]}
        )
        return
    table = Table("kind", "item", "vendor", "countries", "end user", "state")
    table.columns.insert(0, Column("id", no_wrap=True))
    rows: list[Application | Licence] = [*apps, *issued]
    for x in rows:
        what = f"{x.kind.value} {'application' if isinstance(x, Application) else 'licence'}"
        table.add_row(
            x.id,
            what,
            escape(x.item),
            escape(x.vendor),
            ",".join(x.countries),
            escape(x.end_user),
            x.state.value,
        )
    out.print(table)


def _licence_change(
    ctx: typer.Context, action: str, licence_id: str, reason: str, who: Actor, as_json: bool
) -> None:
    node = state(ctx).node()
    call = {"suspend": licences.suspend, "reinstate": licences.reinstate, "revoke": licences.revoke}[action]
    with node.db.write() as conn:
        done = call(node, conn, who, licence_id, reason)
    print_licence(done, as_json)


@app.command("suspend")
def suspend(
    ctx: typer.Context,
    licence_id: str = typer.Argument(..., metavar="LICENCE"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer suspends an active licence."""
    _licence_change(ctx, "suspend", licence_id, reason, acting(as_, org, actor_name), as_json)


@app.command("reinstate")
def reinstate(
    ctx: typer.Context,
    licence_id: str = typer.Argument(..., metavar="LICENCE"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer reinstates a suspended licence."""
    _licence_change(ctx, "reinstate", licence_id, reason, acting(as_, org, actor_name), as_json)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    licence_id: str = typer.Argument(..., metavar="LICENCE"),
    reason: str = typer.Option(..., help="Why (recorded)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """An officer revokes a licence (final)."""
    _licence_change(ctx, "revoke", licence_id, reason, acting(as_, org, actor_name), as_json)


SUBJECT_KINDS = ("licence", "application", "project", "misuse", "item")


@app.command("history")
def history_(
    ctx: typer.Context,
    ident: str = typer.Argument(
        ..., metavar="ID", help="A licence, application, project, misuse report or item."
    ),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """The append-only history of one subject: every transition with actor, time and reason. A licence's
    history starts with its application's."""
    who = acting(as_, org, actor_name)
    with state(ctx).node().db.read() as conn:
        kind = next((k for k in SUBJECT_KINDS if store.events(conn, k, ident)), None)
        if kind is None:
            raise NotFound(f"no history for {ident!r}")
        events = history.history_of(conn, who, kind, ident)
        if kind == "licence":
            licence = licences.licence_of(conn, who, ident)
            events = history.history_of(conn, who, "application", licence.application) + events
    print_events(events, as_json)


@app.command("report")
def report(
    ctx: typer.Context,
    licence_id: str = typer.Argument(..., metavar="LICENCE"),
    summary: str = typer.Option(..., help="What the usage report says (recorded)."),
    received_on: str | None = typer.Option(None, help="The day it was filed, YYYY-MM-DD (default: today)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """Record a periodic usage report filed under a licence's reporting duty (the vendor's own licence)."""
    day = _day(received_on) if received_on else date.today()
    node = state(ctx).node()
    with node.db.write() as conn:
        event = reporting.record_report(node, conn, acting(as_, org, actor_name), licence_id, day, summary)
    if as_json:
        print_json({"licence": licence_id, "received_on": day.isoformat(), "at": event.at.isoformat()})
    else:
        say(f"report of {day} recorded under {licence_id}")


@app.command("sweep")
def sweep(
    ctx: typer.Context,
    today: str | None = typer.Option(None, help="Sweep as of this day, YYYY-MM-DD (default: today)."),
    as_: ActingAs = AS_ROLE,
    org: str | None = ORG,
    actor_name: str | None = ACTOR,
    as_json: bool = JSON,
) -> None:
    """The periodic run (from cron): expire licences past their validity, and flag, once each, every report
    a reporting duty made due that was not received. Exits 3 while any report is overdue."""
    node = state(ctx).node()
    with node.db.write() as conn:
        done = reporting.sweep(node, conn, acting(as_, org, actor_name), _day(today) if today else None)
    missed = [{"licence": m.licence, "due_on": m.due_on.isoformat(), "days_overdue": m.days_overdue}
              for m in done.missed]  # fmt: skip
    if as_json:
        print_json({"expired": list(done.expired), "missed": missed, "newly_flagged": len(done.flagged)})
    else:
        out.print(
            f"expired: {', '.join(done.expired) or 'none'}; overdue reports: {len(missed)}", highlight=False
        )
        for m in missed:
            out.print(
                f"  {m['licence']}: due {m['due_on']}, {m['days_overdue']} days overdue", highlight=False
            )
    if missed:
        raise typer.Exit(3)


app.command("overview")(licensing_reports.overview)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest(f"{value[:20]!r} is not a date (YYYY-MM-DD)") from None
