"""Throwaway databases for tests: one fresh PostgreSQL database per use, cloned from the migrated template."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

TEMPLATE = "gesher_template"
_counter = itertools.count()


def sqlalchemy_uri(uri: str, dbname: str) -> str:
    """pgserver's libpq URI (postgresql://postgres:@/postgres?host=/tmp/...) for another database, in
    SQLAlchemy's psycopg 3 form."""
    head, _, query = uri.partition("?")
    base = head.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{dbname}?{query}"


@contextmanager
def fresh_postgres_database(base_uri: str, prefix: str) -> Iterator[str]:
    """A new database cloned from the migrated template (fast), dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(base_uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    try:
        yield sqlalchemy_uri(base_uri, name)
    finally:
        with psycopg.connect(base_uri, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
