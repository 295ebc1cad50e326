"""Licensing REST, the vendor's side of the workflow: the capability catalog, development supervision and
licence applications (issue 5 "Surfaces"). A vendor files and reads its own; officers read all and decide.
Another vendor's records are absent (404, like a missing id); what a vendor reads of its own is
`licensing_service.visibility`'s whitelist. Every route is one transaction over the licensing services; a
refused transition is 409 with the rule's code in `details.code`, and nothing changes."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_args, get_origin

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import Field, StringConstraints, create_model, model_validator

from gesher.api.licensing_common import ActorDep, ReasonBody, Versioned, WithReason
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
from gesher.licensing.applications import ApplicationState
from gesher.licensing.catalog import Capability
from gesher.licensing.conditions import (
    Condition,
    EndUseLimit,
    GovernmentEndUserOnly,
    GovernmentToGovernmentOnly,
    LicenceKind,
    NoReexport,
    ProhibitedTargets,
    ReportingDuty,
    TargetClass,
)
from gesher.licensing.gates import GATED
from gesher.licensing.history import Actor, Role
from gesher.licensing_service import applications, catalog, projects
from gesher.licensing_service.visibility import application_view, item_view, licence_view, project_view

records_router = APIRouter()

# --- the catalog ------------------------------------------------------------------------------------------


def _item_field(field: dataclasses.Field[Any], hint: Any) -> tuple[Any, Any]:
    """A Capability property as a body field: the same name, type and default (lists for sets)."""
    default = ... if field.default is dataclasses.MISSING else field.default
    if field.name == "vendor":
        return Name | None, None
    if field.name == "description":
        return Annotated[str, StringConstraints(max_length=4000), Printable], ""
    if hint is str:
        return (Name, ...) if default is ... else (Annotated[str, Field(max_length=300), Printable], default)
    if get_origin(hint) is frozenset:
        listed = sorted(default) if isinstance(default, frozenset) else []
        return Annotated[list[get_args(hint)[0]], Field(max_length=20)], listed  # type: ignore[misc]
    return hint, default


def _item_body() -> type[Body]:
    """The body registering an item: every declared property of `licensing.catalog.Capability`, generated
    from it so the two cannot drift. `vendor` defaults to a vendor's own organisation."""
    hints = typing.get_type_hints(Capability)
    fields = {f.name: _item_field(f, hints[f.name]) for f in dataclasses.fields(Capability)}
    return create_model("ItemBody", __base__=Body, **fields)  # type: ignore[call-overload,no-any-return]


ItemBody = _item_body()


@records_router.get("/items")
def list_items(node: NodeDep, actor: ActorDep) -> Response:
    """The catalogue items the caller may see (a vendor: its own)."""
    with node.db.read() as conn:
        found = catalog.items_of(conn, actor)
    return json_response([item_view(i, actor) for i in found])


@records_router.post("/items", status_code=201, openapi_extra=documented(ItemBody))
def add_item(node: NodeDep, actor: ActorDep, body: Annotated[Body, Depends(json_body(ItemBody))]) -> Response:
    """Register an item; its classification (tier, controls, carve-outs) with every reason. A vendor
    registers its own organisation's items only."""
    declared = body.model_dump()
    declared["vendor"] = declared["vendor"] or (actor.organisation if actor.role == Role.VENDOR else "")
    capability = built(lambda: Capability(**declared))
    with node.db.write() as conn:
        stored = catalog.register_item(node, conn, actor, capability)
    return json_response(item_view(stored, actor), 201)


@records_router.get("/items/{name}")
def show_item(node: NodeDep, actor: ActorDep, name: str) -> Response:
    with node.db.read() as conn:
        stored = catalog.require_item(conn, actor, known(name, "item named"))
    return json_response(item_view(stored, actor))


# --- development supervision ------------------------------------------------------------------------------

Gate = Literal[tuple(s.value for s in GATED)]  # type: ignore[valid-type]
Texts = Annotated[tuple[LongText, ...], Field(max_length=50)]


class ProjectBody(Body):
    item: Name
    reason: Reason = "registered at the concept stage"


class ReviewBody(Versioned):
    gate: Gate  # type: ignore[valid-type]
    findings: Texts = ()
    required_changes: Texts = ()
    conditions: Texts = ()


class ConfirmBody(Versioned):
    reason: Reason = "change confirmed"


class AdvanceBody(Versioned):
    reason: Reason = "gate passed"


@records_router.get("/projects")
def list_projects(node: NodeDep, actor: ActorDep) -> Response:
    with node.db.read() as conn:
        found = projects.projects_of(conn, actor)
    return json_response([project_view(p, actor) for p in found])


@records_router.post("/projects", status_code=201, openapi_extra=documented(ProjectBody))
def register_project(
    node: NodeDep, actor: ActorDep, body: Annotated[ProjectBody, Depends(json_body(ProjectBody))]
) -> Response:
    """Register a supervised project for a catalogued item, at the CONCEPT stage."""
    with node.db.write() as conn:
        project = projects.register_project(node, conn, actor, body.item, body.reason)
    return json_response(project_view(project, actor), 201)


@records_router.get("/projects/{project_id}")
def show_project(node: NodeDep, actor: ActorDep, project_id: str) -> Response:
    with node.db.read() as conn:
        project = projects.project_of(conn, actor, known(project_id, "project"))
    return json_response(project_view(project, actor))


@records_router.post("/projects/{project_id}/reviews", openapi_extra=documented(ReviewBody))
def review_gate(
    node: NodeDep,
    actor: ActorDep,
    project_id: str,
    body: Annotated[ReviewBody, Depends(json_body(ReviewBody))],
) -> Response:
    """An independent officer's review of the gate under review: findings, required changes (each gets an
    id, RC-n), conditions."""
    with node.db.write() as conn:
        project = projects.review_gate(
            node, conn, actor, known(project_id, "project"), body.gate, body.findings, body.required_changes,
            body.conditions, body.expected_version,
        )  # fmt: skip
    return json_response(project_view(project, actor))


@records_router.post(
    "/projects/{project_id}/changes/{change_id}/confirm", openapi_extra=documented(ConfirmBody)
)
def confirm_change(
    node: NodeDep,
    actor: ActorDep,
    project_id: str,
    change_id: str,
    body: Annotated[ConfirmBody, Depends(json_body(ConfirmBody))],
) -> Response:
    """An independent officer confirms a required change was made."""
    with node.db.write() as conn:
        project = projects.confirm_change(
            node, conn, actor, known(project_id, "project"), known(change_id, "change"), body.reason,
            body.expected_version,
        )  # fmt: skip
    return json_response(project_view(project, actor))


@records_router.post("/projects/{project_id}/advance", openapi_extra=documented(AdvanceBody))
def advance(
    node: NodeDep,
    actor: ActorDep,
    project_id: str,
    body: Annotated[AdvanceBody, Depends(json_body(AdvanceBody))],
) -> Response:
    """Move the project one stage on, once every gate up to it has passed."""
    with node.db.write() as conn:
        pid = known(project_id, "project")
        project = projects.advance(node, conn, actor, pid, body.reason, body.expected_version)
    return json_response(project_view(project, actor))


def _suspend_or_resume(node: NodeDep, actor: Actor, project_id: str, reason: str, resume: bool) -> Response:
    call = projects.resume if resume else projects.suspend
    with node.db.write() as conn:
        project = call(node, conn, actor, known(project_id, "project"), reason)
    return json_response(project_view(project, actor))


@records_router.post("/projects/{project_id}/suspend", openapi_extra=documented(ReasonBody))
def suspend(
    node: NodeDep,
    actor: ActorDep,
    project_id: str,
    body: Annotated[ReasonBody, Depends(json_body(ReasonBody))],
) -> Response:
    """An officer suspends a project: it cannot advance until resumed."""
    return _suspend_or_resume(node, actor, project_id, body.reason, resume=False)


@records_router.post("/projects/{project_id}/resume", openapi_extra=documented(ReasonBody))
def resume(
    node: NodeDep,
    actor: ActorDep,
    project_id: str,
    body: Annotated[ReasonBody, Depends(json_body(ReasonBody))],
) -> Response:
    """An officer lifts a project's suspension."""
    return _suspend_or_resume(node, actor, project_id, body.reason, resume=True)


# --- applications -----------------------------------------------------------------------------------------

Country = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=3), Printable]


class ApplicationBody(Body):
    """A marketing application names its target countries; an export application one destination, the
    end user, the end use and (for a supervised item) the marketing licence it rests on."""

    kind: LicenceKind
    item: Name
    countries: Annotated[list[Country], Field(min_length=1, max_length=50)]
    end_user: Name | None = None
    end_use: LongText | None = None
    intermediaries: Annotated[tuple[Name, ...], Field(max_length=20)] = ()
    declaration_signed: bool = False
    end_user_government: bool | None = Field(None, description="whether the end user is a government one")
    marketing_licence: Name | None = None
    submit: bool = Field(True, description="submit at once (screening runs), or keep it as a draft")

    @model_validator(mode="after")
    def _shape(self) -> ApplicationBody:
        if self.kind == LicenceKind.EXPORT:
            if len(self.countries) != 1 or not (self.end_user and self.end_use):
                raise ValueError("an export application names one destination, the end user and the end use")
        elif self.end_user or self.end_use or self.intermediaries or self.marketing_licence:
            raise ValueError("a marketing application names its item and target countries only")
        return self


class EndUseLimitBody(Body):
    type: Literal["end-use-limit"]
    min_sentence_years: int = Field(6, ge=1, le=100)


class SimpleConditionBody(Body):
    type: Literal["no-reexport", "government-end-user-only", "government-to-government-only"]


class ReportingBody(Body):
    type: Literal["reporting"]
    every_days: int = Field(..., ge=1, le=3650)
    grace_days: int = Field(0, ge=0, le=3650)


class ProhibitedTargetsBody(Body):
    type: Literal["prohibited-targets"]
    classes: Annotated[list[TargetClass], Field(min_length=1, max_length=10)]


ConditionBody = Annotated[
    EndUseLimitBody | SimpleConditionBody | ReportingBody | ProhibitedTargetsBody, Field(discriminator="type")
]
SIMPLE: dict[str, Callable[[], Condition]] = {
    "no-reexport": NoReexport,
    "government-end-user-only": GovernmentEndUserOnly,
    "government-to-government-only": GovernmentToGovernmentOnly,
}


def condition(
    body: EndUseLimitBody | SimpleConditionBody | ReportingBody | ProhibitedTargetsBody,
) -> Condition:
    """The typed licence condition a body describes."""
    match body:
        case EndUseLimitBody():
            return EndUseLimit(body.min_sentence_years)
        case ReportingBody():
            return built(lambda: ReportingDuty(body.every_days, body.grace_days))
        case ProhibitedTargetsBody():
            return ProhibitedTargets(frozenset(body.classes))
    return SIMPLE[body.type]()


class ApproveBody(WithReason):
    conditions: Annotated[tuple[ConditionBody, ...], Field(max_length=20)] = ()
    validity_days: int | None = Field(None, ge=1, le=3650, description="validity of the licence issued")


@records_router.get("/applications")
def list_applications(node: NodeDep, actor: ActorDep, state: ApplicationState | None = None) -> Response:
    """The applications the caller may see (a vendor: its own), optionally in one state."""
    with node.db.read() as conn:
        found = applications.applications_of(conn, actor, state)
    return json_response([application_view(a, actor) for a in found])


@records_router.post("/applications", status_code=201, openapi_extra=documented(ApplicationBody))
def file_application(
    node: NodeDep, actor: ActorDep, body: Annotated[ApplicationBody, Depends(json_body(ApplicationBody))]
) -> Response:
    """A vendor drafts an application for its own item and (by default) submits it: screening runs at once.
    Refused (409, nothing stored) without a signed declaration or a marketing licence where one is needed."""
    with node.db.write() as conn:
        app = applications.draft(
            node, conn, actor, body.kind, body.item, tuple(body.countries), end_user=body.end_user or "",
            end_use=body.end_use or "", intermediaries=tuple(body.intermediaries),
            declaration_signed=body.declaration_signed, marketing_licence=body.marketing_licence,
            end_user_government=body.end_user_government,
        )  # fmt: skip
        if body.submit:
            app = applications.submit(node, conn, actor, app.id)
    return json_response(application_view(app, actor), 201)


@records_router.get("/applications/{application_id}")
def show_application(node: NodeDep, actor: ActorDep, application_id: str) -> Response:
    with node.db.read() as conn:
        app = applications.application_of(conn, actor, known(application_id, "application"))
    return json_response(application_view(app, actor))


@records_router.post("/applications/{application_id}/submit", openapi_extra=documented(Versioned))
def submit(
    node: NodeDep,
    actor: ActorDep,
    application_id: str,
    body: Annotated[Versioned, Depends(json_body(Versioned))],
) -> Response:
    """The vendor submits its draft; screening runs at once."""
    with node.db.write() as conn:
        aid = known(application_id, "application")
        app = applications.submit(node, conn, actor, aid, body.expected_version)
    return json_response(application_view(app, actor))


@records_router.post("/applications/{application_id}/rescreen")
def rescreen(node: NodeDep, actor: ActorDep, application_id: str) -> Response:
    """An officer screens an open application again, against the lists and facts in force."""
    with node.db.write() as conn:
        app = applications.rescreen(node, conn, actor, known(application_id, "application"))
    return json_response(application_view(app, actor))


@records_router.post(
    "/applications/{application_id}/confirm-classification", openapi_extra=documented(Versioned)
)
def confirm_classification(
    node: NodeDep,
    actor: ActorDep,
    application_id: str,
    body: Annotated[Versioned, Depends(json_body(Versioned))],
) -> Response:
    """An officer confirms the item's classification; the recommendation is made again with it."""
    with node.db.write() as conn:
        aid = known(application_id, "application")
        app = applications.confirm_classification(node, conn, actor, aid, body.expected_version)
    return json_response(application_view(app, actor))


@records_router.post("/applications/{application_id}/approve", openapi_extra=documented(ApproveBody))
def approve(
    node: NodeDep,
    actor: ActorDep,
    application_id: str,
    body: Annotated[ApproveBody, Depends(json_body(ApproveBody))],
) -> Response:
    """An independent officer approves; the approval that decides the application issues the licence."""
    conditions = tuple(condition(c) for c in body.conditions)
    with node.db.write() as conn:
        done = applications.approve(
            node, conn, actor, known(application_id, "application"), body.reason, conditions,
            body.expected_version, body.validity_days,
        )  # fmt: skip
    licence = licence_view(done.licence, actor) if done.licence else None
    return json_response({"application": application_view(done.application, actor), "licence": licence})


@records_router.post("/applications/{application_id}/deny", openapi_extra=documented(WithReason))
def deny(
    node: NodeDep,
    actor: ActorDep,
    application_id: str,
    body: Annotated[WithReason, Depends(json_body(WithReason))],
) -> Response:
    """Any officer denies an open application, with a reason."""
    with node.db.write() as conn:
        aid = known(application_id, "application")
        app = applications.deny(node, conn, actor, aid, body.reason, body.expected_version)
    return json_response(application_view(app, actor))


@records_router.post("/applications/{application_id}/withdraw", openapi_extra=documented(ReasonBody))
def withdraw(
    node: NodeDep,
    actor: ActorDep,
    application_id: str,
    body: Annotated[ReasonBody, Depends(json_body(ReasonBody))],
) -> Response:
    """The vendor (or an officer) withdraws an application before a decision."""
    with node.db.write() as conn:
        app = applications.withdraw(node, conn, actor, known(application_id, "application"), body.reason)
    return json_response(application_view(app, actor))
