"""TAXII status resources of object POSTs (TAXII 2.1 section 4.3), persisted so they can be polled from
any worker."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, select

from gesher.store.tables import statuses


@dataclass(frozen=True)
class StatusRow:
    id: str
    collection_id: str
    partner_id: int | None
    request_timestamp: int
    total_count: int
    success_count: int
    failure_count: int
    pending_count: int
    details: dict[str, list[dict[str, object]]]


def insert(conn: Connection, status: StatusRow) -> None:
    values = dict(status.__dict__)
    values["details"] = orjson.dumps(status.details)
    conn.execute(statuses.insert().values(**values))


def by_id(conn: Connection, status_id: str) -> StatusRow | None:
    row = conn.execute(select(statuses).where(statuses.c.id == status_id)).first()
    if row is None:
        return None
    values = row._asdict()
    values["details"] = orjson.loads(values["details"])
    return StatusRow(**values)
