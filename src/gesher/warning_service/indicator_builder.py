"""The server's indicator-index builder (issue 7): keeps `indicator_keys` current without competing with
ingest. Ingest writes nothing for the index (see `indicator_keys`); this builder indexes what was stored
since the cursors, in small transactions, once ingest has been quiet for a moment: while a burst of
objects is arriving it waits, so the burst keeps its full rate, and lookups meanwhile read what is not
indexed yet directly (and every sighting indexes a bounded amount itself)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from gesher.store import indicator_index as store
from gesher.store.db import Database
from gesher.warning_service.indicator_keys import catch_up

QUIET_SECONDS = 1.0  # ingest idle this long before building
STEP = 250  # indicator versions per transaction: short holds of the write lock and of the GIL (the p99)
# The share of one core the builder takes while it works: it shares the serving process (and its GIL) with
# the requests, so after a bulk load it pauses between batches rather than halve the readers' rate. At
# this share about 8,000 indicators/s (full speed: 34,000/s in process at 200,000 stored), so a
# million take two minutes or more.
DUTY = 0.25


class IndicatorBuilder:
    """One per server process; `step` is called about once a second by the background runner."""

    def __init__(
        self,
        db: Database,
        quiet: float = QUIET_SECONDS,
        step: int = STEP,
        clock: Callable[[], float] = time.monotonic,
        duty: float = DUTY,
    ) -> None:
        self.db = db
        self.quiet = quiet
        self.batch = step
        self.clock = clock
        self.duty = duty
        self._mark: int | None = None
        self._changed_at = clock()

    def step(self, stop: threading.Event | None = None) -> int:
        """Index batch after batch if ingest has been quiet (one read otherwise), pausing between batches to
        keep to `duty`; stops early when ingest resumes or `stop` is set. How many versions it indexed."""
        with self.db.read() as conn:
            mark = store.ingest_mark(conn)
        now = self.clock()
        if mark != self._mark:
            self._mark, self._changed_at = mark, now
        if now - self._changed_at < self.quiet:
            return 0
        done = 0
        while True:
            started = time.perf_counter()
            with self.db.write() as conn:
                indexed = catch_up(conn, self.batch)
            done += indexed
            if indexed < self.batch or self._ingesting():
                return done
            pause = (time.perf_counter() - started) * (1 - self.duty) / self.duty
            if stop is not None and stop.wait(pause):
                return done

    def _ingesting(self) -> bool:
        with self.db.read() as conn:
            return store.ingest_mark(conn) != self._mark
