"""The queries of early warning's pattern index (issue 7; `gesher.warning_service.pattern_index`): the
stored patterns that are not equalities (`indicator_patterns`), the per-collection cursors up to which
they have been collected, the indicator versions stored since, and which indicator ids are still stored.

Within a collection date_added is assigned under the collection's lock and committed in that order, so a
reader that has seen a collection's `last_date_added` = X has seen every version with date_added <= X that
will ever exist: a cursor at X never skips one. `indicator_patterns` is appended under one builder lock,
so its `seq` is commit order too."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, select, text

from gesher.store.db import dialect_insert, is_sqlite
from gesher.store.tables import collections, indicator_pattern_cursors, indicator_patterns, objects

_CHUNK = 5000  # SQLite and PostgreSQL both cap the parameters of one statement

_BEHIND = select(
    collections.c.key, collections.c.last_date_added, indicator_pattern_cursors.c.date_added
).outerjoin(indicator_pattern_cursors, indicator_pattern_cursors.c.collection_key == collections.c.key)


def behind(conn: Connection) -> dict[int, tuple[int, int]]:
    """The collections that stored something since their cursor: key -> (cursor, last date_added)."""
    found = {}
    for key, last, cursor in conn.execute(_BEHIND):
        if int(last or 0) > int(cursor or 0):
            found[int(key)] = (int(cursor or 0), int(last))
    return found


def lock_builder(conn: Connection) -> None:
    """One builder at a time across workers, until the transaction ends (PostgreSQL; SQLite writers are
    serialised already)."""
    if not is_sqlite(conn):
        key = int.from_bytes(hashlib.sha256(b"gesher:pattern-index").digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


# stix_objects' (collection_key, type, date_added) index: one range scan.
_BETWEEN = (
    select(objects.c.date_added, objects.c.body)
    .where(
        objects.c.collection_key == bindparam("collection"),
        objects.c.type == "indicator",
        objects.c.date_added > bindparam("after"),
        objects.c.date_added <= bindparam("upto"),
    )
    .order_by(objects.c.date_added)
)


def indicators_between(conn: Connection, collection_key: int, after: int, upto: int) -> list[bytes]:
    """The bodies of the indicator versions stored in a collection with after < date_added <= upto."""
    rows = conn.execute(_BETWEEN, {"collection": collection_key, "after": after, "upto": upto})
    return [bytes(body) for _, body in rows]


def add_patterns(conn: Connection, pairs: Iterable[tuple[str, str]]) -> None:
    """(indicator id, pattern) pairs; pairs already held are kept as they are."""
    rows = [
        {"indicator_id": i, "pattern": p, "digest": hashlib.sha256(p.encode()).hexdigest()}
        for i, p in dict.fromkeys(pairs)
    ]
    if rows:
        conn.execute(dialect_insert(conn, indicator_patterns).on_conflict_do_nothing(), rows)


def advance(conn: Connection, collection_key: int, date_added: int) -> None:
    """Move a collection's cursor to `date_added`."""
    stmt = dialect_insert(conn, indicator_pattern_cursors).values(
        collection_key=collection_key, date_added=date_added
    )
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["collection_key"], set_={"date_added": date_added})
    )


_AFTER = (
    select(indicator_patterns.c.seq, indicator_patterns.c.indicator_id, indicator_patterns.c.pattern)
    .where(indicator_patterns.c.seq > bindparam("after"))
    .order_by(indicator_patterns.c.seq)
)


def patterns_after(conn: Connection, seq: int) -> list[tuple[int, str, str]]:
    """(seq, indicator id, pattern) of the patterns appended after `seq`, oldest first."""
    return [(int(s), str(i), str(p)) for s, i, p in conn.execute(_AFTER, {"after": seq})]


# The collection_key term lets both stores probe the (collection_key, object_id, version) unique index once
# per collection and id instead of scanning.
_STORED = select(objects.c.object_id).where(
    objects.c.collection_key.in_(select(collections.c.key).scalar_subquery()),
    objects.c.object_id.in_(bindparam("ids", expanding=True)),
    objects.c.type == "indicator",
)


def stored(conn: Connection, indicator_ids: Iterable[str]) -> set[str]:
    """The ids among `indicator_ids` of indicators stored in some collection (deleted ones are not)."""
    wanted, found = sorted(set(indicator_ids)), set[str]()
    for start in range(0, len(wanted), _CHUNK):
        found.update(str(i) for (i,) in conn.execute(_STORED, {"ids": wanted[start : start + _CHUNK]}))
    return found
