"""The ledger's REST API under /ledger/v1/ (issue 6, "Receipts for partners").

- `GET checkpoint`: the latest signed checkpoint (C2SP signed note, text/plain).
- `GET keys`: the ledger's origin and public keys (vkeys), current and retired: all a verifier needs.
- `GET entries/{index}/receipt`: the entry, an inclusion proof and a signed checkpoint that includes it;
  `gesher ledger verify-receipt` (or any RFC 9162 verifier) checks it with only the public key. A partner
  gets receipts for what was disclosed to it; another entry is as absent as one that does not exist.
- `GET consistency?old=M&new=N`: the proof that the tree of size N extends the tree of size M (RFC 9162
  2.1.4), so a partner holding two checkpoints can check the ledger was never rewritten.

Callers authenticate as on TAXII (HTTP Basic or a bearer token); administrators see every entry."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gesher.api.auth import principal_from_header
from gesher.errors import NotFound
from gesher.exchange.node import Node
from gesher.ledger.checkpoint import b64encode
from gesher.ledger.entries import Kind, decode
from gesher.policy.principal import Principal
from gesher.store import ledger as store

JSON = "application/json"
Size = Annotated[int, Query(ge=0, le=2**53 - 1)]


def ledger_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/ledger/v1", tags=["ledger"])

    def caller(request: Request) -> Principal:
        with node.db.read() as conn:
            return principal_from_header(conn, request.headers.get("authorization"))

    @router.get("/checkpoint", summary="The latest signed checkpoint (C2SP signed note)")
    async def checkpoint(request: Request) -> Response:
        await run_in_threadpool(caller, request)
        signed = await run_in_threadpool(node.ledger.checkpoint)
        return Response(signed.note, media_type="text/plain; charset=utf-8")

    @router.get("/keys", summary="The ledger's origin and public keys")
    async def public_keys(request: Request) -> Response:
        def read() -> bytes:
            caller(request)
            with node.db.read() as conn:
                found = store.keys(conn)
            listed = [{"vkey": v, "created_at": c, "retired_at": r} for v, c, r in found]
            return orjson.dumps({"origin": node.ledger.origin, "keys": listed})

        return Response(await run_in_threadpool(read), media_type=JSON)

    @router.get("/entries/{index}/receipt", summary="A receipt for one ledger entry")
    async def receipt(request: Request, index: int) -> Response:
        def read() -> bytes:
            principal = caller(request)
            with node.db.read() as conn:
                body = store.body(conn, index) if 0 <= index < 2**63 else None
            if body is None or not _concerns(principal, body):
                raise NotFound(f"no ledger entry {index} for you")
            return node.ledger.receipt(index)

        return Response(await run_in_threadpool(read), media_type=JSON)

    @router.get("/consistency", summary="A consistency proof between two tree sizes")
    async def consistency(request: Request, old: Size, new: Size) -> Response:
        def read() -> bytes:
            caller(request)
            with node.db.read() as conn:
                proof = node.ledger.consistency_proof(conn, old, new)
            return orjson.dumps({"old": old, "new": new, "proof": [b64encode(h) for h in proof]})

        return Response(await run_in_threadpool(read), media_type=JSON)

    return router


def _concerns(principal: Principal, body: bytes) -> bool:
    """Whether the caller may have this entry's receipt: an administrator any, a partner its disclosures."""
    if principal.is_admin:
        return True
    entry = decode(body)
    return entry.kind is Kind.DISCLOSURE and entry.fields["partner"] == principal.name
