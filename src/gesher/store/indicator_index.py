"""The indicator index's queries (issue 7): `indicator_keys` (value token -> indicator id) and
`indicator_patterns` (the patterns that are not equalities, in commit order), the per-collection cursors
saying how far both have been built, and the reads that build it or stand in for it
(indicator versions stored after a cursor, indicators held, an indicator's latest stored version).

Reading indicators uses stix_objects' (collection_key, type, date_added) index: a range scan per
collection. The index is built by `gesher.warning_service.indicator_keys`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, func, select, text

from gesher.store.db import dialect_insert, is_sqlite
from gesher.store.tables import (
    collections,
    indicator_key_cursors,
    indicator_keys,
    indicator_patterns,
    objects,
)

_CHUNK = 5000  # SQLite and PostgreSQL both cap the parameters of one statement

_INDICATORS_OF = select(indicator_keys.c.token, indicator_keys.c.indicator_id).where(
    indicator_keys.c.token.in_(bindparam("tokens", expanding=True))
)


def indicators_naming(conn: Connection, tokens: Sequence[str]) -> dict[str, set[str]]:
    """For each token some indexed indicator names, those indicators' ids."""
    found: dict[str, set[str]] = {}
    for chunk in _chunks(sorted(set(tokens))):
        for token, indicator_id in conn.execute(_INDICATORS_OF, {"tokens": chunk}):
            found.setdefault(token, set()).add(indicator_id)
    return found


def add_keys(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """(token, indicator id) pairs, in token order (neighbouring keys share index pages); pairs already
    held are kept as they are (a new version of an indicator may name the same values)."""
    rows = [{"token": t, "indicator_id": i} for t, i in sorted(set(pairs))]
    if rows:
        conn.execute(dialect_insert(conn, indicator_keys).on_conflict_do_nothing(), rows)


def ingest_mark(conn: Connection) -> int:
    """A number that changes whenever anything is stored in any collection (the sum of the collections'
    last date_added), so the builder can tell a burst of ingest from a quiet store with one read."""
    return int(conn.execute(select(func.coalesce(func.sum(collections.c.last_date_added), 0))).scalar_one())


def add_patterns(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """(indicator id, pattern) pairs; pairs already held are kept as they are."""
    rows = [
        {"indicator_id": i, "pattern": p, "digest": hashlib.sha256(p.encode()).hexdigest()}
        for i, p in dict.fromkeys(pairs)
    ]
    if rows:
        conn.execute(dialect_insert(conn, indicator_patterns).on_conflict_do_nothing(), rows)


_PATTERNS_AFTER = (
    select(indicator_patterns.c.seq, indicator_patterns.c.indicator_id, indicator_patterns.c.pattern)
    .where(indicator_patterns.c.seq > bindparam("after"))
    .order_by(indicator_patterns.c.seq)
)


def patterns_after(conn: Connection, seq: int) -> list[tuple[int, str, str]]:
    """(seq, indicator id, pattern) of the patterns appended after `seq`, oldest first (one builder at a
    time appends them, so seq order is commit order)."""
    return [(int(s), str(i), str(p)) for s, i, p in conn.execute(_PATTERNS_AFTER, {"after": seq})]


def cursors(conn: Connection) -> dict[int, int]:
    """Every collection's cursor (0 where the index has read nothing of it yet)."""
    stmt = select(collections.c.key, indicator_key_cursors.c.date_added).outerjoin(
        indicator_key_cursors, indicator_key_cursors.c.collection_key == collections.c.key
    )
    return {int(key): int(at or 0) for key, at in conn.execute(stmt)}


def lock_cursors(conn: Connection) -> None:
    """One builder at a time across workers (PostgreSQL; SQLite writers are serialised already)."""
    if not is_sqlite(conn):
        key = int.from_bytes(hashlib.sha256(b"gesher:indicator-index").digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def advance(conn: Connection, collection_key: int, date_added: int) -> None:
    stmt = dialect_insert(conn, indicator_key_cursors).values(
        collection_key=collection_key, date_added=date_added
    )
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["collection_key"], set_={"date_added": date_added})
    )


_AFTER = (
    select(objects.c.date_added, objects.c.body)
    .where(
        objects.c.collection_key == bindparam("collection"),
        objects.c.type == "indicator",
        objects.c.date_added > bindparam("after"),
    )
    .order_by(objects.c.date_added)
)


def indicators_after(
    conn: Connection, collection_key: int, after: int, limit: int | None
) -> list[tuple[int, bytes]]:
    """(date_added, body) of the indicator versions stored in a collection after `after`, oldest first."""
    stmt = _AFTER if limit is None else _AFTER.limit(limit)
    rows = conn.execute(stmt, {"collection": collection_key, "after": after})
    return [(int(at), bytes(body)) for at, body in rows]


_HELD = select(objects.c.object_id).where(
    objects.c.collection_key.in_(select(collections.c.key).scalar_subquery()),
    objects.c.object_id.in_(bindparam("ids", expanding=True)),
    objects.c.type == "indicator",
)


def held(conn: Connection, indicator_ids: Iterable[str]) -> set[str]:
    """The ids among `indicator_ids` of indicators stored in any collection (one indexed probe per
    collection and id: the (collection, object id, version) index)."""
    found: set[str] = set()
    for chunk in _chunks(sorted(set(indicator_ids))):
        found.update(str(i) for (i,) in conn.execute(_HELD, {"ids": chunk}))
    return found


_LATEST = (
    select(objects.c.body)
    .where(
        objects.c.collection_key.in_(select(collections.c.key).scalar_subquery()),
        objects.c.object_id == bindparam("id"),
        objects.c.type == "indicator",
    )
    .order_by(objects.c.version.desc())
    .limit(1)
)


def latest_indicator(conn: Connection, indicator_id: str) -> bytes | None:
    """The body of the newest stored version of an indicator (in whichever collection holds it)."""
    body = conn.execute(_LATEST, {"id": indicator_id}).scalar_one_or_none()
    return bytes(body) if body is not None else None


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def all_tokens(conn: Connection) -> list[str]:
    """Every value token the index holds (the bulk matching engine loads them whole)."""
    return [str(t) for (t,) in conn.execute(select(indicator_keys.c.token).distinct())]
