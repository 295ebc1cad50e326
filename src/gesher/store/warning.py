"""Early warning's queries (issue 7): sightings and alerts (the indicator index is `indicator_index`).
Every statement here is one indexed lookup or an append; the services in `gesher.warning_service`
decide what to do with them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, text

from gesher.store.db import is_sqlite
from gesher.store.tables import alerts, partners, sightings

_LAST_BEFORE = select(func.max(sightings.c.seen_at)).where(
    sightings.c.token == bindparam("token"), sightings.c.type == 0, sightings.c.seen_at < bindparam("before")
)


def last_sighting_before(conn: Connection, token: str, before: int) -> int | None:
    """The latest type-0 sighting of `token` before `before` (one from an earlier spell of activity)."""
    value = conn.execute(_LAST_BEFORE, {"token": token, "before": before}).scalar_one()
    return int(value) if value is not None else None


@dataclass(frozen=True)
class SightingRow:
    """One stored sighting as correlation reads it (times in microseconds since the epoch)."""

    partner_id: int
    sector: str
    country: str
    critical: bool
    type: int
    seen_at: int
    reliability: str = "F"  # the reporting partner's Admiralty source reliability, as now graded


def add_sightings(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        conn.execute(sightings.insert(), list(rows))


_KNOWN = select(sightings.c.stix_id).where(sightings.c.stix_id.in_(bindparam("ids", expanding=True)))


def known_stix_ids(conn: Connection, stix_ids: Sequence[str]) -> set[str]:
    """The STIX sighting ids already recorded (a re-posted sighting is not a new report)."""
    if not stix_ids:
        return set()
    return {str(i) for (i,) in conn.execute(_KNOWN, {"ids": sorted(set(stix_ids))})}


_RECENT = select(func.count()).where(
    sightings.c.partner_id == bindparam("partner"),
    sightings.c.received_at >= bindparam("since"),
    sightings.c.counted,
)


def recent_count(conn: Connection, partner_id: int, since: int) -> int:
    """Reports a partner made since `since` (for its rate limit): one counted row per report."""
    return int(conn.execute(_RECENT, {"partner": partner_id, "since": since}).scalar_one())


_COLUMNS = (
    sightings.c.partner_id,
    sightings.c.sector,
    sightings.c.country,
    sightings.c.critical,
    sightings.c.type,
    sightings.c.seen_at,
    partners.c.reliability,
)
# A token's sightings in the longest window, plus its false positives and expirations of any age: a
# standing false positive suppresses until the partner sights the token again (reference 4.2). Each
# with its reporter's source reliability as the registry grades it now (`gesher partner set`).
_OF_TOKEN = (
    select(*_COLUMNS)
    .join_from(sightings, partners, partners.c.id == sightings.c.partner_id)
    .where(
        sightings.c.token == bindparam("token"),
        (sightings.c.seen_at >= bindparam("since")) | (sightings.c.type != 0),
    )
)


def sightings_of(conn: Connection, token: str, since: int) -> list[SightingRow]:
    return [SightingRow(*row) for row in conn.execute(_OF_TOKEN, {"token": token, "since": since})]


def recent_tokens(conn: Connection, since: int) -> list[str]:
    """The distinct tokens partners sighted since `since` (what a bulk file may correlate with)."""
    stmt = select(sightings.c.token).where(sightings.c.seen_at >= since, sightings.c.type == 0).distinct()
    return [str(t) for (t,) in conn.execute(stmt)]


def lock_token(conn: Connection, token: str) -> None:
    """Serialise correlation of one token across workers until the transaction ends, so two sightings
    arriving together cannot both raise the same alert. SQLite writers are serialised already."""
    if not is_sqlite(conn):
        key = int.from_bytes(hashlib.sha256(token.encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


_LEVEL = select(func.max(alerts.c.level)).where(
    alerts.c.token == bindparam("token"), alerts.c.raised_at >= bindparam("since")
)


def alerted_level(conn: Connection, token: str, since: int) -> int:
    """The highest level alerted for `token` since `since` (0 if none)."""
    return int(conn.execute(_LEVEL, {"token": token, "since": since}).scalar_one() or 0)


def add_alert(conn: Connection, row: dict[str, object]) -> None:
    conn.execute(alerts.insert().values(**row))


def all_alerts(conn: Connection) -> list[dict[str, object]]:
    stmt = select(alerts).order_by(alerts.c.raised_at, alerts.c.level)
    return [{str(k): v for k, v in r._mapping.items()} for r in conn.execute(stmt)]
