"""A real HTTP webhook receiver on 127.0.0.1 for tests (http.server in a thread). It answers with the
statuses it is given in turn (then 200), may be slow, and checks every delivery's Standard Webhooks
signature with the exchange's public key, as a partner would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gesher.warning_service.webhook_signing import verify


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool
    at: float

    @property
    def payload(self) -> dict[str, object]:
        return dict(orjson.loads(self.body))


@dataclass
class Receiver:
    public_key: Callable[[], Ed25519PublicKey]
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)  # sent with every answer that is not 2xx
    on_receive: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _handle(self, handler: BaseHTTPRequestHandler) -> int:
        length = int(handler.headers.get("content-length", "0"))
        body = handler.rfile.read(length)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        got = Received(handler.path, headers, body, verify(self.public_key(), headers, body), time.time())
        if self.on_receive is not None:
            try:
                self.on_receive(got)
            except BaseException as error:  # reported by the test, not swallowed by http.server
                self.errors.append(error)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.received.append(got)
            return self.statuses.pop(0) if self.statuses else 200


@contextmanager
def receiver(public_key: Callable[[], Ed25519PublicKey], **options: object) -> Iterator[Receiver]:
    state = Receiver(public_key, **options)  # type: ignore[arg-type]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status = state._handle(self)
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.url("/elsewhere"))
            if not 200 <= status < 300:
                for name, value in state.headers.items():
                    self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
