"""Engines, transactions and every SQLite/PostgreSQL difference (nowhere else branches on the dialect).

The request or CLI command owns the transaction: `Database.write()` / `Database.read()` hand out a
connection inside one; services never commit."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Boolean, Connection, Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_WRITE = "gesher_write"
# SQLite's host-parameter limit is 32766 since 3.32; stay well below for IN lists and multi-row inserts.
SQLITE_MAX_PARAMS = 30000


def create_db_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=4, max_overflow=4)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to us (pysqlite otherwise BEGINs lazily and wrongly); see the SQLAlchemy
        # "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=30000",
            "cache_size=-32768",
            "temp_store=MEMORY",
            # Checkpoint every 64 MiB of WAL rather than every 4 MiB: checkpoints copy pages back and fsync,
            # and batching them more than doubles ingest throughput (measured: 41k -> 90k rows/s raw).
            "wal_autocheckpoint=16384",
            "journal_size_limit=67108864",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the lock up front so two writers never deadlock upgrading a read lock.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")

    return engine


def is_sqlite(conn_or_engine: Connection | Engine) -> bool:
    return conn_or_engine.dialect.name == "sqlite"


def dialect_insert(conn: Connection, table: Any) -> Any:
    """The dialect's own INSERT construct, which offers ON CONFLICT (upserts)."""
    return (sqlite_insert if is_sqlite(conn) else pg_insert)(table)


class in_int_set(FunctionElement[bool]):
    """`column IN <set of integers>` with the set bound as ONE parameter (see `int_set`), so a statement
    with a long, changing set (a partner's allowed access labels) is compiled once and executed without
    SQLAlchemy re-expanding a parameter list on every request."""

    type = Boolean()
    name = "in_int_set"
    inherit_cache = True


@compiles(in_int_set, "sqlite")
def _in_int_set_sqlite(element: in_int_set, compiler: Any, **kw: Any) -> str:
    column, values = list(element.clauses)
    return (
        f"{compiler.process(column, **kw)} IN (SELECT value FROM json_each({compiler.process(values, **kw)}))"
    )


@compiles(in_int_set, "postgresql")
def _in_int_set_postgresql(element: in_int_set, compiler: Any, **kw: Any) -> str:
    column, values = list(element.clauses)
    return f"{compiler.process(column, **kw)} = ANY(CAST({compiler.process(values, **kw)} AS INTEGER[]))"


def int_set(conn: Connection, values: Sequence[int]) -> object:
    """The parameter value for `in_int_set` on this connection's dialect."""
    ints = [int(v) for v in values]
    return orjson.dumps(ints).decode() if is_sqlite(conn) else ints


def bulk_insert(conn: Connection, table: Any, rows: Sequence[tuple[object, ...]]) -> None:
    """executemany straight on the driver, values in the table's column order. SQLAlchemy's per-row
    parameter processing costs more than SQLite's own insert on the ingest hot path."""
    if not rows:
        return
    marker = "?" if is_sqlite(conn) else "%s"
    columns = ", ".join(c.name for c in table.columns)
    placeholders = ", ".join([marker] * len(table.columns))
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({placeholders})", list(rows))


# Per engine: table -> (rows at the last ANALYZE, rows added since). Weak keys: it goes with the engine.
_growth: weakref.WeakKeyDictionary[Engine, dict[str, tuple[int, int]]] = weakref.WeakKeyDictionary()


def note_growth(conn: Connection, table: str, added: int) -> None:
    """Keep PostgreSQL's statistics in step with a growing table. Until autovacuum has analysed a young
    table, the planner reads ingest's 1,000-id IN lookup as matching most of the table and scans all of it
    (measured: 1,200 objects/s instead of 22,000 over the first 100k). So refresh the statistics whenever
    the table has doubled since they were last taken by this process: about twenty ANALYZEs up to
    millions of rows. SQLite plans from its indexes and needs none of this."""
    if is_sqlite(conn) or added <= 0:
        return
    tables = _growth.setdefault(conn.engine, {})
    analysed, since = tables.get(table, (0, 0))
    since += added
    if since >= max(1000, analysed):
        conn.exec_driver_sql(f"ANALYZE {table}")
        analysed, since = analysed + since, 0
    tables[table] = (analysed, since)


class Database:
    """The store's engine plus the two kinds of transaction gesher uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        # An indexed SQLite read is a few tens of microseconds of local CPU work: cheaper to run on the event
        # loop than to hand to a thread. PostgreSQL waits on the network, so its calls go to the threadpool.
        self.inline_reads = is_sqlite(self.engine)
        self.driver_error: type[Exception] = self.engine.dialect.loaded_dbapi.Error
        self._driver: Any = None  # a dedicated driver connection for `driver_write`
        self._driver_lock = threading.Lock()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def driver_write(self) -> Iterator[Any]:
        """A SQLite write transaction straight on a dedicated driver connection, yielding its cursor: for
        the ledger's group commit, which runs on the event loop for every response that discloses data and
        for which SQLAlchemy's connection and transaction handling cost four times the work (measured)."""
        if not self.inline_reads:
            raise RuntimeError("driver_write is for SQLite")
        with self._driver_lock:
            if self._driver is None:
                self._driver = self.engine.raw_connection()  # configured by the connect hook above
            cursor = self._driver.driver_connection.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def dispose(self) -> None:
        with self._driver_lock:
            if self._driver is not None:
                self._driver.close()
                self._driver = None
        self.engine.dispose()
