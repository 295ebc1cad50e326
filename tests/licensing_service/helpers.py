"""Helpers for the licensing service tests: each call is one write transaction, as a request would be."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import Connection, select

from gesher.exchange.node import Node
from gesher.licensing.applications import Application
from gesher.licensing.catalog import Capability, GesherTier
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.gates import Project, Stage
from gesher.licensing.history import Actor, Role
from gesher.licensing.licences import Licence
from gesher.licensing_service import applications, catalog, projects
from gesher.partners import watchlists
from gesher.store import tables
from tests.licensing.helpers import EXPLOIT_PLATFORM, OFFICER, OFFICER_2, SENIOR, VENDOR, VENDOR_ORG

T = TypeVar("T")
__all__ = ["EXPLOIT_PLATFORM", "OFFICER", "OFFICER_2", "SENIOR", "VENDOR", "VENDOR_ORG"]

OTHER_VENDOR = Actor("eli@osprey", Role.VENDOR, "Osprey Systems")
SYSTEM = Actor("system", Role.SYSTEM)
END_USER = "UK National Crime Agency"
LISTED = "Vantablack Intrusion Systems Ltd"
HEADER = "id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,citation\n"
NATIONAL = HEADER + f"c-evil,Company,{LISTED},,,CY,2024-01-10,,National,Order 1\n"
LICENSING_TABLES = (
    tables.licensing_items,
    tables.licensing_projects,
    tables.licensing_applications,
    tables.licences,
    tables.misuse_reports,
    tables.licensing_events,
    tables.screenings,
)


def tx(node: Node, call: Callable[[Connection], T]) -> T:
    """Run one service call in its own write transaction (committed unless it raises)."""
    with node.db.write() as conn:
        return call(conn)


def snapshot(node: Node) -> tuple[object, ...]:
    """Every licensing row (and screenings): to show that a refusal changed nothing."""
    with node.db.read() as conn:
        return tuple(sorted(tuple(map(str, r)) for r in conn.execute(select(t))) for t in LICENSING_TABLES)


def load_national_list(node: Node, text: str = NATIONAL, version: str = "1") -> None:
    tx(node, lambda c: watchlists.update(
        node, c, "officer-1", text, "national.csv", "test list", "national", version, date(2025, 3, 2)
    ))  # fmt: skip


def register(node: Node, item: Capability = EXPLOIT_PLATFORM, actor: Actor = VENDOR) -> GesherTier:
    return tx(node, lambda c: catalog.register_item(node, c, actor, item)).classification.tier


def project_through(node: Node, stage: Stage, item: str = EXPLOIT_PLATFORM.name) -> Project:
    """A project registered by the vendor and walked to `stage`, each gate with one required change that a
    second officer confirms."""
    project = tx(node, lambda c: projects.register_project(node, c, VENDOR, item))
    for gate in (Stage.CONCEPT, Stage.DEVELOPMENT, Stage.TESTING, Stage.MARKETING, Stage.EXPORT):
        if gate.rank > stage.rank:
            break
        project = review_and_confirm(node, project, gate)
        if gate != Stage.CONCEPT:
            project = advance(node, project.id)
    return project


def advance(node: Node, project_id: str) -> Project:
    return tx(node, lambda c: projects.advance(node, c, VENDOR, project_id))


def review_and_confirm(node: Node, project: Project, gate: Stage) -> Project:
    pid = project.id
    findings, changes = (f"{gate.value} checked",), (f"fix at {gate.value}",)
    project = tx(node, lambda c: projects.review_gate(node, c, OFFICER, pid, gate, findings, changes))
    change = project.reviews[-1].required_changes[0].id
    return tx(node, lambda c: projects.confirm_change(node, c, OFFICER_2, pid, change, "verified on site"))


def file(node: Node, kind: LicenceKind, countries: tuple[str, ...] = ("GB",), **facts: object) -> Application:
    """Draft and submit (screening runs at submission)."""
    app = tx(
        node, lambda c: applications.draft(node, c, VENDOR, kind, EXPLOIT_PLATFORM.name, countries, **facts)
    )  # type: ignore[arg-type]
    return tx(node, lambda c: applications.submit(node, c, VENDOR, app.id))


def decide(node: Node, app: Application) -> tuple[Application, Licence | None]:
    """Classification confirmed, then two distinct approvers."""
    tx(node, lambda c: applications.confirm_classification(node, c, OFFICER, app.id))
    tx(node, lambda c: applications.approve(node, c, OFFICER, app.id, "meets every rule"))
    decision = tx(node, lambda c: applications.approve(node, c, SENIOR, app.id, "concur"))
    return decision.application, decision.licence


def export_facts(marketing: Licence, end_user: str = END_USER, **more: object) -> dict[str, object]:
    return {
        "end_user": end_user,
        "end_use": "investigating serious crime under court warrant",
        "declaration_signed": True,
        "marketing_licence": marketing.id,
        "end_user_government": True,
        **more,
    }


def licensed(node: Node) -> tuple[Project, Licence, Licence]:
    """An offensive item with its project in EXPORT, a marketing licence (GB) and an export licence to a
    government end user in GB."""
    register(node)
    project = project_through(node, Stage.TESTING)
    _, marketing = decide(node, file(node, LicenceKind.MARKETING))
    assert marketing is not None
    project = review_and_confirm(node, project, Stage.MARKETING)
    project = advance(node, project.id)
    _, export = decide(node, file(node, LicenceKind.EXPORT, **export_facts(marketing)))
    assert export is not None
    return project, marketing, export
