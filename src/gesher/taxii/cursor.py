"""Stateless, signed paging cursors: valid across worker processes, hosts and restarts.

A cursor names the last date_added served; the next page is everything strictly after it. date_added is
unique and assigned in commit order per collection, so objects added while a client pages are neither
skipped nor duplicated. The token binds the collection, the endpoint, the caller and the filters (the
client repeats the same query with `next`, TAXII 2.1 section 3.4), and expires."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from gesher.errors import InvalidRequest

_SIG_BYTES = 16


@dataclass(frozen=True)
class CursorScope:
    collection_id: str
    endpoint: str
    partner_id: int
    filter_digest_source: bytes

    def digest(self) -> str:
        material = b"\x00".join(
            [self.collection_id.encode(), self.endpoint.encode(), str(self.partner_id).encode()]
        )
        return hashlib.sha256(material + b"\x00" + self.filter_digest_source).hexdigest()[:32]


class CursorCodec:
    def __init__(self, key: bytes, ttl_seconds: int) -> None:
        self._key = key
        self._ttl_us = ttl_seconds * 1_000_000

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIG_BYTES]

    def encode(self, scope: CursorScope, position: int, now: int) -> str:
        payload = orjson.dumps([scope.digest(), position, now + self._ttl_us])
        return base64.urlsafe_b64encode(payload + self._sign(payload)).decode().rstrip("=")

    def decode(self, token: str, scope: CursorScope, now: int) -> int:
        """The position a token carries, or InvalidRequest if it is forged, foreign, stale or reused with
        other filters."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            raise InvalidRequest("next is not a token this server issued") from None
        payload, signature = raw[:-_SIG_BYTES], raw[-_SIG_BYTES:]
        if len(raw) <= _SIG_BYTES or not hmac.compare_digest(signature, self._sign(payload)):
            raise InvalidRequest("next is not a token this server issued")
        digest, position, expires = orjson.loads(payload)
        if digest != scope.digest():
            raise InvalidRequest("next was issued for another collection, endpoint or set of filters")
        if now > expires:
            raise InvalidRequest("next has expired; start again from the first page or use added_after")
        return int(position)
