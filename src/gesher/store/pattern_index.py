"""The reads behind early warning's pattern index (issue 7; `gesher.warning_service.pattern_index`): each
collection's last handed-out date_added, the indicator versions stored in a date_added range of one
collection, and which indicator ids are still stored.

Within a collection date_added is assigned under the collection's lock and committed in that order, so a
reader that has seen a collection's `last_date_added` = X has seen every version with date_added <= X that
will ever exist: a cursor at X never skips one."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, select

from gesher.store.tables import collections, objects

_CHUNK = 5000  # SQLite and PostgreSQL both cap the parameters of one statement

_HEADS = select(collections.c.key, collections.c.last_date_added)


def collection_heads(conn: Connection) -> dict[int, int]:
    """Every collection's last handed-out date_added (0 if it never stored anything)."""
    return {int(key): int(last or 0) for key, last in conn.execute(_HEADS)}


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
