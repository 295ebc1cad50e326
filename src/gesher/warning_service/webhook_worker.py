"""The server's webhook deliverer (issue 7, "Alerts out"): a background thread running `deliver_due` about
once a second for the life of the app. Several workers or hosts may each run one: rows are leased, never
sent twice at once. An idle pass is one indexed read (no write lock). Stopping ends the current pass
between rows and waits for the request in flight (at most `webhook_timeout`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.concurrency import run_in_threadpool

from gesher.exchange.node import Node
from gesher.warning_service.webhook_delivery import deliver_due

log = logging.getLogger("gesher.webhooks")
INTERVAL_SECONDS = 1.0


class WebhookWorker:
    def __init__(self, node: Node, interval: float = INTERVAL_SECONDS) -> None:
        self.node = node
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gesher-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.node.warning_config.webhook_timeout + 10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                deliver_due(self.node, stop=self._stop)
            except Exception:  # a pass that fails (store unreachable...) is tried again next second
                log.exception("webhook.pass_failed")


def lifespan(node: Node) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """An ASGI lifespan running the deliverer while the app serves."""

    @asynccontextmanager
    async def run(_app: object) -> AsyncIterator[None]:
        worker = WebhookWorker(node)
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)

    return run
