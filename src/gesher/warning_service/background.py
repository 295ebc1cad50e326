"""What a serving process does in the background for early warning (issue 7), for the life of the app:

- **webhook delivery** (`webhook_delivery.deliver_due`) about once a second. Several workers or hosts may
  each run it: rows are leased, never sent twice at once; an idle pass is one indexed read;
- the **indicator index builder** (`indicator_builder.IndicatorBuilder`) about once a second: it waits
  until ingest has been quiet for a second, then indexes what was stored, in short transactions, taking
  a quarter of a core at most;
- the **escalation sweep** (`escalation.escalate`) every 30 s: unacknowledged alerts past their deadline
  escalate, are re-sent to the pending partners' webhooks and put on the incident board (each stage once,
  whichever worker gets there first).

Each runs on its own thread, so a slow webhook endpoint delays neither the index nor escalation. A pass
that fails (the store unreachable...) is logged and tried again at the next tick. Stopping ends each
loop between steps and waits for the webhook request in flight (at most the webhook timeout)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from gesher.exchange.node import Node
from gesher.warning_service.escalation import escalate
from gesher.warning_service.indicator_builder import IndicatorBuilder
from gesher.warning_service.webhook_delivery import deliver_due

log = logging.getLogger("gesher.background")
TICK_SECONDS = 1.0
ESCALATION_SECONDS = 30.0


class Periodic:
    """`job(stop)` on a daemon thread every `interval` seconds until `stop` is called."""

    def __init__(self, name: str, interval: float, job: Callable[[threading.Event], object]) -> None:
        self.name, self.interval, self.job = name, interval, job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"gesher-{self.name}", daemon=True)
            self._thread.start()

    def stop(self, wait: float) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=wait)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job(self._stop)
            except Exception:
                log.exception("background.pass_failed", extra={"job": self.name})


def jobs(node: Node) -> list[Periodic]:
    """The background jobs of one serving process."""
    builder = IndicatorBuilder(node.db)

    def deliver(stop: threading.Event) -> None:
        deliver_due(node, stop=stop)

    def build(stop: threading.Event) -> None:
        builder.step(stop)

    def sweep(_stop: threading.Event) -> None:
        with node.db.write() as conn:
            escalate(conn, node, datetime.now(UTC))

    return [
        Periodic("webhooks", TICK_SECONDS, deliver),
        Periodic("indicator-index", TICK_SECONDS, build),
        Periodic("escalation", ESCALATION_SECONDS, sweep),
    ]


def lifespan(node: Node) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """An ASGI lifespan running the background jobs while the app serves."""

    @asynccontextmanager
    async def run(_app: object) -> AsyncIterator[None]:
        running = jobs(node)
        for job in running:
            job.start()
        try:
            yield
        finally:
            wait = node.warning_config.webhook_timeout + 10
            await run_in_threadpool(lambda: [job.stop(wait) for job in running])

    return run
