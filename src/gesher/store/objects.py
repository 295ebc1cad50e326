"""Queries over stored object versions. Only gesher.exchange calls these: every read that leaves the
exchange goes through exchange.outbound (the one policy enforcement point)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Row, and_, bindparam, delete, false, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from gesher.store.db import SQLITE_MAX_PARAMS, is_sqlite
from gesher.store.tables import collections, objects
from gesher.taxii.query import TaxiiQuery, Versions


def _version_condition(v: Versions) -> ColumnElement[bool] | None:
    """TAXII match[version]: values are OR-ed; `all` matches everything."""
    if v.every:
        return None
    parts: list[ColumnElement[bool]] = []
    if v.latest:
        parts.append(objects.c.is_latest)
    if v.first:
        parts.append(objects.c.is_first)
    if v.keys:
        parts.append(objects.c.version.in_(v.keys))
    return or_(*parts) if parts else false()


def conditions(collection_id: str, q: TaxiiQuery) -> list[ColumnElement[bool]]:
    """The SQL form of a request's filters inside one collection (different fields AND-ed)."""
    c = objects.c
    conds: list[ColumnElement[bool]] = [c.collection_id == collection_id]
    if q.added_after is not None:
        conds.append(c.date_added > q.added_after)
    if q.ids:
        conds.append(c.object_id.in_(q.ids))
    if q.types:
        conds.append(c.type.in_(q.types))
    if q.spec_versions:
        conds.append(c.spec_version.in_(q.spec_versions))
    version_cond = _version_condition(q.versions)
    if version_cond is not None:
        conds.append(version_cond)
    return conds


@dataclass(frozen=True)
class StoredVersion:
    object_id: str
    version: str
    date_added: int
    is_latest: bool
    is_first: bool
    body: bytes


def lock_collection(conn: Connection, collection_id: str) -> int:
    """Take the collection's write lock and return its last date_added.

    On PostgreSQL the row lock serialises writers of one collection until commit, so date_added order is
    commit order; SQLite's BEGIN IMMEDIATE already serialises all writers."""
    stmt = select(collections.c.last_date_added).where(collections.c.id == collection_id)
    if not is_sqlite(conn):
        stmt = stmt.with_for_update()
    return int(conn.execute(stmt).scalar_one())


def set_last_date_added(conn: Connection, collection_id: str, value: int) -> None:
    conn.execute(update(collections).where(collections.c.id == collection_id).values(last_date_added=value))


def versions_of(
    conn: Connection, collection_id: str, object_ids: Iterable[str]
) -> dict[str, list[StoredVersion]]:
    """Every stored version of the given objects in one collection, by object id."""
    found: dict[str, list[StoredVersion]] = {}
    ids = list(object_ids)
    c = objects.c
    for start in range(0, len(ids), SQLITE_MAX_PARAMS):
        stmt = select(c.object_id, c.version, c.date_added, c.is_latest, c.is_first, c.body).where(
            c.collection_id == collection_id, c.object_id.in_(ids[start : start + SQLITE_MAX_PARAMS])
        )
        for row in conn.execute(stmt):
            found.setdefault(row.object_id, []).append(StoredVersion(*row))
    return found


def insert_versions(conn: Connection, rows: Sequence[dict[str, object]]) -> None:
    if rows:
        conn.execute(objects.insert(), list(rows))


def set_flags(conn: Connection, collection_id: str, changes: Iterable[tuple[int, bool, bool]]) -> None:
    """(date_added, is_latest, is_first) for versions whose flags changed."""
    params = [{"k": d, "latest": lat, "first": fst} for d, lat, fst in changes]
    if not params:
        return
    stmt = (
        update(objects)
        .where(objects.c.collection_id == collection_id, objects.c.date_added == bindparam("k"))
        .values(is_latest=bindparam("latest"), is_first=bindparam("first"))
    )
    conn.execute(stmt, params)


def page(
    conn: Connection,
    collection_id: str,
    q: TaxiiQuery,
    after: int | None,
    limit: int,
    columns: Sequence[ColumnElement[object]],
) -> Sequence[Row[tuple[object, ...]]]:
    """Up to `limit` rows in date_added order, strictly after the cursor position `after`."""
    conds = conditions(collection_id, q)
    if after is not None:
        conds.append(objects.c.date_added > after)
    stmt = (
        select(objects.c.date_added, *columns).where(and_(*conds)).order_by(objects.c.date_added).limit(limit)
    )
    return conn.execute(stmt).all()


def any_version(conn: Connection, collection_id: str, object_id: str) -> bool:
    stmt = select(objects.c.date_added).where(
        objects.c.collection_id == collection_id, objects.c.object_id == object_id
    )
    return conn.execute(stmt.limit(1)).first() is not None


def delete_versions(conn: Connection, collection_id: str, date_addeds: Sequence[int]) -> None:
    for start in range(0, len(date_addeds), SQLITE_MAX_PARAMS):
        chunk = date_addeds[start : start + SQLITE_MAX_PARAMS]
        conn.execute(
            delete(objects).where(objects.c.collection_id == collection_id, objects.c.date_added.in_(chunk))
        )
