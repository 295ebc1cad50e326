"""Development supervision: a project per supervised item from the concept stage, gate reviews with
required changes an independent officer confirms, and advancing one stage at a time (the core's rules)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gesher.errors import Conflict
from gesher.licensing import gates
from gesher.licensing.gates import GateReview, Project, RequiredChange, Stage
from gesher.licensing.history import Actor, Role
from gesher.licensing_service.catalog import require_item
from gesher.licensing_service.common import check_version, created, new_id, now, require, saved
from gesher.store import licensing as store
from gesher.store.licensing import PROJECT

if TYPE_CHECKING:
    from gesher.exchange.node import Node


def register_project(
    node: Node, conn: Connection, actor: Actor, item: str, reason: str = "registered at the concept stage"
) -> Project:
    """A project for a catalogued item, at CONCEPT, with the item's classified tier (one per item)."""
    found = require_item(conn, actor, item)
    if store.find(conn, PROJECT, item=item):
        raise Conflict(f"{item} already has a supervised project")
    result = gates.register(new_id("P"), item, found.vendor, found.classification.tier, actor, now(), reason)
    return created(conn, PROJECT, result)


def projects_of(conn: Connection, actor: Actor) -> list[Project]:
    """Every project for an officer; a vendor's own for a vendor."""
    if actor.role == Role.VENDOR:
        return store.find(conn, PROJECT, vendor=actor.organisation)
    return store.find(conn, PROJECT)


def project_of(conn: Connection, actor: Actor, project_id: str) -> Project:
    """One project, if the actor may see it (another vendor's is as absent as a missing one)."""
    return require(conn, PROJECT, project_id, actor)


def project_of_item(conn: Connection, item: str) -> Project | None:
    found = store.find(conn, PROJECT, item=item)
    return found[0] if found else None


def review_gate(
    node: Node,
    conn: Connection,
    actor: Actor,
    project_id: str,
    gate: Stage | str,
    findings: tuple[str, ...] = (),
    required_changes: tuple[str, ...] = (),
    conditions: tuple[str, ...] = (),
    expected_version: int | None = None,
) -> Project:
    """An officer's review of the gate under review; each required change gets an id (`RC-n`, unique in the
    project) that `confirm_change` names."""
    project = require(conn, PROJECT, project_id, actor)
    check_version(PROJECT, project, expected_version)
    known = sum(len(r.required_changes) for r in project.reviews)
    changes = tuple(RequiredChange(f"RC-{known + n}", text) for n, text in enumerate(required_changes, 1))
    review = GateReview(Stage(gate), actor.id, findings, changes, conditions)
    return saved(conn, PROJECT, project, gates.review_gate(project, review, actor, now()))


def confirm_change(
    node: Node,
    conn: Connection,
    actor: Actor,
    project_id: str,
    change_id: str,
    reason: str = "change confirmed",
    expected_version: int | None = None,
) -> Project:
    """An independent officer confirms a required change was made."""
    project = require(conn, PROJECT, project_id, actor)
    check_version(PROJECT, project, expected_version)
    return saved(conn, PROJECT, project, gates.confirm_change(project, change_id, actor, now(), reason))


def advance(
    node: Node,
    conn: Connection,
    actor: Actor,
    project_id: str,
    reason: str = "gate passed",
    expected_version: int | None = None,
) -> Project:
    """The project moves one stage on, once every gate up to it has passed."""
    project = require(conn, PROJECT, project_id, actor)
    check_version(PROJECT, project, expected_version)
    return saved(conn, PROJECT, project, gates.advance(project, actor, now(), reason))


def suspend(node: Node, conn: Connection, actor: Actor, project_id: str, reason: str) -> Project:
    project = require(conn, PROJECT, project_id, actor)
    return saved(conn, PROJECT, project, gates.suspend(project, actor, now(), reason))


def resume(node: Node, conn: Connection, actor: Actor, project_id: str, reason: str) -> Project:
    project = require(conn, PROJECT, project_id, actor)
    return saved(conn, PROJECT, project, gates.resume(project, actor, now(), reason))
