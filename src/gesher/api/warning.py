"""Early warning's REST API under /warning/v1/ (issue 7, "Partners acknowledge alerts").

- `POST alerts/{alert_id}/acknowledgement`: the calling partner acknowledges an alert it may read
  (optional JSON body `{"note": ...}`, at most 2,000 characters). 201 with the acknowledgement; 200 with
  the first one when the partner acknowledged before. An alert hidden from the caller answers exactly
  like one that does not exist (the same 404 bytes).
- `GET alerts/pending`: the alerts at or above the escalation level the caller may read and has not
  acknowledged, oldest first, with the time each escalates.

Callers authenticate as on TAXII (HTTP Basic or a bearer token): 401 without valid credentials (a
suspended partner's tokens are refused); 403 for an administrator or a partner not vetted, before a byte
of a body is read and whatever the alert. Each request is one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from gesher.api.auth import principal_from_header
from gesher.api.rest import Body, NodeDep, Printable, documented, json_body, json_response, text
from gesher.policy.principal import Principal
from gesher.stix.timestamps import format_micros
from gesher.warning_service import acknowledgements
from gesher.warning_service.acknowledgements import NOTE_LIMIT


def _partner(request: Request, node: NodeDep) -> Principal:
    """The calling partner: 401 without valid credentials, 403 unless it is a partner in good standing."""
    with node.db.read() as conn:
        principal = principal_from_header(conn, request.headers.get("authorization"))
    acknowledgements.require_good_standing(principal)
    return principal


Partner = Annotated[Principal, Depends(_partner)]


class AcknowledgementBody(Body):
    note: Annotated[str, text(NOTE_LIMIT), Printable] | None = None


# Router-level dependencies run before a route's own, so the caller is checked before any body is read.
warning_router = APIRouter(prefix="/warning/v1", dependencies=[Depends(_partner)], tags=["early warning"])


# The body is optional (no body: no note).
_BODY = {"requestBody": documented(AcknowledgementBody)["requestBody"] | {"required": False}}


@warning_router.post("/alerts/{alert_id}/acknowledgement", status_code=201, openapi_extra=_BODY)
def acknowledge(
    node: NodeDep,
    caller: Partner,
    alert_id: str,
    body: Annotated[AcknowledgementBody, Depends(json_body(AcknowledgementBody))],
) -> Response:
    """Acknowledge an alert (the first acknowledgement counts; acknowledging again returns it, 200)."""
    actor = f"partner:{caller.name}"
    with node.db.write() as conn:
        done = acknowledgements.acknowledge(
            conn, node.clearance, caller, alert_id, actor, body.note, datetime.now(UTC)
        )
    return json_response(done.as_json(), 201 if done.created else 200)


@warning_router.get("/alerts/pending")
def pending(node: NodeDep, caller: Partner) -> Response:
    """The alerts at or above the escalation level the caller has not acknowledged yet, oldest first."""
    config = node.warning_config
    with node.db.read() as conn:
        found = acknowledgements.pending(conn, node.clearance, caller, config)
    listed = [
        {
            "alert": a.id,
            "level": a.level,
            "rule": a.rule,
            "raised_at": format_micros(a.raised_at),
            "escalates_at": format_micros(acknowledgements.deadline(a, config)),
        }
        for a in found
    ]
    return json_response({"escalation_level": config.escalation_level, "alerts": listed})
