"""Small key/value settings that every worker sharing the database must agree on (e.g. the cursor key)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from gesher.store.db import dialect_insert
from gesher.store.tables import meta


def get(conn: Connection, key: str) -> str | None:
    return conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()


def set_if_absent(conn: Connection, key: str, value: str) -> str:
    """Store `value` unless a value exists; return the value in force (first writer wins)."""
    conn.execute(dialect_insert(conn, meta).values(key=key, value=value).on_conflict_do_nothing())
    current = get(conn, key)
    assert current is not None
    return current
