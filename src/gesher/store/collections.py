"""Collections: named containers of object versions (TAXII 2.1 section 5)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, or_, select

from gesher.store.tables import collections

# The collection every node keeps for the STIX definitions it publishes (gesher's marking extension):
# readable by every partner in good standing, writable by none.
DEFINITIONS_ID = "5b1f3c2e-8d4a-4e7b-9c61-2a0d9e4f7b13"
DEFINITIONS_NAME = "gesher-definitions"
# Early-warning alerts (issue 7): readable by every partner in good standing, writable by none; what each
# partner receives of it is decided by the tiered policy, as everywhere.
ALERTS_ID = "8d0c6b1e-3f52-4a9b-b7e4-6c1a2f90d5e7"
ALERTS_NAME = "alerts"


@dataclass(frozen=True)
class Collection:
    key: int
    id: str
    name: str
    description: str | None


def _from_row(row: object) -> Collection:
    return Collection(row.key, row.id, row.name, row.description)  # type: ignore[attr-defined]


def insert(conn: Connection, collection_id: str, name: str, description: str | None, now: int) -> Collection:
    result = conn.execute(
        collections.insert().values(
            id=collection_id, name=name, description=description, created_at=now, last_date_added=0
        )
    )
    return Collection(int(result.inserted_primary_key[0]), collection_id, name, description)


_BY_ID = select(collections).where(collections.c.id == bindparam("cid"))


def by_id(conn: Connection, collection_id: str) -> Collection | None:
    row = conn.execute(_BY_ID, {"cid": collection_id}).first()
    return _from_row(row) if row else None


def by_name_or_id(conn: Connection, ref: str) -> Collection | None:
    stmt = select(collections).where(or_(collections.c.id == ref, collections.c.name == ref))
    row = conn.execute(stmt).first()
    return _from_row(row) if row else None


def all_collections(conn: Connection) -> list[Collection]:
    return [_from_row(r) for r in conn.execute(select(collections).order_by(collections.c.name))]
