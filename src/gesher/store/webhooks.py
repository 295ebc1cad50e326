"""Webhooks and their outbox (issue 7, "Alerts out"): queries only. The services in
`gesher.warning_service.webhooks` and `webhook_delivery` decide what to do with them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from gesher.store.db import dialect_insert
from gesher.store.tables import alerts, partners, webhook_deliveries, webhooks

PENDING, DELIVERED, FAILED, WITHHELD = "pending", "delivered", "failed", "withheld"


@dataclass(frozen=True)
class WebhookRow:
    id: int
    partner_id: int
    partner: str  # the partner's name
    url: str
    min_level: int
    created_at: int
    created_by: str
    removed_at: int | None


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    webhook_id: int
    alert_id: str
    event: str
    stage: int
    state: str
    attempts: int
    next_attempt_at: int
    created_at: int
    delivered_at: int | None
    last_error: str | None
    ledger_index: int | None


_WEBHOOK_COLS = (
    webhooks.c.id,
    webhooks.c.partner_id,
    partners.c.name,
    webhooks.c.url,
    webhooks.c.min_level,
    webhooks.c.created_at,
    webhooks.c.created_by,
    webhooks.c.removed_at,
)
_WEBHOOKS = select(*_WEBHOOK_COLS).select_from(
    webhooks.join(partners, partners.c.id == webhooks.c.partner_id)
)
_DELIVERY_COLS = tuple(webhook_deliveries.c[name] for name in DeliveryRow.__dataclass_fields__)


def add(conn: Connection, partner_id: int, url: str, min_level: int, now: int, actor: str) -> int:
    values = {"partner_id": partner_id, "url": url, "min_level": min_level, "created_at": now}
    key = conn.execute(webhooks.insert().values(**values, created_by=actor[:200])).inserted_primary_key
    assert key is not None
    return int(key[0])


def by_id(conn: Connection, webhook_id: int) -> WebhookRow | None:
    row = conn.execute(_WEBHOOKS.where(webhooks.c.id == webhook_id)).first()
    return WebhookRow(*row) if row else None


def listing(conn: Connection, partner_id: int | None = None, removed: bool = False) -> list[WebhookRow]:
    stmt = _WEBHOOKS.order_by(webhooks.c.id)
    if partner_id is not None:
        stmt = stmt.where(webhooks.c.partner_id == partner_id)
    if not removed:
        stmt = stmt.where(webhooks.c.removed_at.is_(None))
    return [WebhookRow(*r) for r in conn.execute(stmt)]


def active_count(conn: Connection, partner_id: int) -> int:
    stmt = select(webhooks.c.id).where(webhooks.c.partner_id == partner_id, webhooks.c.removed_at.is_(None))
    return len(conn.execute(stmt).all())


def set_removed(conn: Connection, webhook_id: int, now: int) -> bool:
    """Deactivate a webhook; False when it was already inactive."""
    stmt = update(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.removed_at.is_(None))
    return bool(conn.execute(stmt.values(removed_at=now)).rowcount)


def withhold_pending(conn: Connection, webhook_id: int, reason: str) -> int:
    """Every pending delivery of a webhook marked withheld (it was removed): nothing more is sent."""
    stmt = update(webhook_deliveries).where(
        webhook_deliveries.c.webhook_id == webhook_id, webhook_deliveries.c.state == PENDING
    )
    return int(conn.execute(stmt.values(state=WITHHELD, last_error=reason)).rowcount)


def targets(conn: Connection, level: int, partner_ids: Sequence[int] | None = None) -> list[tuple[int, int]]:
    """(webhook id, partner id) of active webhooks wanting alerts of `level`, of partners not suspended."""
    stmt = (
        select(webhooks.c.id, webhooks.c.partner_id)
        .select_from(webhooks.join(partners, partners.c.id == webhooks.c.partner_id))
        .where(
            webhooks.c.removed_at.is_(None),
            partners.c.suspended.is_(False),
            webhooks.c.min_level <= level,
        )
        .order_by(webhooks.c.id)
    )
    if partner_ids is not None:
        stmt = stmt.where(webhooks.c.partner_id.in_(sorted(set(partner_ids))))
    return [(int(w), int(p)) for w, p in conn.execute(stmt)]


def add_deliveries(
    conn: Connection, webhook_ids: Sequence[int], alert_id: str, event: str, now: int, stage: int = 0
) -> None:
    """One pending outbox row per webhook; a row already there for (webhook, alert, event, stage) is kept."""
    rows = [
        {
            "webhook_id": w,
            "alert_id": alert_id,
            "event": event,
            "stage": stage,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for w in webhook_ids
    ]
    if rows:
        conn.execute(dialect_insert(conn, webhook_deliveries).on_conflict_do_nothing(), rows)


def any_due(conn: Connection, now: int) -> bool:
    """Whether some delivery is due (a cheap read, so an idle poller takes no write lock)."""
    stmt = select(webhook_deliveries.c.id).where(
        webhook_deliveries.c.state == PENDING, webhook_deliveries.c.next_attempt_at <= now
    )
    return conn.execute(stmt.limit(1)).first() is not None


def claim_due(conn: Connection, now: int, lease_until: int, limit: int) -> list[DeliveryRow]:
    """Due pending deliveries, leased to the caller until `lease_until` (their `next_attempt_at`), in the
    caller's short write transaction. Rows another transaction holds are skipped (FOR UPDATE SKIP LOCKED on
    PostgreSQL; SQLite's write lock serialises claims), so two workers never claim the same row."""
    stmt = (
        select(*_DELIVERY_COLS)
        .where(webhook_deliveries.c.state == PENDING, webhook_deliveries.c.next_attempt_at <= now)
        .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = [DeliveryRow(*r) for r in conn.execute(stmt)]
    if rows:
        ids = [r.id for r in rows]
        conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(ids))
            .values(next_attempt_at=lease_until)
        )
    return rows


def settle(conn: Connection, delivery_id: int, lease_until: int, **values: object) -> bool:
    """Update a leased delivery (its outcome); False when the lease was lost meanwhile."""
    stmt = update(webhook_deliveries).where(
        webhook_deliveries.c.id == delivery_id,
        webhook_deliveries.c.state == PENDING,
        webhook_deliveries.c.next_attempt_at == lease_until,
    )
    return bool(conn.execute(stmt.values(**values)).rowcount)


def deliveries(conn: Connection, alert_id: str | None = None, limit: int = 1000) -> list[DeliveryRow]:
    stmt = select(*_DELIVERY_COLS).order_by(webhook_deliveries.c.id.desc()).limit(limit)
    if alert_id is not None:
        stmt = stmt.where(webhook_deliveries.c.alert_id == alert_id)
    return [DeliveryRow(*r) for r in conn.execute(stmt)][::-1]


def alert_of(conn: Connection, alert_id: str) -> tuple[int, str] | None:
    """(level, published JSON) of an alert."""
    row = conn.execute(select(alerts.c.level, alerts.c.published).where(alerts.c.id == alert_id)).first()
    return (int(row[0]), str(row[1])) if row else None
