"""Stored policies: every version ever loaded, append-only; the newest is in force."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from gesher.store.tables import access_labels, policies


@dataclass(frozen=True)
class StoredPolicy:
    id: int
    version: int
    digest: str
    text: str
    loaded_at: int
    actor: str
    reason: str


def add(conn: Connection, version: int, digest: str, text: str, at: int, actor: str, reason: str) -> int:
    result = conn.execute(
        policies.insert().values(
            version=version, digest=digest, text=text, loaded_at=at, actor=actor, reason=reason
        )
    )
    return int(result.inserted_primary_key[0])


def current_id(conn: Connection) -> int:
    """The id of the policy in force (0: none loaded yet, so the built-in deny-all policy applies)."""
    return int(conn.execute(select(func.coalesce(func.max(policies.c.id), 0))).scalar_one())


def by_id(conn: Connection, policy_id: int) -> StoredPolicy | None:
    row = conn.execute(select(policies).where(policies.c.id == policy_id)).first()
    return StoredPolicy(*row) if row else None


def history(conn: Connection) -> list[StoredPolicy]:
    return [StoredPolicy(*r) for r in conn.execute(select(policies).order_by(policies.c.id))]


POLICY_IN_FORCE = select(func.coalesce(func.max(policies.c.id), 0)).scalar_subquery()
# A count, not the highest id: on PostgreSQL writers of different collections commit concurrently, so a
# label with a lower id can become visible after one with a higher id. Labels are never deleted.
LABEL_COUNT = select(func.count()).select_from(access_labels).scalar_subquery()
_STATE = select(POLICY_IN_FORCE, LABEL_COUNT)


def state(conn: Connection) -> tuple[int, int]:
    """(policy in force, number of labels) in one query: what every request checks to know whether its
    process's cached decisions are still current."""
    row = conn.execute(_STATE).one()
    return int(row[0]), int(row[1])
