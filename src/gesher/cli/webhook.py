"""`gesher webhook ...`: partners' webhooks for early-warning alerts (issue 7, "Alerts out").

Alerts a partner may read are POSTed to its webhooks, signed (Ed25519, Standard Webhooks), recorded in the
ledger before sending and retried with back-off; `gesher serve` delivers continuously, `deliver` runs one
pass (cron, tests)."""

from __future__ import annotations

import typer
from rich.table import Table

from gesher.cli.context import actor, out, print_json, state
from gesher.warning_service import webhook_signing, webhooks
from gesher.warning_service.webhook_delivery import deliver_due

app = typer.Typer(help="Partners' webhooks for early-warning alerts.", no_args_is_help=True)
_JSON = typer.Option(False, "--json", help="Print JSON.")


@app.command("add")
def add(
    ctx: typer.Context,
    url: str = typer.Argument(..., help="https URL (plain http only to 127.0.0.1, ::1 or localhost)."),
    partner: str = typer.Option(..., "--partner", help="The partner that receives the alerts."),
    min_level: int = typer.Option(1, "--min-level", help="Lowest alert level sent: 1, 2 or 3."),
    as_json: bool = _JSON,
) -> None:
    """Register a webhook: alerts the partner may read, at --min-level or above, are POSTed to URL."""
    node = state(ctx).node()
    with node.db.write() as conn:
        hook = webhooks.register(conn, partner, url, min_level, actor(), allow_loopback_http=True)
        public = webhook_signing.signer(conn, node.settings).public
    if as_json:
        print_json(webhooks.webhook_json(hook) | {"public_key": public})
        return
    out.print(f"webhook {hook.id} for {hook.partner}: {hook.url} (L{hook.min_level}+)", highlight=False)
    out.print(f"deliveries are signed; verify with {public}", highlight=False)


@app.command("list")
def list_(
    ctx: typer.Context,
    partner: str | None = typer.Option(None, "--partner", help="Only this partner's."),
    removed: bool = typer.Option(False, "--removed", help="Include removed webhooks."),
    as_json: bool = _JSON,
) -> None:
    """List webhooks."""
    with state(ctx).node().db.read() as conn:
        found = [webhooks.webhook_json(w) for w in webhooks.listing(conn, partner, removed)]
    if as_json:
        print_json(found)
        return
    table = Table("id", "partner", "url", "min level", "created", "by", "removed")
    for w in found:
        row = (
            w["id"],
            w["partner"],
            w["url"],
            w["min_level"],
            w["created_at"],
            w["created_by"],
            w["removed_at"],
        )
        table.add_row(*(str(v) if v is not None else "" for v in row))
    out.print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    webhook_id: int = typer.Argument(
        ..., min=1, max=2**31 - 1, help="The webhook's id (see `gesher webhook list`)."
    ),
    reason: str = typer.Option("removed by operator", help="Why (recorded in the audit log)."),
) -> None:
    """Deactivate a webhook; its pending deliveries are withheld."""
    with state(ctx).node().db.write() as conn:
        hook = webhooks.remove(conn, webhook_id, actor(), reason)
    out.print(f"webhook {hook.id} of {hook.partner} removed", highlight=False)


@app.command("deliver")
def deliver(ctx: typer.Context, as_json: bool = _JSON) -> None:
    """Deliver what is due now, once (`gesher serve` does this every second)."""
    done = deliver_due(state(ctx).node())
    if as_json:
        print_json([a.__dict__ for a in done.attempts])
        return
    counts = ", ".join(
        f"{done.count(o)} {o}" for o in ("delivered", "retry", "failed", "withheld", "deferred", "lost")
    )
    out.print(f"{len(done.attempts)} due: {counts}", highlight=False)
    for a in done.attempts:
        if a.error:
            out.print(f"  delivery {a.delivery_id}: {a.outcome} ({a.error})", highlight=False)


@app.command("key")
def key(ctx: typer.Context) -> None:
    """Print the public key partners verify webhook signatures with (whpk_..., Ed25519)."""
    node = state(ctx).node()
    with node.db.write() as conn:
        public = webhook_signing.signer(conn, node.settings).public
    out.print(public, highlight=False, soft_wrap=True)


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    alert: str | None = typer.Option(None, "--alert", help="Only this alert's (its summary report id)."),
    as_json: bool = _JSON,
) -> None:
    """The outbox: each delivery's state, attempts, next attempt, last error and ledger entry."""
    with state(ctx).node().db.read() as conn:
        found = [webhooks.delivery_json(d) for d in webhooks.deliveries(conn, alert)]
    if as_json:
        print_json(found)
        return
    table = Table("id", "webhook", "alert", "event", "state", "attempts", "when", "ledger", "last error")
    for c in ("id", "webhook", "event", "state", "attempts", "ledger"):
        next(col for col in table.columns if col.header == c).no_wrap = True
    for d in found:
        when = d["delivered_at"] if d["state"] == "delivered" else d["next_attempt_at"]
        row = [d[c] for c in ("id", "webhook_id", "alert_id", "event", "state", "attempts")]
        row += [when, d["ledger_index"], d["last_error"]]
        table.add_row(*(str(v) if v is not None else "" for v in row))
    out.print(table)
