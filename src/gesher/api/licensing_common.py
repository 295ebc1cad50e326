"""What the licensing REST routes share: who calls (an authenticated partner account with a licensing role,
as a `licensing.history.Actor`; default deny), officer-only sub-APIs, and the JSON of history entries."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from pydantic import Field

from gesher.api.auth import principal_from_header
from gesher.api.rest import Body, NodeDep, Reason
from gesher.errors import Forbidden
from gesher.licensing.history import Actor
from gesher.licensing_service import roles
from gesher.stix.timestamps import format_micros
from gesher.store.licensing import StoredEvent


def licensing_actor(request: Request, node: NodeDep) -> Actor:
    """The caller as a licensing actor `partner:<name>`: 401 without valid credentials, 403 for an account
    without a licensing role (or suspended). Runs before any body is read."""
    with node.db.read() as conn:
        principal = principal_from_header(conn, request.headers.get("authorization"))
        return roles.actor_of(conn, principal)


ActorDep = Annotated[Actor, Depends(licensing_actor)]


def officer(actor: ActorDep) -> Actor:
    """Officers' routes (misuse reports): a vendor gets 403 whatever the id, so nothing about one leaks."""
    if not actor.is_officer:
        raise Forbidden("misuse reports are officers' business")
    return actor


OfficerDep = Annotated[Actor, Depends(officer)]


class Versioned(Body):
    """A decision may name the version of the record it was made on: if the record moved on since, 409."""

    expected_version: int | None = Field(None, ge=1, description="the record's version as last read")


class WithReason(Versioned):
    reason: Reason


class ReasonBody(Body):
    reason: Reason


def event_json(e: StoredEvent) -> dict[str, object]:
    return {
        "at": format_micros(e.at), "subject": e.subject, "action": e.action, "actor": e.actor,
        "role": e.role, "from": e.from_state, "to": e.to_state, "reason": e.reason, "version": e.version,
        "details": [list(d) for d in e.details],
    }  # fmt: skip
