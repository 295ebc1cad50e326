"""The server's indicator-index builder (issue 7): keeps `indicator_keys` current without competing with
ingest. Ingest writes nothing for the index (see `indicator_keys`); this builder indexes what was stored
since the cursors, in small transactions, once ingest has been quiet for a moment: while a burst of
objects is arriving it waits, so the burst keeps its full rate, and lookups meanwhile read what is not
indexed yet directly (and every sighting indexes a bounded amount itself)."""

from __future__ import annotations

import time
from collections.abc import Callable

from gesher.store import indicator_index as store
from gesher.store.db import Database
from gesher.warning_service.indicator_keys import catch_up

QUIET_SECONDS = 1.0  # ingest idle this long before building
STEP = 2_000  # indicator versions per transaction: a short hold of the write lock


class IndicatorBuilder:
    """One per server process; `step` is called about once a second by the background runner."""

    def __init__(
        self,
        db: Database,
        quiet: float = QUIET_SECONDS,
        step: int = STEP,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.quiet = quiet
        self.batch = step
        self.clock = clock
        self._mark: int | None = None
        self._changed_at = clock()

    def step(self) -> int:
        """Index up to a few batches if ingest has been quiet (one read otherwise); how many versions."""
        with self.db.read() as conn:
            mark = store.ingest_mark(conn)
        now = self.clock()
        if mark != self._mark:
            self._mark, self._changed_at = mark, now
        if now - self._changed_at < self.quiet:
            return 0
        done = 0
        while True:
            with self.db.write() as conn:
                indexed = catch_up(conn, self.batch)
            done += indexed
            if indexed < self.batch or self._ingesting():
                return done

    def _ingesting(self) -> bool:
        with self.db.read() as conn:
            return store.ingest_mark(conn) != self._mark
