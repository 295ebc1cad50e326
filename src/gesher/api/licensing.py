"""The licensing REST API under /licensing/v1/ (issue 5 "Surfaces"): vendors register items, run their
projects, file applications and read their own records; officers read everything, review, decide and act
on misuse; everyone reads the overview they may see.

Who calls: a partner account authenticated exactly as on TAXII (HTTP Basic or a bearer token) to which an
operator gave a licensing role (`gesher partner licensing-role`, or the admin API); it acts as
`partner:<name>`. Default deny: no role (or a suspended account) is 403 on every route, before a byte of a
body is read; no credentials is 401. Records of another vendor are 404 exactly like missing ones. Bodies are
JSON (422 when they fail their schema or describe nothing valid); refused transitions are 409 with the
rule's code in `details.code`; each request is one transaction."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from gesher.api.licensing_common import ActorDep, licensing_actor
from gesher.api.licensing_oversight import misuse_router, oversight_router
from gesher.api.licensing_records import records_router
from gesher.api.rest import json_response

# Router-level dependencies run before a route's own, so the caller is checked before any body is read.
licensing_router = APIRouter(
    prefix="/licensing/v1", dependencies=[Depends(licensing_actor)], tags=["licensing"]
)


@licensing_router.get("/whoami")
def whoami(actor: ActorDep) -> Response:
    """Who the caller acts as in licensing: its actor id, role and organisation."""
    return json_response({"actor": actor.id, "role": actor.role.value, "organisation": actor.organisation})


licensing_router.include_router(records_router)
licensing_router.include_router(oversight_router)
licensing_router.include_router(misuse_router)
