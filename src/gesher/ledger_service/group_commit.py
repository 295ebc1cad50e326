"""Group commit for disclosure entries: every TAXII response with data is recorded before it is sent, and
one transaction per response would cost more than serving it. So entries that arrive together are appended
together, in ONE transaction, and every waiter is then released with its entry's index, as databases batch
their log flushes. Two forms:

- `LoopBatch` (SQLite, whose reads run on the event loop): entries queued during one turn of the loop are
  committed right after it by the loop itself, on a dedicated driver connection;
- `GroupCommit` (PostgreSQL, whose requests run in the threadpool, and synchronous callers such as
  `gesher export`): one appender thread appends whatever has queued up; it starts on the first entry and
  stops after a second idle, so a process (or a test) holding many nodes keeps no idle threads.

Nothing is sent before the commit that holds its entry (fail closed): a waiter gets its index or the error
that failed the batch (`Unavailable` for the store's errors). Entries arrive encoded and validated, so one
response cannot fail another's batch except through the store itself."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from gesher.errors import Unavailable
from gesher.ledger.entries import Entry
from gesher.ledger_service.log import append_encoded, append_with
from gesher.store.db import Database
from gesher.store.ledger import Appender

IDLE_SECONDS = 1.0
MAX_BATCH = 500  # entries per transaction (a 1,000-object page is ~150 kB of entry)

Outcome = int | BaseException
Settle = Callable[[Outcome], None]


@dataclass(frozen=True)
class _Pending:
    entry: Entry
    encoded: bytes
    settle: Settle


class GroupCommit:
    """One per Ledger (per process and store)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[_Pending] = []
        self._wake = threading.Condition()
        self._running = False

    def submit(self, entry: Entry, encoded: bytes, settle: Settle) -> None:
        """Queue an entry; `settle` is called from the appender thread with its index or the error."""
        with self._wake:
            self._queue.append(_Pending(entry, encoded, settle))
            if not self._running:
                self._running = True
                threading.Thread(target=self._run, name="gesher-ledger-appender", daemon=True).start()
            self._wake.notify()

    def append(self, entry: Entry, encoded: bytes) -> int:
        """Append and wait (from any thread but an event loop's)."""
        done = threading.Event()
        outcome: list[Outcome] = []

        def settle(result: Outcome) -> None:
            outcome.append(result)
            done.set()

        self.submit(entry, encoded, settle)
        done.wait()
        return _result(outcome[0])

    async def append_async(self, entry: Entry, encoded: bytes) -> int:
        """Append and wait without blocking the event loop: it serves other requests meanwhile, whose
        entries join the next batch."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()

        def settle(result: Outcome) -> None:
            loop.call_soon_threadsafe(_resolve, future, result)

        self.submit(entry, encoded, settle)
        return _result(await future)

    def _run(self) -> None:
        while batch := self._next_batch():
            commit(self.db, batch)

    def _next_batch(self) -> list[_Pending]:
        """What has queued up (waiting up to IDLE_SECONDS for something); empty: the thread ends."""
        with self._wake:
            if not self._queue:
                self._wake.wait(IDLE_SECONDS)
            if not self._queue:
                self._running = False
                return []
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            return batch


def commit(db: Database, batch: Sequence[_Pending]) -> None:
    """Append a batch in one transaction and settle every entry with its index, or all with the error."""
    pairs = [(p.entry, p.encoded) for p in batch]
    try:
        if db.inline_reads:  # SQLite, on the event loop: straight on the driver
            with db.driver_write() as cursor:
                first = append_with(Appender(cursor, error=db.driver_error), pairs)
        else:
            with db.write() as conn:
                first = append_encoded(conn, pairs)
        outcomes: list[Outcome] = [first + i for i in range(len(batch))]
    except (DBAPIError, db.driver_error) as error:
        cause = getattr(error, "orig", error)
        failed = Unavailable(f"the disclosure ledger cannot be appended ({cause}); nothing was served")
        outcomes = [failed] * len(batch)
    except Exception as error:
        outcomes = [error] * len(batch)
    for pending, outcome in zip(batch, outcomes, strict=True):
        pending.settle(outcome)


class LoopBatch:
    """Group commit on an event loop's own thread, for SQLite (whose reads already run inline): entries
    queued during one turn of the loop are committed together right after it, by the loop. A second thread
    would only fight the loop for the GIL (measured: a one-entry batch then took 0.8 ms of wall time), and
    requests answered together come back together, so batches grow with load on their own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queued: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}

    async def append(self, entry: Entry, encoded: bytes) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()
        queued = self._queued.get(loop)
        if queued is None:
            queued = self._queued[loop] = []
            loop.call_soon(self._flush, loop)  # after every callback already due in this turn
        queued.append(_Pending(entry, encoded, lambda outcome: _resolve(future, outcome)))
        return _result(await future)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._queued.pop(loop, [])
        for start in range(0, len(batch), MAX_BATCH):
            commit(self.db, batch[start : start + MAX_BATCH])


def _resolve(future: asyncio.Future[Outcome], result: Outcome) -> None:
    if not future.done():
        future.set_result(result)


def _result(outcome: Outcome) -> int:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
