"""Two officers load the same list version at once on PostgreSQL (SQLite's writers never overlap: BEGIN
IMMEDIATE): the second waits on the first's unique-index entry, then gets a clear Conflict, never a 500,
and the store holds the version once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from gesher.errors import Conflict
from gesher.exchange.node import Node
from gesher.partners import watchlists
from gesher.settings import Settings
from gesher.store import watchlists as store
from tests.databases import fresh_postgres_database

LIST = "id,schema,name,listed_since\nc-1,Company,Vantablack Intrusion Systems Ltd,2024-01-10\n"


@pytest.fixture
def pg_node(pg_base_uri: str, tmp_path: Path) -> Iterator[Node]:
    with fresh_postgres_database(pg_base_uri, "wl") as url:
        node = Node.init(Settings(data_dir=tmp_path, database_url=url))
        yield node
        node.db.dispose()


def _waiting_on_a_lock(node: Node) -> bool:
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    with node.db.engine.connect() as conn:
        return bool(conn.execute(query).scalar_one())


def _load(conn: Connection) -> None:
    watchlists.load(conn, "officer", LIST, "national.csv", "race", "national", "1", date(2026, 1, 1))


def test_a_version_loaded_twice_at_once_is_a_conflict_for_the_second(pg_node: Node) -> None:
    outcome: list[BaseException | None] = []
    first_loaded = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with pg_node.db.write() as conn:
            _load(conn)
            first_loaded.set()
            release_first.wait(10)

    def second() -> None:
        try:
            with pg_node.db.write() as conn:
                _load(conn)
            outcome.append(None)
        except Exception as exc:  # the outcome is what this test asserts
            outcome.append(exc)

    a = threading.Thread(target=first)
    a.start()
    assert first_loaded.wait(10)
    b = threading.Thread(target=second)
    b.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock(pg_node) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_on_a_lock(pg_node), "the second load should wait on the first's index entry"
    release_first.set()
    a.join(10)
    b.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict), outcome
    with pg_node.db.read() as conn:
        assert [(w.name, w.version) for w in store.history(conn)] == [("national", "1")]
