"""Queries over stored object versions. Only gesher.exchange calls these: every read that leaves the
exchange goes through exchange.outbound (the one policy enforcement point)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Row,
    Select,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from gesher.policy.sanitise import may_hold_address
from gesher.store import db
from gesher.store.db import SQLITE_MAX_PARAMS, bulk_insert, in_int_set, int_set, is_sqlite
from gesher.store.tables import collections, objects
from gesher.taxii.query import TaxiiQuery


@dataclass(frozen=True)
class _Shape:
    """Which filters a query uses; statements are built once per shape and cached (building a SQLAlchemy
    statement costs more than running it on an indexed lookup)."""

    added_after: bool
    ids: bool
    types: bool
    spec_versions: bool
    latest: bool
    first: bool
    every: bool
    keys: bool
    labelled: bool = False  # a partner's read: only open labels, or gated ones on released versions
    gated: bool = False

    @classmethod
    def of(cls, q: TaxiiQuery, labels: LabelFilter | None = None) -> _Shape:
        v = q.versions
        return cls(
            q.added_after is not None,
            bool(q.ids),
            bool(q.types),
            bool(q.spec_versions),
            v.latest,
            v.first,
            v.every,
            bool(v.keys),
            labels is not None,
            labels is not None and bool(labels.gated),
        )


@dataclass(frozen=True)
class LabelFilter:
    """The access labels a partner may receive (exchange.clearance computes them)."""

    open: tuple[int, ...]
    gated: tuple[int, ...]


def _params(
    conn: Connection, collection: int, q: TaxiiQuery, labels: LabelFilter | None = None
) -> dict[str, object]:
    return {
        "open_labels": int_set(conn, labels.open if labels else ()),
        "gated_labels": int_set(conn, labels.gated if labels else ()),
        "cid": collection,
        "added_after": q.added_after,
        "ids": list(q.ids),
        "types": list(q.types),
        "spec_versions": list(q.spec_versions),
        "keys": list(q.versions.keys),
    }


def _version_condition(shape: _Shape) -> ColumnElement[bool] | None:
    """TAXII match[version]: values are OR-ed; `all` matches everything. On a partner's read, `first` and
    `last` are the first and latest versions that partner may see: the stored flags for objects whose
    versions share one label, a lookup among the visible versions for the rare others."""
    if shape.every:
        return None
    c = objects.c
    parts: list[ColumnElement[bool]] = []
    if shape.latest:
        parts.append(_own(shape, c.is_latest, func.max))
    if shape.first:
        parts.append(_own(shape, c.is_first, func.min))
    if shape.keys:
        parts.append(c.version.in_(bindparam("keys", expanding=True)))
    return or_(*parts) if parts else false()


def _own(shape: _Shape, flag: ColumnElement[bool], pick: Any) -> ColumnElement[bool]:
    if not shape.labelled:
        return flag
    other = objects.alias("other_version")
    visible = select(pick(other.c.version)).where(
        other.c.collection_key == objects.c.collection_key,
        other.c.object_id == objects.c.object_id,
        _allowed(shape, other),
    )
    return or_(
        and_(objects.c.uniform, flag),
        and_(~objects.c.uniform, objects.c.version == visible.scalar_subquery()),
    )


def _allowed(shape: _Shape, table: Any) -> ColumnElement[bool]:
    """The partner's label filter (DESIGN.md, "Access labels"), on `table` (the objects or an alias)."""
    allowed: ColumnElement[bool] = in_int_set(table.c.label_id, bindparam("open_labels"))
    if shape.gated:
        released = and_(table.c.released, in_int_set(table.c.label_id, bindparam("gated_labels")))
        allowed = or_(allowed, released)
    return allowed


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    """The SQL form of a request's filters inside one collection (different fields AND-ed)."""
    c = objects.c
    conds: list[ColumnElement[bool]] = [c.collection_key == bindparam("cid")]
    if shape.added_after:
        conds.append(c.date_added > bindparam("added_after"))
    if shape.ids:
        conds.append(c.object_id.in_(bindparam("ids", expanding=True)))
    if shape.types:
        conds.append(c.type.in_(bindparam("types", expanding=True)))
    if shape.spec_versions:
        conds.append(c.spec_version.in_(bindparam("spec_versions", expanding=True)))
    version_cond = _version_condition(shape)
    if version_cond is not None:
        conds.append(version_cond)
    if shape.labelled:
        conds.append(_allowed(shape, objects))
    return conds


def matching(
    conn: Connection, collection: int, q: TaxiiQuery, *columns: ColumnElement[object]
) -> Sequence[Row[tuple[object, ...]]]:
    """Every row matching the filters (no paging): for deletes, which touch one object's versions."""
    stmt = select(*columns).where(*_conditions(_Shape.of(q)))
    return conn.execute(stmt, _params(conn, collection, q)).all()


# A partner's page needs, per row, a few facts besides the body; they travel packed in one integer column
# `serving` (label id << 4 | the bits below): one plain integer converts far faster than five typed columns
# (SQLAlchemy runs a Python processor per boolean), and the serving loop reads them with bit tests.
ADDRESS_HINT = 1  # the body may spell an internal address (sanitise.may_hold_address, found at ingest)
POINTER = 2  # a relationship, sighting, report or note: withheld when it points at something hidden
SEVERAL = 4  # the object has other versions in this collection
RELEASED = 8  # a second analyst approved this version's release
LABEL_SHIFT = 4
POINTER_TYPES = ("relationship", "sighting", "report", "note")
_SERVING = (
    func.coalesce(objects.c.label_id, 0) * (1 << LABEL_SHIFT)
    + case((objects.c.released, RELEASED), else_=0)
    + case((and_(objects.c.is_latest, objects.c.is_first), 0), else_=SEVERAL)
    + case((objects.c.type.in_(POINTER_TYPES), POINTER), else_=0)
    + func.coalesce(objects.c.serve_hints, ADDRESS_HINT)  # unknown: look at the body
).label("serving")


def serve_hints(body: bytes) -> int:
    """The `serve_hints` column of a new version: what serving it may need, found once at ingest."""
    return ADDRESS_HINT if may_hold_address(body) else 0


@lru_cache(maxsize=512)
def _page_statement(shape: _Shape, after: bool, columns: tuple[str, ...]) -> Select[tuple[object, ...]]:
    conds = _conditions(shape)
    if after:
        conds.append(objects.c.date_added > bindparam("after"))
    # With an id filter the few matching rows are best found through the (collection, object id) index and
    # sorted; `+ 0` stops SQLite from walking the date_added index over the whole collection instead.
    order = objects.c.date_added + 0 if shape.ids else objects.c.date_added
    cols = [_SERVING if name == "serving" else objects.c[name] for name in columns]
    return select(objects.c.date_added, *cols).where(and_(*conds)).order_by(order).limit(bindparam("limit"))


@dataclass(frozen=True)
class StoredVersion:
    object_id: str
    version: str
    date_added: int
    is_latest: bool
    is_first: bool
    uniform: bool
    label_id: int | None
    released: bool
    body: bytes

    @property
    def flags(self) -> tuple[bool, bool, bool]:
        return (self.is_latest, self.is_first, self.uniform)


def lock_collection(conn: Connection, collection_id: str) -> tuple[int, int] | None:
    """Take the collection's write lock and return its (key, last date_added), or None if it is unknown.

    On PostgreSQL the row lock serialises writers of one collection until commit, so date_added order is
    commit order; SQLite's BEGIN IMMEDIATE already serialises all writers."""
    stmt = select(collections.c.key, collections.c.last_date_added).where(collections.c.id == collection_id)
    if not is_sqlite(conn):
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return (int(row.key), int(row.last_date_added)) if row else None


def note_growth(conn: Connection, added: int) -> None:
    """Tell the store how many versions were just added (PostgreSQL keeps its planner statistics fresh)."""
    db.note_growth(conn, objects.name, added)


def set_last_date_added(conn: Connection, collection: int, value: int) -> None:
    conn.execute(update(collections).where(collections.c.key == collection).values(last_date_added=value))


def versions_of(
    conn: Connection, collection: int, object_ids: Iterable[str]
) -> dict[str, list[StoredVersion]]:
    """Every stored version of the given objects in one collection, by object id."""
    found: dict[str, list[StoredVersion]] = {}
    ids = list(object_ids)
    c = objects.c
    for start in range(0, len(ids), SQLITE_MAX_PARAMS):
        cols = (
            c.object_id,
            c.version,
            c.date_added,
            c.is_latest,
            c.is_first,
            c.uniform,
            c.label_id,
            c.released,
            c.body,
        )
        stmt = select(*cols).where(
            c.collection_key == collection, c.object_id.in_(ids[start : start + SQLITE_MAX_PARAMS])
        )
        for row in conn.execute(stmt):
            found.setdefault(row.object_id, []).append(StoredVersion(*row))
    return found


def insert_versions(conn: Connection, rows: Sequence[tuple[object, ...]]) -> None:
    """New versions as tuples in the column order of the objects table."""
    bulk_insert(conn, objects, rows)


def set_flags(
    conn: Connection, collection: int, changes: Iterable[tuple[int, tuple[bool, bool, bool]]]
) -> None:
    """(date_added, (is_latest, is_first, uniform)) for versions whose flags changed."""
    params = [{"k": d, "latest": lat, "first": fst, "uniform": uni} for d, (lat, fst, uni) in changes]
    if not params:
        return
    stmt = (
        update(objects)
        .where(objects.c.collection_key == collection, objects.c.date_added == bindparam("k"))
        .values(is_latest=bindparam("latest"), is_first=bindparam("first"), uniform=bindparam("uniform"))
    )
    conn.execute(stmt, params)


def page(
    conn: Connection,
    collection: int,
    q: TaxiiQuery,
    after: int | None,
    limit: int,
    columns: tuple[str, ...],
    labels: LabelFilter | None = None,
) -> Sequence[Row[tuple[object, ...]]]:
    """Up to `limit` rows (date_added first, then `columns`) in date_added order, strictly after the cursor
    position `after`; with `labels`, only versions carrying those labels."""
    stmt = _page_statement(_Shape.of(q, labels), after is not None, columns)
    params = _params(conn, collection, q, labels) | {"after": after, "limit": limit}
    return conn.execute(stmt, params).all()


def delete_versions(conn: Connection, collection: int, date_addeds: Sequence[int]) -> None:
    for start in range(0, len(date_addeds), SQLITE_MAX_PARAMS):
        chunk = date_addeds[start : start + SQLITE_MAX_PARAMS]
        conn.execute(
            delete(objects).where(objects.c.collection_key == collection, objects.c.date_added.in_(chunk))
        )


_MARKING_DEFINITION = (
    select(objects.c.body)
    .where(
        # The collection key leads the (collection, object id, version) index: probe it per collection.
        objects.c.collection_key.in_(select(collections.c.key).scalar_subquery()),
        objects.c.object_id == bindparam("oid"),
        objects.c.type == "marking-definition",
    )
    .limit(10)
)


def marking_definitions(conn: Connection, object_id: str) -> list[dict[str, object]]:
    """The distinct stored copies of a marking definition, from every collection (a partner may store a
    different object under a known id in its own collection: the caller must refuse such conflicts)."""
    bodies = {bytes(b) for b in conn.execute(_MARKING_DEFINITION, {"oid": object_id}).scalars()}
    return [orjson.loads(b) for b in sorted(bodies)]


def held_ids(conn: Connection, object_ids: Sequence[str]) -> set[str]:
    """Which of `object_ids` the exchange holds, in any collection."""
    if not object_ids:
        return set()
    c = objects.c
    every = c.collection_key.in_(select(collections.c.key).scalar_subquery())
    stmt = select(c.object_id).where(every, c.object_id.in_(list(object_ids))).distinct()
    return {str(oid) for oid in conn.execute(stmt).scalars()}


def own_latest(conn: Connection, partner_id: int, object_ids: Sequence[str]) -> dict[str, dict[str, object]]:
    """The latest version of each of `object_ids` among the versions this partner itself added, in any
    collection, by id (ids it never added are absent: another partner's objects are not read)."""
    c = objects.c
    every = c.collection_key.in_(select(collections.c.key).scalar_subquery())
    ids = sorted(set(object_ids))
    latest: dict[str, tuple[str, bytes]] = {}
    for start in range(0, len(ids), SQLITE_MAX_PARAMS):
        stmt = select(c.object_id, c.version, c.body).where(
            every, c.object_id.in_(ids[start : start + SQLITE_MAX_PARAMS]), c.added_by == partner_id
        )
        for oid, version, body in conn.execute(stmt):
            if oid not in latest or version > latest[oid][0]:
                latest[oid] = (version, bytes(body))
    return {oid: orjson.loads(body) for oid, (_, body) in latest.items()}


def visible_versions(
    conn: Connection, object_ids: Sequence[str], readable: Sequence[str], labels: LabelFilter
) -> list[tuple[int, str, int, bool, bytes]]:
    """(collection key, object id, label id, released, body) of the versions of `object_ids` stored in the
    `readable` collections with an allowed label: what a partner may see of them, before sanitisation."""
    if not object_ids or not readable:
        return []
    c = objects.c
    keys = c.collection_key.in_(select(collections.c.key).where(collections.c.id.in_(list(readable))))
    shape = _Shape.of(TaxiiQuery(), labels)
    stmt = select(c.collection_key, c.object_id, c.label_id, c.released, c.body).where(
        keys, c.object_id.in_(list(object_ids)), _allowed(shape, objects)
    )
    params = {"open_labels": int_set(conn, labels.open), "gated_labels": int_set(conn, labels.gated)}
    rows = conn.execute(stmt, params)
    return [(int(r[0]), str(r[1]), int(r[2]), bool(r[3]), bytes(r[4])) for r in rows]


@dataclass(frozen=True)
class StoredLocation:
    """Where one version of an object is stored, with its label and release state (for operators)."""

    collection_id: str
    collection_name: str
    collection_key: int
    object_id: str
    version: str
    version_text: str
    label_id: int | None
    released: bool
    is_latest: bool
    body: bytes


def locations(conn: Connection, object_id: str) -> list[StoredLocation]:
    """Every stored version of `object_id`, in every collection, oldest first."""
    c = objects.c
    stmt = (
        select(
            collections.c.id,
            collections.c.name,
            c.collection_key,
            c.object_id,
            c.version,
            c.version_text,
            c.label_id,
            c.released,
            c.is_latest,
            c.body,
        )
        .join(collections, collections.c.key == c.collection_key)
        .where(c.collection_key.in_(select(collections.c.key).scalar_subquery()), c.object_id == object_id)
        .order_by(collections.c.name, c.version)
    )
    return [StoredLocation(*row) for row in conn.execute(stmt)]


def set_released(conn: Connection, collection: int, object_id: str, version: str, released: bool) -> int:
    stmt = (
        update(objects)
        .where(
            objects.c.collection_key == collection,
            objects.c.object_id == object_id,
            objects.c.version == version,
        )
        .values(released=released)
    )
    return int(conn.execute(stmt).rowcount)


def unlabelled(conn: Connection, limit: int) -> Sequence[Row[tuple[object, ...]]]:
    """(collection key, date added, body) of versions without a label (stored before labels existed)."""
    c = objects.c
    stmt = (
        select(c.collection_key, c.date_added, c.body)
        .where(c.label_id.is_(None))
        .order_by(c.collection_key, c.date_added)
        .limit(limit)
    )
    return conn.execute(stmt).all()


def set_label(conn: Connection, collection: int, date_added: int, label_id: int) -> None:
    conn.execute(
        update(objects)
        .where(objects.c.collection_key == collection, objects.c.date_added == date_added)
        .values(label_id=label_id)
    )
