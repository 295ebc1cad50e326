"""The admin REST API under /admin/v1/: denied-party screening, watchlists and partner vetting, mirroring
`gesher screen`, `gesher vet`, `gesher watchlist load|list` and `gesher partner approve-tier|org|owner`.

JSON in and out. Callers authenticate exactly as on TAXII (HTTP Basic or a partner's bearer token) and
must be administrators; the caller is known before a byte of a body is read, so strangers get 401, not a
buffered upload. Each request is one transaction recorded with actor `partner:<name>`; routes parse and
call the services. Errors become error resources in api/errors.py (422 when a body or query fails its
schema)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import AfterValidator, Field
from sqlalchemy import Connection

from gesher.api.auth import principal_from_header
from gesher.api.body import read_limited_body
from gesher.api.rest import Body, NodeDep, Printable, Reason, documented, json_body, json_response, text
from gesher.errors import Forbidden, NotFound
from gesher.licensing_service import roles
from gesher.partners import organisations, screening, service, vetting, watchlists
from gesher.screening import normalise
from gesher.stix.timestamps import format_micros
from gesher.store import vetting as records
from gesher.store import watchlists as watchlist_store
from gesher.store.licensing_roles import RoleRow
from gesher.store.organisations import Organisation
from gesher.store.partners import PartnerRow
from gesher.store.vetting import VettingEvent
from gesher.store.watchlists import StoredList


def _screenable(value: str) -> str:
    if not normalise(value):
        raise ValueError("a name needs letters or digits to be screened")
    return value


# The longest name screening takes (and an organisation record holds).
Name = Annotated[str, text(300), Printable, AfterValidator(_screenable)]
FileName = Annotated[str, text(300), Printable]
ListName = Annotated[str, text(200), Printable]
ListVersion = Annotated[str, text(100), Printable]


# --- bodies -----------------------------------------------------------------------------------------------


class ScreenBody(Body):
    name: Name
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2")
    schema_: str | None = Field(
        None, alias="schema", max_length=20, description="Person, Company, Organization or LegalEntity"
    )


class TierBody(Body):
    tier: int | None = Field(..., ge=1, le=4, description="1 (closest allies) to 4 (restricted), or null")
    reason: Reason


class OrganisationBody(Body):
    legal_name: Name | None = None
    aliases: list[Name] | None = Field(None, max_length=100)
    government_share: float | None = Field(None, ge=0, le=1)


class LicensingRoleBody(Body):
    role: Literal["vendor", "officer", "senior-officer", "none"]
    organisation: Annotated[str, text(300), Printable] | None = Field(
        None, description="the vendor's organisation (required for a vendor) or the officer's agency"
    )
    reason: Reason


class OwnerBody(Body):
    name: Name
    country: str | None = Field(None, max_length=2, description="ISO 3166-1 alpha-2")
    share: float | None = Field(None, ge=0, le=1)


# --- dependencies -----------------------------------------------------------------------------------------


def _admin(request: Request, node: NodeDep) -> str:
    """The calling administrator as an actor: 401 without valid credentials, 403 for any other partner."""
    with node.db.read() as conn:
        principal = principal_from_header(conn, request.headers.get("authorization"))
    if not principal.is_admin:
        raise Forbidden("the admin API is for the exchange's administrators")
    return f"partner:{principal.name}"


Actor = Annotated[str, Depends(_admin)]


async def _raw_body(request: Request, node: NodeDep) -> bytes:
    return await read_limited_body(request, node.settings.max_content_length)


# Router-level dependencies run before a route's own, so the caller is checked before any body is read.
admin_router = APIRouter(prefix="/admin/v1", dependencies=[Depends(_admin)], tags=["admin"])


# --- screening and watchlists -----------------------------------------------------------------------------


@admin_router.post("/screen", openapi_extra=documented(ScreenBody))
def screen(
    node: NodeDep, actor: Actor, body: Annotated[ScreenBody, Depends(json_body(ScreenBody))]
) -> Response:
    """Screen one name against the watchlists in force; the result and the list versions are recorded."""
    with node.db.write() as conn:
        result = screening.screen_query(node.screeners, conn, actor, body.name, body.country, body.schema_)
    return json_response(result.as_json())


@admin_router.get("/watchlists")
def list_watchlists(node: NodeDep, every: Annotated[bool, Query(alias="all")] = False) -> Response:
    """The list versions in force (the newest of each list), or every version ever loaded."""
    with node.db.read() as conn:
        found = watchlist_store.history(conn) if every else watchlist_store.in_force(conn)
    return json_response([_stored_list(w) for w in found])


def _stored_list(w: StoredList) -> dict[str, object]:
    return {
        "name": w.name, "version": w.version, "published": w.published, "confidential": w.confidential,
        "entries": w.entries, "file": w.filename, "loaded_by": w.actor,
    }  # fmt: skip


_FILE_BODY = {"requestBody": {"required": True, "content": {"*/*": {"schema": {"type": "string"}}}}}


@admin_router.post("/watchlists", status_code=201, openapi_extra=_FILE_BODY)
def load_watchlist(
    node: NodeDep,
    actor: Actor,
    data: Annotated[bytes, Depends(_raw_body)],
    filename: FileName,
    reason: Reason,
    name: ListName | None = None,
    version: ListVersion | None = None,
    published: date | None = None,
) -> Response:
    """Load a watchlist file (the raw body; gesher JSON, FtM lines or CSV by its file name), all or
    nothing, then re-screen every partner at once: listed partners are cut off in this transaction."""
    with node.db.write() as conn:
        done = watchlists.update(node, conn, actor, data, filename, reason, name, version, published)
    return json_response(done.as_json(), 201)


# --- partners ---------------------------------------------------------------------------------------------


def _partner(conn: Connection, name: str) -> PartnerRow:
    """A partner by the name in the path; a name no partner can have is as unknown as a missing one."""
    if not (len(name) <= 100 and name.isprintable()):
        raise NotFound(f"no partner named {name[:100]!r}")
    return service.require_partner(conn, name)


def _event(e: VettingEvent) -> dict[str, object]:
    return {
        "id": e.id, "at": format_micros(e.at), "actor": e.actor, "action": e.action,
        "proposed_tier": e.proposed_tier, "tier": e.tier, "risk": e.risk, "reason": e.reason,
        "details": e.details,
    }  # fmt: skip


def _organisation(o: Organisation) -> dict[str, object]:
    return {
        "legal_name": o.legal_name, "aliases": list(o.aliases), "country": o.country, "kind": o.kind,
        "government_share": o.government_share, "sectors": list(o.sectors),
    }  # fmt: skip


@admin_router.post("/partners/{name}/vet")
def vet(node: NodeDep, actor: Actor, name: str) -> Response:
    """Assess the partner now (recorded); a listed partner or owner cuts it off in this transaction."""
    with node.db.write() as conn:
        done = vetting.vet(node, conn, actor, _partner(conn, name))
    return json_response(done.as_json())


@admin_router.get("/partners/{name}/vetting")
def vetting_history(node: NodeDep, name: str) -> Response:
    """The partner's vetting history, oldest first (append-only)."""
    with node.db.read() as conn:
        events = records.events_of(conn, _partner(conn, name).id)
    return json_response([_event(e) for e in events])


@admin_router.post("/partners/{name}/tier", openapi_extra=documented(TierBody))
def approve_tier(
    node: NodeDep, actor: Actor, name: str, body: Annotated[TierBody, Depends(json_body(TierBody))]
) -> Response:
    """Approve the latest vetting's proposed tier, or override it (null: no tier), with a reason."""
    with node.db.write() as conn:
        event = vetting.approve_tier(conn, actor, _partner(conn, name), body.tier, body.reason)
    return json_response(_event(event))


@admin_router.put("/partners/{name}/organisation", openapi_extra=documented(OrganisationBody))
def set_organisation(
    node: NodeDep,
    actor: Actor,
    name: str,
    body: Annotated[OrganisationBody, Depends(json_body(OrganisationBody))],
) -> Response:
    """Enter or change the organisation record behind the partner (the names it is screened under)."""
    with node.db.write() as conn:
        saved = organisations.set_record(
            conn, actor, _partner(conn, name), body.legal_name, body.aliases, body.government_share
        )
    return json_response(_organisation(saved))


@admin_router.post("/partners/{name}/owners", status_code=201, openapi_extra=documented(OwnerBody))
def add_owner(
    node: NodeDep, actor: Actor, name: str, body: Annotated[OwnerBody, Depends(json_body(OwnerBody))]
) -> Response:
    """Record an owner of the partner; owners are screened with it (a listed owner blocks it)."""
    with node.db.write() as conn:
        partner = _partner(conn, name)
        owner = organisations.set_owner(conn, actor, partner, body.name, body.country, body.share)
    return json_response({"partner": name, "owner": _organisation(owner), "share": body.share}, 201)


def _role(row: RoleRow | None) -> dict[str, object] | None:
    if row is None:
        return None
    return {"role": row.role, "organisation": row.organisation, "set_at": format_micros(row.set_at),
            "actor": row.actor, "reason": row.reason}  # fmt: skip


@admin_router.get("/partners/{name}/licensing-role")
def licensing_role(node: NodeDep, name: str) -> Response:
    """The partner's role in export licensing (null: none, every licensing route answers it 403), and the
    history of its roles."""
    with node.db.read() as conn:
        partner = _partner(conn, name)
        held, history = roles.role_of(conn, partner), roles.history_of(conn, partner)
    return json_response({"partner": name, "role": _role(held), "history": [_role(r) for r in history]})


@admin_router.put("/partners/{name}/licensing-role", openapi_extra=documented(LicensingRoleBody))
def set_licensing_role(
    node: NodeDep,
    actor: Actor,
    name: str,
    body: Annotated[LicensingRoleBody, Depends(json_body(LicensingRoleBody))],
) -> Response:
    """Give the partner a role in export licensing (vendor of an organisation, officer, senior officer) or
    withdraw it ("none"), with a reason; recorded in the audit log."""
    with node.db.write() as conn:
        held = roles.set_role(conn, actor, _partner(conn, name), body.role, body.organisation, body.reason)
    return json_response({"partner": name, "role": _role(held)})
