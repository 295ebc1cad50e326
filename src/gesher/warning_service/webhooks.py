"""Partners' webhooks for early-warning alerts (issue 7, "Alerts out": "optionally to webhooks (signed,
retried with back-off, delivery recorded in the ledger)").

A webhook belongs to a partner and wants alerts from `min_level` up. When an alert is published,
`enqueue` writes one outbox row per wanting webhook in the same transaction (so an alert is never raised
without its deliveries, nor a delivery queued for an alert rolled back). Delivery happens after commit,
in `webhook_delivery`: what is sent is read through the one policy function as that partner, recorded in
the ledger, signed (`webhook_signing`) and retried with back-off. Everything here runs in the caller's
transaction; every change is an audit event with its actor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import Connection

from gesher.errors import InvalidRequest, NotFound
from gesher.partners.service import require_partner
from gesher.stix.timestamps import format_micros, now_micros
from gesher.store import audit
from gesher.store import webhooks as store
from gesher.store.webhooks import DeliveryRow, WebhookRow
from gesher.warning_service.webhook_urls import check_url

EVENTS = ("alert", "escalation")
MAX_PER_PARTNER = 10  # a partner's hooks multiply every alert's deliveries: keep the fan-out bounded
LEVELS = range(1, 4)  # L1 watch, L2 campaign, L3 national (issue 7)


def register(
    conn: Connection,
    partner_name: str,
    url: str,
    min_level: int,
    actor: str,
    allow_loopback_http: bool = False,
) -> WebhookRow:
    """A new webhook for `partner_name`: alerts at `min_level` or above it may read are POSTed to `url`.
    `allow_loopback_http`: an operator (CLI) may register plain http to a loopback receiver."""
    if min_level not in LEVELS:
        raise InvalidRequest(f"--min-level {min_level} must be 1 (watch), 2 (campaign) or 3 (national)")
    check_url(url, allow_loopback_http)
    partner = require_partner(conn, partner_name)
    if store.active_count(conn, partner.id) >= MAX_PER_PARTNER:
        raise InvalidRequest(f"{partner.name} already has {MAX_PER_PARTNER} webhooks: remove one first")
    webhook_id = store.add(conn, partner.id, url, min_level, now_micros(), actor)
    audit.record(
        conn, actor, "webhook.add", f"partner:{partner.name}", webhook=webhook_id, url=url, level=min_level
    )
    found = store.by_id(conn, webhook_id)
    assert found is not None
    return found


def listing(conn: Connection, partner_name: str | None = None, removed: bool = False) -> list[WebhookRow]:
    partner_id = require_partner(conn, partner_name).id if partner_name else None
    return store.listing(conn, partner_id, removed)


def require(
    conn: Connection, webhook_id: int, partner_id: int | None = None, active: bool = False
) -> WebhookRow:
    """The webhook, or NotFound (also when it is another partner's, given `partner_id`, or removed and
    `active` is asked for)."""
    found = store.by_id(conn, webhook_id) if 0 < webhook_id < 2**31 else None
    if found is None or (partner_id is not None and found.partner_id != partner_id):
        raise NotFound(f"no webhook {webhook_id}")
    if active and found.removed_at is not None:
        raise NotFound(f"no webhook {webhook_id}")
    return found


def remove(conn: Connection, webhook_id: int, actor: str, reason: str = "removed") -> WebhookRow:
    """Deactivate a webhook (the row stays: deliveries refer to it); its pending deliveries are withheld."""
    found = require(conn, webhook_id)
    if not store.set_removed(conn, webhook_id, now_micros()):
        raise InvalidRequest(f"webhook {webhook_id} was already removed")
    withheld = store.withhold_pending(conn, webhook_id, f"webhook {reason}")
    audit.record(
        conn,
        actor,
        "webhook.remove",
        f"partner:{found.partner}",
        webhook=webhook_id,
        reason=reason,
        withheld=withheld,
    )
    return require(conn, webhook_id)


def enqueue(
    conn: Connection,
    alert_id: str,
    level: int,
    event: str = "alert",
    partner_ids: Sequence[int] | None = None,
    stage: int = 0,
) -> int:
    """Queue `event` of the alert for every active webhook wanting `level` whose partner is in good standing
    (and among `partner_ids`, if given), in the caller's transaction; returns how many webhooks it targets
    (each queued once per event and escalation `stage`).
    Whether the partner may receive anything is decided at delivery, by the policy."""
    if event not in EVENTS:
        raise InvalidRequest(f"webhook event {event!r} must be one of {', '.join(EVENTS)}")
    targets = store.targets(conn, level, partner_ids)
    store.add_deliveries(conn, [w for w, _ in targets], alert_id, event, now_micros(), stage)
    return len(targets)


def deliveries(conn: Connection, alert_id: str | None = None) -> list[DeliveryRow]:
    return store.deliveries(conn, alert_id)


def webhook_json(row: WebhookRow) -> dict[str, object]:
    out = asdict(row)
    out["created_at"] = format_micros(row.created_at)
    out["removed_at"] = format_micros(row.removed_at) if row.removed_at else None
    return out


def delivery_json(row: DeliveryRow) -> dict[str, object]:
    out = asdict(row)
    for name in ("next_attempt_at", "created_at", "delivered_at"):
        value = out[name]
        out[name] = format_micros(value) if isinstance(value, int) else None
    return out
