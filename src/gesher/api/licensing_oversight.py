"""Licensing REST, the supervision side: licences and their periodic reports, the append-only history and
notes of every record, misuse reports (officers only: a vendor gets 403 on every misuse route, whatever the
id), and the overview per item, vendor or country (issue 5 "Everything recorded")."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import Field
from sqlalchemy import Connection

from gesher.api.licensing_common import ActorDep, OfficerDep, WithReason, event_json, officer
from gesher.api.rest import (
    Body,
    LongText,
    Name,
    NodeDep,
    Printable,
    Reason,
    built,
    documented,
    json_body,
    json_response,
    known,
)
from gesher.licensing.conditions import TargetClass
from gesher.licensing.history import Actor
from gesher.licensing.licences import LicenceState
from gesher.licensing.misuse import Action, DenyEndUser, MisuseFinding, RevokeLicence, SuspendLicence
from gesher.licensing_service import history, licences, misuse, notes, overview, reporting
from gesher.licensing_service.visibility import application_view, licence_view
from gesher.policy.entitlement import TrustTier
from gesher.store.licensing_codec import encode
from gesher.vetting.countries import ExportTier

oversight_router = APIRouter()

# --- licences ---------------------------------------------------------------------------------------------


class ReportBody(Body):
    summary: LongText
    received_on: date | None = Field(None, description="the day it was filed (default: today)")


@oversight_router.get("/licences")
def list_licences(node: NodeDep, actor: ActorDep, state: LicenceState | None = None) -> Response:
    """The licences the caller may see (a vendor: its own), optionally in one state."""
    with node.db.read() as conn:
        found = licences.licences_of(conn, actor, state)
    return json_response([licence_view(x, actor) for x in found])


@oversight_router.get("/licences/{licence_id}")
def show_licence(node: NodeDep, actor: ActorDep, licence_id: str) -> Response:
    with node.db.read() as conn:
        licence = licences.licence_of(conn, actor, known(licence_id, "licence"))
    return json_response(licence_view(licence, actor))


def _licence_change(node: NodeDep, actor: Actor, licence_id: str, body: WithReason, action: str) -> Response:
    call = {"suspend": licences.suspend, "reinstate": licences.reinstate, "revoke": licences.revoke}[action]
    with node.db.write() as conn:
        done = call(node, conn, actor, known(licence_id, "licence"), body.reason, body.expected_version)
    return json_response(licence_view(done, actor))


@oversight_router.post("/licences/{licence_id}/suspend", openapi_extra=documented(WithReason))
def suspend(
    node: NodeDep,
    actor: ActorDep,
    licence_id: str,
    body: Annotated[WithReason, Depends(json_body(WithReason))],
) -> Response:
    """An officer suspends an active licence (interim)."""
    return _licence_change(node, actor, licence_id, body, "suspend")


@oversight_router.post("/licences/{licence_id}/reinstate", openapi_extra=documented(WithReason))
def reinstate(
    node: NodeDep,
    actor: ActorDep,
    licence_id: str,
    body: Annotated[WithReason, Depends(json_body(WithReason))],
) -> Response:
    """An officer reinstates a suspended licence still within its validity."""
    return _licence_change(node, actor, licence_id, body, "reinstate")


@oversight_router.post("/licences/{licence_id}/revoke", openapi_extra=documented(WithReason))
def revoke(
    node: NodeDep,
    actor: ActorDep,
    licence_id: str,
    body: Annotated[WithReason, Depends(json_body(WithReason))],
) -> Response:
    """An officer revokes a licence (final)."""
    return _licence_change(node, actor, licence_id, body, "revoke")


@oversight_router.post(
    "/licences/{licence_id}/reports", status_code=201, openapi_extra=documented(ReportBody)
)
def file_report(
    node: NodeDep,
    actor: ActorDep,
    licence_id: str,
    body: Annotated[ReportBody, Depends(json_body(ReportBody))],
) -> Response:
    """Record a periodic usage report filed under a licence's reporting duty (the vendor's own licence)."""
    day = body.received_on or date.today()
    with node.db.write() as conn:
        lid = known(licence_id, "licence")
        recorded = reporting.record_report(node, conn, actor, lid, day, body.summary)
    return json_response({"licence": lid, "received_on": day.isoformat(), "at": recorded.at.isoformat()}, 201)


# --- history and notes ------------------------------------------------------------------------------------

# the path segment of each kind of record, and the history's name for it
SUBJECTS = {"items": "item", "projects": "project", "applications": "application", "licences": "licence"}


class NoteBody(Body):
    text: LongText
    officer_only: bool | None = Field(
        None, description="default: officer-only for an officer's note, shared for a vendor's"
    )


def _history(node: NodeDep, actor: Actor, kind: str, ident: str) -> Response:
    with node.db.read() as conn:
        events = history.history_of(conn, actor, kind, known(ident, kind))
    return json_response([event_json(e) for e in events])


def _note(node: NodeDep, actor: Actor, kind: str, ident: str, body: NoteBody) -> Response:
    with node.db.write() as conn:
        added = notes.add_note(conn, actor, kind, known(ident, kind), body.text, body.officer_only)
    return json_response(event_json(added), 201)


def _history_routes(segment: str, kind: str) -> None:
    """GET /{segment}/{id}/history and POST /{segment}/{id}/notes for one kind of record."""

    def read(node: NodeDep, actor: ActorDep, ident: str) -> Response:
        return _history(node, actor, kind, ident)

    def write(
        node: NodeDep, actor: ActorDep, ident: str, body: Annotated[NoteBody, Depends(json_body(NoteBody))]
    ) -> Response:
        return _note(node, actor, kind, ident, body)

    read.__doc__ = f"The {kind}'s append-only history, oldest first (a vendor's reading leaves out the "
    read.__doc__ += "officers' parts: officer-only notes, assessment reasons, officers' names)."
    write.__doc__ = f"Add a note to the {kind}'s history (an officer's is officer-only unless shared)."
    oversight_router.add_api_route(
        f"/{segment}/{{ident}}/history", read, methods=["GET"], name=f"{kind}_history"
    )
    oversight_router.add_api_route(
        f"/{segment}/{{ident}}/notes", write, methods=["POST"], status_code=201, name=f"{kind}_note",
        openapi_extra=documented(NoteBody),
    )  # fmt: skip


for _segment, _kind in SUBJECTS.items():
    _history_routes(_segment, _kind)


# --- misuse reports (officers only) -----------------------------------------------------------------------

misuse_router = APIRouter(prefix="/misuse", dependencies=[Depends(officer)])


class MisuseBody(Body):
    source: Name
    summary: LongText
    licences: Annotated[tuple[Name, ...], Field(max_length=50)] = ()
    country: Annotated[str, Field(max_length=3), Printable] = ""
    end_user: Annotated[str, Field(max_length=300), Printable] = ""
    targets: Annotated[tuple[TargetClass, ...], Field(max_length=10)] = ()
    credibility: Annotated[str, Field(max_length=2000), Printable] = ""


class FindingBody(Body):
    finding: MisuseFinding
    reason: Reason


class LicenceAction(Body):
    type: Literal["suspend-licence", "revoke-licence"]
    licence: Name


class DenyEndUserAction(Body):
    type: Literal["deny-end-user"]
    party: Name


class LowerCountryAction(Body):
    type: Literal["lower-country-tier"]
    country: Annotated[str, Field(min_length=2, max_length=3), Printable]
    to_tier: ExportTier | None = Field(..., description="A, B, C, EMBARGOED, or null: on no list")


class LowerPartnerAction(Body):
    type: Literal["lower-partner-tier"]
    partner: Name
    to_tier: Annotated[int, Field(ge=1, le=4)]


ActionBody = Annotated[
    LicenceAction | DenyEndUserAction | LowerCountryAction | LowerPartnerAction, Field(discriminator="type")
]


class ActBody(Body):
    actions: Annotated[tuple[ActionBody, ...], Field(max_length=50)] = ()
    reason: Reason


@misuse_router.get("")
def list_misuse(node: NodeDep, actor: OfficerDep) -> Response:
    with node.db.read() as conn:
        found = misuse.reports_of(conn, actor)
    return json_response([encode(r) for r in found])


@misuse_router.post("", status_code=201, openapi_extra=documented(MisuseBody))
def receive(
    node: NodeDep, actor: OfficerDep, body: Annotated[MisuseBody, Depends(json_body(MisuseBody))]
) -> Response:
    """Record a misuse report (received from `source`); the licences it names must exist."""
    with node.db.write() as conn:
        report = misuse.receive(
            node, conn, actor, body.source, body.summary, licences=body.licences, country=body.country,
            end_user=body.end_user, targets=frozenset(body.targets), credibility=body.credibility,
        )  # fmt: skip
    return json_response(encode(report), 201)


@misuse_router.get("/{report_id}")
def show_misuse(node: NodeDep, actor: OfficerDep, report_id: str) -> Response:
    with node.db.read() as conn:
        report = misuse.report_of(conn, actor, known(report_id, "misuse report"))
    return json_response(encode(report))


@misuse_router.get("/{report_id}/history")
def misuse_history(node: NodeDep, actor: OfficerDep, report_id: str) -> Response:
    return _history(node, actor, "misuse", report_id)


@misuse_router.post("/{report_id}/investigate", openapi_extra=documented(FindingBody))
def investigate(
    node: NodeDep,
    actor: OfficerDep,
    report_id: str,
    body: Annotated[FindingBody, Depends(json_body(FindingBody))],
) -> Response:
    """Record the investigation's finding: substantiated, unsubstantiated or inconclusive."""
    with node.db.write() as conn:
        rid = known(report_id, "misuse report")
        report = misuse.investigate(node, conn, actor, rid, body.finding, body.reason)
    return json_response(encode(report))


@misuse_router.post("/{report_id}/act", openapi_extra=documented(ActBody))
def act(
    node: NodeDep, actor: OfficerDep, report_id: str, body: Annotated[ActBody, Depends(json_body(ActBody))]
) -> Response:
    """Take actions on a report (on receipt: interim suspensions only); the cascade applies at once, in
    this transaction, and what it changed is returned."""
    with node.db.write() as conn:
        actions = tuple(_action(node, conn, a) for a in body.actions)
        done = misuse.act(node, conn, actor, known(report_id, "misuse report"), actions, body.reason)
    c = done.cascade
    return json_response({
        "report": encode(done.report),
        "suspended_licences": [x.id for x in c.suspended_licences],
        "revoked_licences": [x.id for x in c.revoked_licences],
        "refused_applications": [a.id for a in c.refused_applications],
        "rescreened_applications": [application_view(a, actor) for a in done.rescreened],
        "denied_parties": list(c.denied_parties),
        "partners_lowered": list(done.partners_lowered),
        "countries_lowered": [x.country for x in c.country_tier_changes],
    })  # fmt: skip


def _action(node: NodeDep, conn: Connection, body: ActionBody) -> Action:
    """The typed misuse action a body describes (a tier lowering is from the tier held now)."""
    match body:
        case LicenceAction(type="suspend-licence"):
            return SuspendLicence(body.licence)
        case LicenceAction():
            return RevokeLicence(body.licence)
        case DenyEndUserAction():
            return DenyEndUser(body.party)
        case LowerCountryAction():
            return built(lambda: misuse.lower_country(node, conn, body.country, body.to_tier))
    return built(lambda: misuse.lower_partner(conn, body.partner, TrustTier(body.to_tier)))


# --- the overview -----------------------------------------------------------------------------------------


@oversight_router.get("/overview")
def overview_report(
    node: NodeDep,
    actor: ActorDep,
    by: overview.By,
    as_: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """What is licensed where, what was refused and why, what is open: per item, vendor or country
    (officers: every vendor's; a vendor: its own, without the officers' parts of a refusal)."""
    with node.db.read() as conn:
        groups = overview.overview(conn, actor, by)
    if as_ == "csv":
        return Response(overview.as_csv(groups), media_type="text/csv; charset=utf-8")
    return json_response({"by": by.value, "groups": [overview.group_json(g) for g in groups]})
