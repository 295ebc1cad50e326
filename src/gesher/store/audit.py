"""Append-only audit events: who did what to which subject, and why. Written in the caller's transaction."""

from __future__ import annotations

import orjson
from sqlalchemy import Connection, select

from gesher.stix.timestamps import now_micros
from gesher.store.tables import audit_events


def record(conn: Connection, actor: str, action: str, subject: str, **details: object) -> None:
    conn.execute(
        audit_events.insert().values(
            at=now_micros(),
            actor=actor,
            action=action,
            subject=subject,
            details=orjson.dumps(details).decode(),
        )
    )


def events(conn: Connection, subject: str | None = None) -> list[dict[str, object]]:
    stmt = select(audit_events).order_by(audit_events.c.id)
    if subject is not None:
        stmt = stmt.where(audit_events.c.subject == subject)
    return [dict(r._mapping) for r in conn.execute(stmt)]
