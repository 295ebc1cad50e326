"""Early warning's queries (issue 7): indicator match keys, sightings, alerts. Every statement here is one
indexed lookup or an append; the services in `gesher.warning_service` decide what to do with them."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, text

from gesher.store.db import dialect_insert, is_sqlite
from gesher.store.tables import alerts, indicator_decay, indicator_keys, sightings


def add_indicator_keys(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """(token, indicator id) pairs; pairs already held are kept as they are (a new version of an indicator
    may name the same values)."""
    rows = [{"token": t, "indicator_id": i} for t, i in dict.fromkeys(pairs)]
    if rows:
        conn.execute(dialect_insert(conn, indicator_keys).on_conflict_do_nothing(), rows)


def set_decay(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    """Each indicator's decay inputs; a stored row is replaced only by a later reset (a newer version).
    One statement for all rows (ingest's hot path)."""
    latest_rows: dict[object, dict[str, object]] = {}
    for row in rows:  # two versions in one batch: one row (ON CONFLICT may touch a row once per statement)
        held = latest_rows.get(row["indicator_id"])
        if held is None or int(row["reset_at"]) > int(held["reset_at"]):  # type: ignore[call-overload]
            latest_rows[row["indicator_id"]] = row
    if not latest_rows:
        return
    stmt = dialect_insert(conn, indicator_decay)
    latest = {c: stmt.excluded[c] for c in ("model", "base_score", "reset_at")}
    newer = stmt.excluded.reset_at > indicator_decay.c.reset_at
    upsert = stmt.on_conflict_do_update(index_elements=["indicator_id"], set_=latest, where=newer)
    conn.execute(upsert, list(latest_rows.values()))


_DECAY = select(indicator_decay.c.model, indicator_decay.c.base_score, indicator_decay.c.reset_at).where(
    indicator_decay.c.indicator_id == bindparam("id")
)


def decay_of(conn: Connection, indicator_id: str) -> tuple[str, float, int] | None:
    row = conn.execute(_DECAY, {"id": indicator_id}).first()
    return (str(row[0]), float(row[1]), int(row[2])) if row else None


_LAST_BEFORE = select(func.max(sightings.c.seen_at)).where(
    sightings.c.token == bindparam("token"), sightings.c.type == 0, sightings.c.seen_at < bindparam("before")
)


def last_sighting_before(conn: Connection, token: str, before: int) -> int | None:
    """The latest type-0 sighting of `token` before `before` (one from an earlier spell of activity)."""
    value = conn.execute(_LAST_BEFORE, {"token": token, "before": before}).scalar_one()
    return int(value) if value is not None else None


_INDICATORS_OF = select(indicator_keys.c.token, indicator_keys.c.indicator_id).where(
    indicator_keys.c.token.in_(bindparam("tokens", expanding=True))
)


def indicators_for(conn: Connection, tokens: Sequence[str]) -> dict[str, list[str]]:
    """For each token that some stored indicator names, the ids of those indicators (sorted). An
    indicator's own id is a token naming itself, so this also says which indicators are held."""
    found: dict[str, list[str]] = {}
    wanted = sorted(set(tokens))
    # In chunks: SQLite and PostgreSQL both cap the parameters of one statement (a big file has more).
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for token, indicator_id in conn.execute(_INDICATORS_OF, {"tokens": chunk}):
            found.setdefault(token, []).append(indicator_id)
    return {t: sorted(ids) for t, ids in found.items()}


_CHUNK = 5000


@dataclass(frozen=True)
class SightingRow:
    """One stored sighting as correlation reads it (times in microseconds since the epoch)."""

    partner_id: int
    sector: str
    country: str
    critical: bool
    type: int
    seen_at: int


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
)
# A token's sightings in the longest window, plus its false positives and expirations of any age: a
# standing false positive suppresses until the partner sights the token again (reference 4.2).
_OF_TOKEN = select(*_COLUMNS).where(
    sightings.c.token == bindparam("token"),
    (sightings.c.seen_at >= bindparam("since")) | (sightings.c.type != 0),
)


def sightings_of(conn: Connection, token: str, since: int) -> list[SightingRow]:
    return [SightingRow(*row) for row in conn.execute(_OF_TOKEN, {"token": token, "since": since})]


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
