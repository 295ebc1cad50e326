"""The national incident board's queries (issue 7, "Incident board"): incidents, their append-only events,
the alerts linked to them, and the alerts and sightings the board's figures are computed from. The
service (`gesher.warning_service.incidents`) decides; this only reads and writes rows.

A state change is a compare-and-set on `incidents.version`: the UPDATE names the version the caller read,
so of two concurrent changers the second updates no row (PostgreSQL re-checks the WHERE clause once the
first commits) and is told so."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from gesher.store.db import dialect_insert
from gesher.store.tables import alerts, incident_alerts, incident_events, incidents, sightings

ACTIVE_STATES = ("open", "contained")


@dataclass(frozen=True)
class IncidentRow:
    """An incident as stored (times in microseconds since the epoch)."""

    id: int
    title: str
    state: str
    level: int
    opened_at: int
    updated_at: int
    version: int


@dataclass(frozen=True)
class EventRow:
    """One incident event: when, who, what, the state after, why, and the alert it linked (if any)."""

    id: int
    incident_id: int
    at: int
    actor: str
    action: str
    state: str
    reason: str
    alert_id: str | None


@dataclass(frozen=True)
class AlertRow:
    """The columns of an alert the board uses."""

    id: str
    token: str
    level: int
    rule: str
    raised_at: int
    organisations: int


@dataclass(frozen=True)
class SightingFacts:
    """The columns of a sighting the board uses."""

    token: str
    partner_id: int
    sector: str
    country: str
    type: int
    seen_at: int
    received_at: int


_INCIDENT_COLUMNS = (
    incidents.c.id,
    incidents.c.title,
    incidents.c.state,
    incidents.c.level,
    incidents.c.opened_at,
    incidents.c.updated_at,
    incidents.c.version,
)
_ALERT_COLUMNS = (
    alerts.c.id,
    alerts.c.token,
    alerts.c.level,
    alerts.c.rule,
    alerts.c.raised_at,
    alerts.c.organisations,
)


def add_incident(conn: Connection, title: str, state: str, level: int, at: int) -> int:
    """Insert an incident at version 1; return its id."""
    values = {"title": title, "state": state, "level": level, "opened_at": at, "updated_at": at, "version": 1}
    result = conn.execute(incidents.insert().values(**values))
    key = result.inserted_primary_key
    assert key is not None  # an autoincrement id is always returned
    return int(key[0])


def incident(conn: Connection, incident_id: int) -> IncidentRow | None:
    row = conn.execute(select(*_INCIDENT_COLUMNS).where(incidents.c.id == incident_id)).first()
    return IncidentRow(*row) if row else None


def compare_and_set(
    conn: Connection, incident_id: int, version: int, state: str, level: int, at: int
) -> bool:
    """Set the state, level and time if the incident is still at `version` (then version + 1); False if a
    concurrent change got there first."""
    stmt = (
        incidents.update()
        .where(incidents.c.id == incident_id, incidents.c.version == version)
        .values(state=state, level=level, updated_at=at, version=version + 1)
    )
    return conn.execute(stmt).rowcount == 1


def add_event(conn: Connection, row: dict[str, object]) -> None:
    conn.execute(incident_events.insert().values(**row))


def events_of(conn: Connection, incident_id: int) -> list[EventRow]:
    stmt = (
        select(incident_events)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.id)
    )
    return [EventRow(*row) for row in conn.execute(stmt)]


def all_events(conn: Connection, before: int | None = None) -> list[EventRow]:
    """Every incident event (before `before`, if given), in event order."""
    stmt = select(incident_events).order_by(incident_events.c.id)
    if before is not None:
        stmt = stmt.where(incident_events.c.at < before)
    return [EventRow(*row) for row in conn.execute(stmt)]


def link(conn: Connection, incident_id: int, alert_id: str, at: int) -> bool:
    """Link an alert to an incident; False if it was linked already."""
    stmt = dialect_insert(conn, incident_alerts).on_conflict_do_nothing()
    values = {"incident_id": incident_id, "alert_id": alert_id, "linked_at": at}
    # RETURNING, not rowcount: the row count of a conflicting INSERT ... DO NOTHING is not to be trusted.
    returning = stmt.values(**values).returning(incident_alerts.c.alert_id)
    return conn.execute(returning).first() is not None


def alert(conn: Connection, alert_id: str) -> AlertRow | None:
    row = conn.execute(select(*_ALERT_COLUMNS).where(alerts.c.id == alert_id)).first()
    return AlertRow(*row) if row else None


def alerts_of(conn: Connection, incident_ids: Sequence[int]) -> dict[int, list[AlertRow]]:
    """Each incident's linked alerts, oldest first."""
    if not incident_ids:
        return {}
    stmt = (
        select(incident_alerts.c.incident_id, *_ALERT_COLUMNS)
        .join(alerts, alerts.c.id == incident_alerts.c.alert_id)
        .where(incident_alerts.c.incident_id.in_(sorted(set(incident_ids))))
        .order_by(alerts.c.raised_at, alerts.c.id)
    )
    found: dict[int, list[AlertRow]] = {i: [] for i in incident_ids}
    for row in conn.execute(stmt):
        found[row[0]].append(AlertRow(*row[1:]))
    return found


def unlinked_alerts_of_token(conn: Connection, token: str, since: int) -> list[str]:
    """The alerts on `token` raised since `since` that belong to no incident, oldest first."""
    linked = select(incident_alerts.c.alert_id).where(incident_alerts.c.alert_id == alerts.c.id)
    stmt = (
        select(alerts.c.id)
        .where(alerts.c.token == token, alerts.c.raised_at >= since, ~linked.exists())
        .order_by(alerts.c.raised_at, alerts.c.id)
    )
    return [str(i) for (i,) in conn.execute(stmt)]


def incidents_of_alert(conn: Connection, alert_id: str) -> list[int]:
    stmt = select(incident_alerts.c.incident_id).where(incident_alerts.c.alert_id == alert_id)
    return sorted(int(i) for (i,) in conn.execute(stmt))


def active_for_token(conn: Connection, token: str) -> IncidentRow | None:
    """The open or contained incident (the most recently opened, if several) holding an alert on `token`."""
    stmt = (
        select(*_INCIDENT_COLUMNS)
        .join(incident_alerts, incident_alerts.c.incident_id == incidents.c.id)
        .join(alerts, alerts.c.id == incident_alerts.c.alert_id)
        .where(alerts.c.token == token, incidents.c.state.in_(ACTIVE_STATES))
        .order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        .limit(1)
    )
    row = conn.execute(stmt).first()
    return IncidentRow(*row) if row else None


def listing(
    conn: Connection, states: Sequence[str] | None = None, before: int | None = None
) -> list[IncidentRow]:
    """Incidents (in `states`, opened before `before`, if given), oldest first."""
    stmt = select(*_INCIDENT_COLUMNS).order_by(incidents.c.opened_at, incidents.c.id)
    if states is not None:
        stmt = stmt.where(incidents.c.state.in_(list(states)))
    if before is not None:
        stmt = stmt.where(incidents.c.opened_at < before)
    return [IncidentRow(*row) for row in conn.execute(stmt)]


def alerts_between(conn: Connection, since: int | None, until: int | None) -> list[AlertRow]:
    """Alerts raised in [since, until), oldest first."""
    stmt = select(*_ALERT_COLUMNS).order_by(alerts.c.raised_at, alerts.c.id)
    if since is not None:
        stmt = stmt.where(alerts.c.raised_at >= since)
    if until is not None:
        stmt = stmt.where(alerts.c.raised_at < until)
    return [AlertRow(*row) for row in conn.execute(stmt)]


def all_links(conn: Connection) -> dict[int, list[AlertRow]]:
    """Every incident's linked alerts."""
    stmt = (
        select(incident_alerts.c.incident_id, *_ALERT_COLUMNS)
        .join(alerts, alerts.c.id == incident_alerts.c.alert_id)
        .order_by(alerts.c.raised_at, alerts.c.id)
    )
    found: dict[int, list[AlertRow]] = {}
    for row in conn.execute(stmt):
        found.setdefault(int(row[0]), []).append(AlertRow(*row[1:]))
    return found


_SIGHTING_COLUMNS = (
    sightings.c.token,
    sightings.c.partner_id,
    sightings.c.sector,
    sightings.c.country,
    sightings.c.type,
    sightings.c.seen_at,
    sightings.c.received_at,
)
_CHUNK = 500


def sightings_for(conn: Connection, tokens: Sequence[str], since: int) -> dict[str, list[SightingFacts]]:
    """The type-0 sightings of each token seen since `since` (indexed by token and time), in chunks of
    tokens (a statement's parameters are capped)."""
    found: dict[str, list[SightingFacts]] = {}
    wanted = sorted(set(tokens))
    for start in range(0, len(wanted), _CHUNK):
        stmt = select(*_SIGHTING_COLUMNS).where(
            sightings.c.token.in_(wanted[start : start + _CHUNK]),
            sightings.c.seen_at >= since,
            sightings.c.type == 0,
        )
        for row in conn.execute(stmt.order_by(sightings.c.seen_at, sightings.c.id)):
            found.setdefault(row[0], []).append(SightingFacts(*row))
    return found


def count_incidents(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(incidents)).scalar_one())
