"""Screenings and the vetting history: both append-only."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, func, select

from gesher.store.tables import screenings, vetting_events


@dataclass(frozen=True)
class Screening:
    id: int
    at: int
    actor: str
    subject: str
    query: str
    country: str | None
    outcome: str
    lists: dict[str, str]
    result: dict[str, object]


@dataclass(frozen=True)
class VettingEvent:
    id: int
    partner_id: int
    at: int
    actor: str
    action: str
    proposed_tier: int | None
    tier: int | None
    risk: str | None
    reason: str
    details: dict[str, object]


def add_screenings(conn: Connection, rows: list[dict[str, object]]) -> None:
    """Screenings as dicts of the table's columns, `lists` and `result` as JSON-ready values."""
    if rows:
        encoded = [{**r, "lists": _json(r["lists"]), "result": _json(r["result"])} for r in rows]
        conn.execute(screenings.insert(), encoded)


def screenings_of(conn: Connection, subject: str, limit: int = 50) -> list[Screening]:
    stmt = select(screenings).where(screenings.c.subject == subject).order_by(screenings.c.id.desc())
    return [_screening(r) for r in conn.execute(stmt.limit(limit))]


def _screening(r: object) -> Screening:
    m = r._mapping  # type: ignore[attr-defined]
    return Screening(
        m["id"], m["at"], m["actor"], m["subject"], m["query"], m["country"], m["outcome"],
        orjson.loads(m["lists"]), orjson.loads(m["result"]),
    )  # fmt: skip


def add_event(conn: Connection, event: dict[str, object]) -> None:
    conn.execute(vetting_events.insert().values(**{**event, "details": _json(event.get("details", {}))}))


def events_of(conn: Connection, partner_id: int) -> list[VettingEvent]:
    stmt = (
        select(vetting_events).where(vetting_events.c.partner_id == partner_id).order_by(vetting_events.c.id)
    )
    return [_event(r) for r in conn.execute(stmt)]


def latest_events(conn: Connection, actions: tuple[str, ...]) -> dict[int, VettingEvent]:
    """Each partner's newest vetting event among `actions`."""
    newest = (
        select(func.max(vetting_events.c.id))
        .where(vetting_events.c.action.in_(actions))
        .group_by(vetting_events.c.partner_id)
    )
    stmt = select(vetting_events).where(vetting_events.c.id.in_(newest))
    return {e.partner_id: e for e in (_event(r) for r in conn.execute(stmt))}


def _event(r: object) -> VettingEvent:
    m = r._mapping  # type: ignore[attr-defined]
    return VettingEvent(
        m["id"], m["partner_id"], m["at"], m["actor"], m["action"], m["proposed_tier"], m["tier"],
        m["risk"], m["reason"], orjson.loads(m["details"]),
    )  # fmt: skip


def _json(value: object) -> str:
    return orjson.dumps(value).decode()
