"""`gesher alerts ...`: early-warning alerts from the command line (issue 7): list them with how far the
high-level ones are acknowledged, record a partner's acknowledgement given another way (a phone call), and
the periodic escalation sweep (cron)."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from gesher.cli.context import out, print_json, state
from gesher.errors import InvalidRequest, NotFound
from gesher.partners.service import principal_by_name
from gesher.warning.observations import parse_time
from gesher.warning_service import acknowledgements, alerts, escalation

app = typer.Typer(
    help="Early-warning alerts. Without a command: list them, oldest first (analyst view), with how many "
    "of the partners expected to acknowledge each alert at or above the escalation level did. "
    "`ack`: record a partner's acknowledgement; `escalate`: the escalation sweep (cron)."
)

JSON = typer.Option(False, "--json", help="Print JSON.")


@app.callback(invoke_without_command=True)
def listing(ctx: typer.Context, as_json: bool = JSON) -> None:
    """List early-warning alerts, oldest first (analyst view: token and true reporter count). Alerts at or
    above the escalation level also show how many of the partners expected to acknowledge them did, and
    the escalation stage reached."""
    if ctx.invoked_subcommand is not None:
        return
    node = state(ctx).node()
    with node.db.read() as conn:
        found = alerts.listing(conn)
        statuses = acknowledgements.statuses(conn, node.clearance, node.warning_config)
    for a in found:
        status = statuses.get(str(a["id"]))
        if status is not None:
            a["acknowledged"], a["expected"] = status.acknowledged, status.expected
            a["escalation_stage"] = max(status.stages, default=0)
    if as_json:
        print_json(found)
        return
    if not found:
        out.print("no alerts")
    for a in found:
        acked = ""
        if "expected" in a:
            acked = f"  acknowledged {a['acknowledged']}/{a['expected']}"
            acked += f", escalated (stage {a['escalation_stage']})" if a["escalation_stage"] else ""
        out.print(
            f"{a['raised_at']}  L{a['level']}  {a['token']}  {a['organisations']} organisations  "
            f"{a['rule']}  {a['id']}{acked}",
            highlight=False,
            markup=False,
        )


@app.command("ack")
def ack(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="The alert's id (its summary report's id)."),
    partner: str = typer.Option(..., "--partner", help="The partner acknowledging it."),
    actor_name: str = typer.Option(
        ..., "--actor", help="Who records it, e.g. the analyst who took the call (recorded as cli:NAME)."
    ),
    note: str | None = typer.Option(None, help="A note (at most 2,000 characters), e.g. how it was given."),
    as_json: bool = JSON,
) -> None:
    """Record a partner's acknowledgement of an alert it may read, given another way (a phone call). The
    first acknowledgement counts; it is a ledger entry."""
    name = actor_name.strip()
    if not (0 < len(name) <= 100 and name.isprintable()):
        raise InvalidRequest("--actor must be a name of 1 to 100 printable characters")
    node = state(ctx).node()
    with node.db.write() as conn:
        principal = principal_by_name(conn, partner)
        try:
            done = acknowledgements.acknowledge(
                conn, node.clearance, principal, alert_id, f"cli:{name}", note, datetime.now(UTC)
            )
        except NotFound:
            raise NotFound(f"no alert {alert_id[:300]!r} that {partner} may read") from None
    if as_json:
        print_json(done.as_json() | {"created": done.created})
        return
    verb = "acknowledged" if done.created else "had already acknowledged"
    out.print(
        f"{partner} {verb} {alert_id} at {done.as_json()['acknowledged_at']} ({done.actor})",
        highlight=False,
        markup=False,
    )


@app.command("escalate")
def escalate(
    ctx: typer.Context,
    at: str | None = typer.Option(
        None, help="Sweep as of this time (RFC 3339 or epoch seconds; default now)."
    ),
    as_json: bool = JSON,
) -> None:
    """The periodic run (from cron): escalate each alert at or above the escalation level that partners
    expected to acknowledge have not, stage 1 at the deadline and stage 2 at twice it, once each (ledger
    entries), re-sent to the pending partners' webhooks and put on the incident board; print what
    escalated. Exits 3 when something escalated."""
    now = _time(at) if at else datetime.now(UTC)
    node = state(ctx).node()
    with node.db.write() as conn:
        done = escalation.escalate(conn, node, now)
    if as_json:
        print_json([e.as_json() for e in done])
    else:
        out.print(f"escalated: {len(done)}", highlight=False)
        for e in done:
            out.print(
                f"  {e.alert_id} L{e.level} stage {e.stage}: pending {', '.join(e.names)}",
                highlight=False,
                markup=False,
            )
    if done:
        raise typer.Exit(3)


def _time(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError as exc:
        raise InvalidRequest(f"--at: {exc}") from None
