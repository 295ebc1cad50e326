"""Watchlist files as loaded (kept whole) and the list versions they held; the newest version of each list
name is the one in force."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from gesher.store.tables import watchlist_files, watchlists


@dataclass(frozen=True)
class StoredList:
    id: int
    name: str
    version: str
    published: str
    confidential: bool
    entries: int
    file_id: int
    filename: str
    loaded_at: int
    actor: str


@dataclass(frozen=True)
class StoredFile:
    id: int
    filename: str
    content: str
    arguments: str  # JSON


def add_file(
    conn: Connection,
    filename: str,
    digest: str,
    content: str,
    arguments: str,
    at: int,
    actor: str,
    reason: str,
) -> int:
    values = {"filename": filename, "digest": digest, "content": content, "arguments": arguments}
    result = conn.execute(watchlist_files.insert().values(**values, loaded_at=at, actor=actor, reason=reason))
    return int(result.inserted_primary_key[0])


def add_list(
    conn: Connection, file_id: int, name: str, version: str, published: str, confidential: bool, entries: int
) -> int:
    values = {"name": name, "version": version, "published": published, "confidential": confidential}
    result = conn.execute(watchlists.insert().values(file_id=file_id, entries=entries, **values))
    return int(result.inserted_primary_key[0])


def has_version(conn: Connection, name: str, version: str) -> bool:
    stmt = select(watchlists.c.id).where(watchlists.c.name == name, watchlists.c.version == version)
    return conn.execute(stmt).first() is not None


_COLUMNS = (
    watchlists.c.id,
    watchlists.c.name,
    watchlists.c.version,
    watchlists.c.published,
    watchlists.c.confidential,
    watchlists.c.entries,
    watchlists.c.file_id,
    watchlist_files.c.filename,
    watchlist_files.c.loaded_at,
    watchlist_files.c.actor,
)


def history(conn: Connection) -> list[StoredList]:
    """Every list version ever loaded, oldest first."""
    stmt = select(*_COLUMNS).join(watchlist_files).order_by(watchlists.c.id)
    return [StoredList(*r) for r in conn.execute(stmt)]


def in_force(conn: Connection) -> list[StoredList]:
    """Per list name, the version loaded last."""
    newest = select(func.max(watchlists.c.id)).group_by(watchlists.c.name)
    stmt = (
        select(*_COLUMNS).join(watchlist_files).where(watchlists.c.id.in_(newest)).order_by(watchlists.c.name)
    )
    return [StoredList(*r) for r in conn.execute(stmt)]


def files(conn: Connection, file_ids: list[int]) -> list[StoredFile]:
    stmt = select(
        watchlist_files.c.id,
        watchlist_files.c.filename,
        watchlist_files.c.content,
        watchlist_files.c.arguments,
    ).where(watchlist_files.c.id.in_(file_ids))
    return [StoredFile(*r) for r in conn.execute(stmt.order_by(watchlist_files.c.id))]


def state(conn: Connection) -> int:
    """The newest list version's id (0: none): what a process checks to know its screener is current."""
    return int(conn.execute(select(func.coalesce(func.max(watchlists.c.id), 0))).scalar_one())
