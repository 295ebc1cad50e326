"""The release gate's append-only history: who requested and who approved each object version's release."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select

from gesher.store.tables import release_events


@dataclass(frozen=True)
class ReleaseEvent:
    action: str
    actor: str
    reason: str
    at: int


def record(
    conn: Connection,
    collection: int,
    object_id: str,
    version: str,
    action: str,
    actor: str,
    reason: str,
    at: int,
) -> None:
    conn.execute(
        release_events.insert().values(
            collection_key=collection,
            object_id=object_id,
            version=version,
            action=action,
            actor=actor,
            reason=reason,
            at=at,
        )
    )


def history(conn: Connection, collection: int, object_id: str, version: str) -> list[ReleaseEvent]:
    e = release_events.c
    stmt = (
        select(e.action, e.actor, e.reason, e.at)
        .where(e.collection_key == collection, e.object_id == object_id, e.version == version)
        .order_by(e.id)
    )
    return [ReleaseEvent(*row) for row in conn.execute(stmt)]
