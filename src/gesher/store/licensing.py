"""Licensing states and their history. A state row holds the pure core's dataclass whole (`body`) plus the
columns queries filter on; `save` compare-and-sets on the core's `version`, so of two transactions that read
the same version only the first to write wins (the other gets Conflict, "read it again"). The history
(`licensing_events`) is append-only: nothing here updates or deletes a row of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Connection, Table, insert, select, update

from gesher.errors import Conflict
from gesher.licensing.applications import Application
from gesher.licensing.catalog import Capability, Classification
from gesher.licensing.gates import Project
from gesher.licensing.history import Event
from gesher.licensing.licences import Licence
from gesher.licensing.misuse import MisuseReport
from gesher.store.licensing_codec import dumps, loads
from gesher.store.tables import (
    licences,
    licensing_applications,
    licensing_events,
    licensing_items,
    licensing_projects,
    misuse_reports,
)

S = TypeVar("S", Project, Application, Licence, MisuseReport)


@dataclass(frozen=True)
class Kind(Generic[S]):
    """How one kind of state is stored: its table, class and the columns derived from it."""

    name: str
    table: Table
    cls: type[S]
    columns: Callable[[S], dict[str, object]]


PROJECT: Kind[Project] = Kind(
    "project",
    licensing_projects,
    Project,
    lambda p: {"item": p.item, "vendor": p.vendor, "state": p.state},
)
APPLICATION: Kind[Application] = Kind(
    "application",
    licensing_applications,
    Application,
    lambda a: {
        "kind": a.kind.value,
        "item": a.item,
        "vendor": a.vendor,
        "country": ",".join(a.countries),
        "end_user": a.end_user,
        "state": a.state.value,
    },
)
LICENCE: Kind[Licence] = Kind(
    "licence",
    licences,
    Licence,
    lambda x: {
        "application": x.application,
        "kind": x.kind.value,
        "item": x.item,
        "vendor": x.vendor,
        "country": ",".join(x.countries),
        "end_user": x.end_user,
        "state": x.state.value,
    },
)
MISUSE: Kind[MisuseReport] = Kind(
    "misuse",
    misuse_reports,
    MisuseReport,
    lambda m: {"country": m.country.strip().upper()[:2], "end_user": m.end_user, "state": m.state.value},
)


# --- catalog -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredItem:
    capability: Capability
    classification: Classification
    created_at: int
    actor: str

    @property
    def name(self) -> str:
        return self.capability.name

    @property
    def vendor(self) -> str:
        return self.capability.vendor


def add_item(
    conn: Connection, capability: Capability, classification: Classification, at: int, actor: str
) -> None:
    """A new catalog item (the caller checked the name is free; the primary key refuses a duplicate)."""
    values = {
        "name": capability.name,
        "vendor": capability.vendor,
        "tier": classification.tier.value,
        "capability": dumps(capability),
        "classification": dumps(classification),
        "created_at": at,
        "actor": actor,
    }
    conn.execute(insert(licensing_items).values(**values))


def item(conn: Connection, name: str) -> StoredItem | None:
    row = conn.execute(select(licensing_items).where(licensing_items.c.name == name)).first()
    return _item(row) if row else None


def items(conn: Connection, vendor: str | None = None) -> list[StoredItem]:
    stmt = select(licensing_items).order_by(licensing_items.c.name)
    if vendor is not None:
        stmt = stmt.where(licensing_items.c.vendor == vendor)
    return [_item(r) for r in conn.execute(stmt)]


def _item(row: Any) -> StoredItem:
    m = row._mapping
    return StoredItem(
        loads(Capability, m["capability"]),
        loads(Classification, m["classification"]),
        m["created_at"],
        m["actor"],
    )


# --- states --------------------------------------------------------------------------------------------


def insert_state(conn: Connection, kind: Kind[S], state: S, at: int, **extra: object) -> None:
    """A new row (its id must be free: the primary key refuses a duplicate)."""
    values = {"id": state.id, "version": state.version, "body": dumps(state), "updated_at": at}
    conn.execute(insert(kind.table).values(**values, **kind.columns(state), **extra))


def save(conn: Connection, kind: Kind[S], state: S, expected: int, at: int) -> None:
    """Store a state moved on from version `expected`: 0 rows updated means another transaction changed it
    since it was read, and nothing is written."""
    table = kind.table
    stmt = (
        update(table)
        .where(table.c.id == state.id, table.c.version == expected)
        .values(version=state.version, body=dumps(state), updated_at=at, **kind.columns(state))
    )
    if conn.execute(stmt).rowcount != 1:
        raise Conflict(
            f"{kind.name} {state.id} was changed by someone else since it was read: read it again",
            details={"expected_version": expected},
        )


def load(conn: Connection, kind: Kind[S], state_id: str) -> S | None:
    row = conn.execute(select(kind.table.c.body).where(kind.table.c.id == state_id)).first()
    return loads(kind.cls, row[0]) if row else None


def find(conn: Connection, kind: Kind[S], **where: object) -> list[S]:
    """Every state whose columns equal the values given (a tuple or list value: any of them), by id."""
    stmt = select(kind.table.c.body).order_by(kind.table.c.id)
    for column, value in where.items():
        col = kind.table.c[column]
        stmt = stmt.where(col.in_(value) if isinstance(value, tuple | list | frozenset) else col == value)
    return [loads(kind.cls, r[0]) for r in conn.execute(stmt)]


def declared(conn: Connection, application_id: str) -> dict[str, object]:
    stmt = select(licensing_applications.c.declared).where(licensing_applications.c.id == application_id)
    row = conn.execute(stmt).first()
    return orjson.loads(row[0]) if row else {}


# --- history -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredEvent:
    id: int
    subject_kind: str
    subject_id: str
    action: str
    actor: str
    role: str
    from_state: str
    to_state: str
    reason: str
    at: int
    version: int
    details: tuple[tuple[str, str], ...]

    @property
    def subject(self) -> str:
        return f"{self.subject_kind}:{self.subject_id}"


def add_events(conn: Connection, events: Iterable[Event]) -> None:
    """Append the core's events, in order."""
    rows = [_event_row(e) for e in events]
    if rows:
        conn.execute(insert(licensing_events), rows)


def _event_row(e: Event) -> dict[str, object]:
    kind, _, subject_id = e.subject.partition(":")
    return {
        "subject_kind": kind,
        "subject_id": subject_id,
        "action": e.action,
        "actor": e.actor,
        "role": str(e.role),
        "from_state": e.from_state,
        "to_state": e.to_state,
        "reason": e.reason,
        "at": int(e.at.timestamp() * 1_000_000),
        "version": e.version,
        "details": orjson.dumps([list(d) for d in e.details]).decode(),
    }


def events(
    conn: Connection, subject_kind: str | None = None, subject_id: str | None = None
) -> list[StoredEvent]:
    """The history, oldest first, of one subject, one kind of subject, or everything."""
    t = licensing_events
    stmt = select(t).order_by(t.c.id)
    if subject_kind is not None:
        stmt = stmt.where(t.c.subject_kind == subject_kind)
    if subject_id is not None:
        stmt = stmt.where(t.c.subject_id == subject_id)
    return [_stored_event(r) for r in conn.execute(stmt)]


def _stored_event(row: Any) -> StoredEvent:
    m = row._mapping
    details = tuple((str(k), str(v)) for k, v in orjson.loads(m["details"]))
    return StoredEvent(
        m["id"], m["subject_kind"], m["subject_id"], m["action"], m["actor"], m["role"],
        m["from_state"], m["to_state"], m["reason"], m["at"], m["version"], details,
    )  # fmt: skip
