"""Webhooks' REST API under /webhooks/v1/ (issue 7, "Alerts out").

- `GET key`: the public key partners verify webhook deliveries with (Ed25519, Standard Webhooks' `v1a`
  scheme; see `warning_service.webhook_signing`), as `gesher webhook key` prints it.
- `GET hooks`, `POST hooks` (`{"url": ..., "min_level": 1}`), `DELETE hooks/{id}`: a vetted partner
  manages its own webhooks. Its URLs must be https and resolve only to public addresses (checked again at
  every delivery, and the request pinned to the address checked): the exchange never posts into its own
  network for a partner. Plain http to a loopback receiver is for operators (`gesher webhook add`).

Callers authenticate as on TAXII (HTTP Basic or a bearer token); another partner's webhook answers like
one that does not exist. Each change is an audit event with actor `partner:<name>`."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from gesher.api.auth import principal_from_header
from gesher.api.rest import Body, NodeDep, documented, json_body, json_response, text
from gesher.errors import Forbidden
from gesher.exchange.node import Node
from gesher.policy.principal import Principal
from gesher.warning_service import webhook_signing, webhooks
from gesher.warning_service.webhook_delivery import PARTNER_ACTOR
from gesher.warning_service.webhook_urls import MAX_LENGTH, check_partner_url

HookId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class HookBody(Body):
    url: Annotated[str, text(MAX_LENGTH)]
    min_level: int = Field(
        1, ge=1, le=3, description="lowest alert level sent: 1 watch, 2 campaign, 3 national"
    )


def _vetted(request: Request, node: NodeDep) -> Principal:
    """The calling partner, if it may have webhooks: vetted (a trust tier) or an administrator."""
    with node.db.read() as conn:
        principal = principal_from_header(conn, request.headers.get("authorization"))
    tier = principal.entitlement.trust_tier if principal.entitlement else None
    if tier is None and not principal.is_admin:
        raise Forbidden("webhooks are for vetted partners")
    return principal


Vetted = Annotated[Principal, Depends(_vetted)]


def webhooks_router(node: Node) -> APIRouter:
    router = APIRouter(prefix="/webhooks/v1", tags=["webhooks"])

    def caller(request: Request) -> Principal:
        with node.db.read() as conn:
            return principal_from_header(conn, request.headers.get("authorization"))

    @router.get("/key", summary="The public key that verifies webhook signatures")
    async def public_key(request: Request) -> Response:
        def read() -> bytes:
            caller(request)
            with node.db.read() as conn:
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

    @router.get("/hooks", summary="The caller's webhooks")
    def list_hooks(principal: Vetted) -> Response:
        with node.db.read() as conn:
            found = webhooks.listing(conn, principal.name)
        return json_response({"webhooks": [webhooks.webhook_json(w) for w in found]})

    @router.post("/hooks", status_code=201, openapi_extra=documented(HookBody), summary="Add a webhook")
    def add_hook(
        principal: Vetted,
        body: Annotated[HookBody, Depends(json_body(HookBody))],
    ) -> Response:
        check_partner_url(body.url)  # DNS, before the transaction
        with node.db.write() as conn:
            hook = webhooks.register(conn, principal.name, body.url, body.min_level, _actor(principal))
            public = webhook_signing.signer(conn, node.settings).public
        return json_response(webhooks.webhook_json(hook) | {"public_key": public}, 201)

    @router.delete("/hooks/{webhook_id}", status_code=204, summary="Remove one of the caller's webhooks")
    def remove_hook(principal: Vetted, webhook_id: HookId) -> Response:
        with node.db.write() as conn:
            webhooks.require(conn, webhook_id, principal.partner_id, active=True)
            webhooks.remove(conn, webhook_id, _actor(principal), "removed by the partner")
        return Response(status_code=204)

    return router


def _actor(principal: Principal) -> str:
    return f"{PARTNER_ACTOR}{principal.name}"
