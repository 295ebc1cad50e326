"""Queries of the disclosure ledger's tables: entries (Merkle leaves), the head, signed checkpoints and public
keys. Appends lock the head row, so leaf indices stay dense however many workers append at once."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from gesher.store.db import bulk_insert, dialect_insert, is_sqlite
from gesher.store.tables import ledger_checkpoints, ledger_entries, ledger_head, ledger_keys

_HEAD = 1
EntryRow = tuple[int, str, int, str | None, bytes, bytes]  # idx, kind, at, partner, body, leaf hash


@dataclass(frozen=True)
class Head:
    size: int
    root: bytes
    frontier: bytes  # the right edge's hashes, concatenated


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str
    signed_at: int


def ensure_head(conn: Connection, empty_root: bytes) -> None:
    """Create the empty log's head unless it exists."""
    values = {"id": _HEAD, "size": 0, "root": empty_root, "frontier": b""}
    conn.execute(dialect_insert(conn, ledger_head).values(**values).on_conflict_do_nothing())


# Every TAXII response that discloses anything appends: the append runs straight on the driver's cursor
# (inside the caller's transaction), as SQLAlchemy's statement handling cost several times the SQL itself
# (measured on SQLite: 75 us for reading and writing the head through it, 8 us on the driver).
_READ_HEAD = f"SELECT size, root, frontier FROM {ledger_head.name} WHERE id = {_HEAD}"
_WRITE_HEAD = f"UPDATE {ledger_head.name} SET size = ?, root = ?, frontier = ? WHERE id = {_HEAD}"
_INSERT = (
    f"INSERT INTO {ledger_entries.name} (idx, kind, at, partner, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Appender:
    """The ledger's append statements on a DBAPI cursor in an open transaction. `postgresql`: the driver
    takes %s markers, and the head is locked with FOR UPDATE (SQLite writers hold the database lock)."""

    cursor: Any
    postgresql: bool = False
    error: type[Exception] = Exception  # the driver's DB-API Error: what a failed statement raises

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgresql else sql

    def head(self) -> Head | None:
        self.cursor.execute(_READ_HEAD + (" FOR UPDATE" if self.postgresql else ""))
        row = self.cursor.fetchone()
        return Head(int(row[0]), bytes(row[1]), bytes(row[2])) if row else None

    def append(self, rows: Sequence[EntryRow], head: Head) -> None:
        self.cursor.executemany(self._sql(_INSERT), rows)
        self.cursor.execute(self._sql(_WRITE_HEAD), (head.size, head.root, head.frontier))


def appender(conn: Connection) -> Appender:
    """The append statements inside this SQLAlchemy connection's transaction."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    return Appender(cursor, postgresql=not is_sqlite(conn), error=conn.dialect.loaded_dbapi.Error)


def head(conn: Connection, lock: bool = False) -> Head | None:
    """The head, as this transaction sees it; with `lock`, locked until the transaction ends."""
    if lock:
        return appender(conn).head()
    row = conn.exec_driver_sql(_READ_HEAD).first()
    return Head(int(row[0]), bytes(row[1]), bytes(row[2])) if row else None


def insert_entries(conn: Connection, rows: Sequence[EntryRow]) -> None:
    bulk_insert(conn, ledger_entries, rows)


def body(conn: Connection, index: int) -> bytes | None:
    found = conn.execute(select(ledger_entries.c.body).where(ledger_entries.c.idx == index)).scalar()
    return bytes(found) if found is not None else None


def leaf_hashes(conn: Connection, start: int, stop: int) -> list[bytes]:
    e = ledger_entries.c
    stmt = select(e.leaf_hash).where(e.idx >= start, e.idx < stop).order_by(e.idx)
    return [bytes(h) for h in conn.execute(stmt).scalars()]


def entries(conn: Connection, start: int = 0, batch: int = 5000) -> Iterator[EntryRow]:
    """Every entry from `start` on, in index order, read in batches (verification streams the log)."""
    e = ledger_entries.c
    columns = (e.idx, e.kind, e.at, e.partner, e.body, e.leaf_hash)
    while True:
        stmt = select(*columns).where(e.idx >= start).order_by(e.idx).limit(batch)
        rows = conn.execute(stmt).all()
        for idx, kind, at, partner, data, leaf in rows:
            yield int(idx), str(kind), int(at), partner, bytes(data), bytes(leaf)
        if len(rows) < batch:
            return
        start = int(rows[-1][0]) + 1


def entry_count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger_entries)).scalar_one())


def bodies_of_kind(
    conn: Connection, kind: str, since: int | None = None, until: int | None = None
) -> Iterator[tuple[int, bytes]]:
    """(index, body) of the entries of one kind, optionally within [since, until) (microseconds)."""
    e = ledger_entries.c
    stmt = select(e.idx, e.body).where(e.kind == kind)
    if since is not None:
        stmt = stmt.where(e.at >= since)
    if until is not None:
        stmt = stmt.where(e.at < until)
    for idx, data in conn.execute(stmt.order_by(e.idx)):
        yield int(idx), bytes(data)


# --- checkpoints ---------------------------------------------------------------------------------------


def add_checkpoint(conn: Connection, checkpoint: StoredCheckpoint) -> None:
    values = {
        "size": checkpoint.size,
        "root": checkpoint.root,
        "note": checkpoint.note,
        "signed_at": checkpoint.signed_at,
    }
    conn.execute(dialect_insert(conn, ledger_checkpoints).values(**values).on_conflict_do_nothing())


def _checkpoint(row: object) -> StoredCheckpoint:
    size, root, note, signed_at = row  # type: ignore[misc]
    return StoredCheckpoint(int(size), bytes(root), str(note), int(signed_at))


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    c = ledger_checkpoints.c
    row = conn.execute(select(c.size, c.root, c.note, c.signed_at).order_by(c.size.desc()).limit(1)).first()
    return _checkpoint(row) if row else None


def checkpoint_at(conn: Connection, size: int) -> StoredCheckpoint | None:
    c = ledger_checkpoints.c
    row = conn.execute(select(c.size, c.root, c.note, c.signed_at).where(c.size == size)).first()
    return _checkpoint(row) if row else None


def checkpoints(conn: Connection) -> list[StoredCheckpoint]:
    c = ledger_checkpoints.c
    rows = conn.execute(select(c.size, c.root, c.note, c.signed_at).order_by(c.size)).all()
    return [_checkpoint(r) for r in rows]


# --- keys ----------------------------------------------------------------------------------------------


def add_key(conn: Connection, vkey: str, at: int) -> None:
    conn.execute(insert(ledger_keys).values(vkey=vkey, created_at=at, retired_at=None))


def retire_keys(conn: Connection, at: int) -> None:
    k = ledger_keys.c
    conn.execute(update(ledger_keys).where(k.retired_at.is_(None)).values(retired_at=at))


def keys(conn: Connection) -> list[tuple[str, int, int | None]]:
    """(vkey, created at, retired at) of every key the ledger has used, oldest first."""
    k = ledger_keys.c
    rows = conn.execute(select(k.vkey, k.created_at, k.retired_at).order_by(k.id)).all()
    return [(str(v), int(c), int(r) if r is not None else None) for v, c, r in rows]
