"""Webhooks' REST API under /webhooks/v1/ (issue 7, "Alerts out").

- `GET key`: the public key partners verify webhook deliveries with (Ed25519, Standard Webhooks' `v1a`
  scheme; see `warning_service.webhook_signing`), as `gesher webhook key` prints it.

Callers authenticate as on TAXII (HTTP Basic or a bearer token). Webhooks themselves are registered by an
operator (`gesher webhook add`)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from gesher.api.auth import principal_from_header
from gesher.exchange.node import Node
from gesher.warning_service import webhook_signing


def webhooks_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/webhooks/v1", tags=["webhooks"])

    @router.get("/key", summary="The public key that verifies webhook signatures")
    async def public_key(request: Request) -> Response:
        def read() -> bytes:
            with node.db.read() as conn:
                principal_from_header(conn, request.headers.get("authorization"))
                known = webhook_signing.published_key(conn)
            if known is None:  # no delivery yet on this data directory: the key is made now
                with node.db.write() as conn:
                    known = webhook_signing.signer(conn, node.settings).public
            document = {
                "algorithm": "ed25519",
                "signature_version": webhook_signing.VERSION,
                "public_key": known,
                "signed_content": "{webhook-id}.{webhook-timestamp}.{body}",
            }
            return orjson.dumps(document)

        return Response(await run_in_threadpool(read), media_type="application/json")

    return router
