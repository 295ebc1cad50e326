"""Acknowledgements and escalations of alerts (issue 7, "Partners acknowledge alerts; unacknowledged
high-level alerts escalate"). Inserts are idempotent under concurrency: the first acknowledgement of a
partner counts, and an alert escalates once per stage, whichever worker or cron run gets there first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, bindparam, select

from gesher.store.db import dialect_insert
from gesher.store.tables import alert_acknowledgements, alert_escalations, alerts

acks = alert_acknowledgements
escalations = alert_escalations


@dataclass(frozen=True)
class AlertRow:
    """An alert as acknowledgement and escalation need it (times in microseconds since the epoch)."""

    id: str
    level: int
    rule: str
    raised_at: int


@dataclass(frozen=True)
class Acknowledgement:
    alert_id: str
    partner_id: int
    at: int
    actor: str
    note: str


_ALERT_COLUMNS = (alerts.c.id, alerts.c.level, alerts.c.rule, alerts.c.raised_at)
_ALERT = select(*_ALERT_COLUMNS).where(alerts.c.id == bindparam("id"))


def alert(conn: Connection, alert_id: str) -> AlertRow | None:
    row = conn.execute(_ALERT, {"id": alert_id}).first()
    return AlertRow(str(row[0]), int(row[1]), str(row[2]), int(row[3])) if row else None


def alerts_from(conn: Connection, level: int, raised_by: int | None = None) -> list[AlertRow]:
    """Alerts at or above `level` (raised at or before `raised_by`, if given), oldest first."""
    stmt = select(*_ALERT_COLUMNS).where(alerts.c.level >= level)
    if raised_by is not None:
        stmt = stmt.where(alerts.c.raised_at <= raised_by)
    stmt = stmt.order_by(alerts.c.raised_at, alerts.c.id)
    return [AlertRow(str(i), int(lv), str(r), int(at)) for i, lv, r, at in conn.execute(stmt)]


def unfinished(conn: Connection, level: int, raised_by: int, last_stage: int) -> list[AlertRow]:
    """Alerts at or above `level` raised at or before `raised_by` that have not escalated to `last_stage`
    (the sweep's candidates: one query, whatever the number of alerts long settled)."""
    done = select(escalations.c.id).where(
        escalations.c.alert_id == alerts.c.id, escalations.c.stage >= last_stage
    )
    stmt = (
        select(*_ALERT_COLUMNS)
        .where(alerts.c.level >= level, alerts.c.raised_at <= raised_by, ~done.exists())
        .order_by(alerts.c.raised_at, alerts.c.id)
    )
    return [AlertRow(str(i), int(lv), str(r), int(at)) for i, lv, r, at in conn.execute(stmt)]


def add(conn: Connection, row: Acknowledgement) -> bool:
    """Store an acknowledgement unless the partner acknowledged the alert already; True if stored."""
    values = {"alert_id": row.alert_id, "partner_id": row.partner_id, "at": row.at}
    stmt = dialect_insert(conn, acks).values(**values, actor=row.actor, note=row.note)
    # RETURNING, not rowcount: psycopg reports a row count for a conflicting INSERT ... DO NOTHING.
    return conn.execute(stmt.on_conflict_do_nothing().returning(acks.c.at)).first() is not None


_ONE = select(acks.c.alert_id, acks.c.partner_id, acks.c.at, acks.c.actor, acks.c.note).where(
    acks.c.alert_id == bindparam("alert"), acks.c.partner_id == bindparam("partner")
)


def of(conn: Connection, alert_id: str, partner_id: int) -> Acknowledgement | None:
    row = conn.execute(_ONE, {"alert": alert_id, "partner": partner_id}).first()
    return Acknowledgement(str(row[0]), int(row[1]), int(row[2]), str(row[3]), str(row[4])) if row else None


def acknowledged_by(conn: Connection, alert_ids: Sequence[str]) -> dict[str, set[int]]:
    """For each of these alerts, the partners that acknowledged it."""
    found: dict[str, set[int]] = {a: set() for a in alert_ids}
    if not alert_ids:
        return found
    stmt = select(acks.c.alert_id, acks.c.partner_id).where(acks.c.alert_id.in_(sorted(set(alert_ids))))
    for alert_id, partner_id in conn.execute(stmt):
        found[str(alert_id)].add(int(partner_id))
    return found


def acknowledged(conn: Connection, partner_id: int) -> set[str]:
    """The alerts this partner acknowledged."""
    stmt = select(acks.c.alert_id).where(acks.c.partner_id == partner_id)
    return {str(a) for (a,) in conn.execute(stmt)}


def add_escalation(conn: Connection, alert_id: str, stage: int, at: int, pending: Sequence[int]) -> bool:
    """Record that the alert escalated to `stage` with these partners pending, unless it already had;
    True if recorded."""
    values = {
        "alert_id": alert_id,
        "stage": stage,
        "at": at,
        "pending": orjson.dumps(sorted(pending)).decode(),
    }
    stmt = dialect_insert(conn, escalations).values(**values).on_conflict_do_nothing()
    return conn.execute(stmt.returning(escalations.c.id)).first() is not None


def stages(conn: Connection, alert_ids: Sequence[str]) -> dict[str, set[int]]:
    """For each of these alerts, the stages it escalated to."""
    found: dict[str, set[int]] = {a: set() for a in alert_ids}
    if not alert_ids:
        return found
    stmt = select(escalations.c.alert_id, escalations.c.stage).where(
        escalations.c.alert_id.in_(sorted(set(alert_ids)))
    )
    for alert_id, stage in conn.execute(stmt):
        found[str(alert_id)].add(int(stage))
    return found


def escalation_rows(conn: Connection, alert_id: str) -> list[tuple[int, int, list[int]]]:
    """(stage, at, pending partner ids) of the alert's escalations, in stage order."""
    stmt = (
        select(escalations.c.stage, escalations.c.at, escalations.c.pending)
        .where(escalations.c.alert_id == alert_id)
        .order_by(escalations.c.stage)
    )
    return [(int(s), int(at), list(orjson.loads(p))) for s, at, p in conn.execute(stmt)]
