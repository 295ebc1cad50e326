"""Illegal transitions and role checks through the services, on SQLite and PostgreSQL: each is refused with
a clear reason (409, or 404 for what a vendor may not see) and nothing changes in the store; history rows
only grow."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from sqlalchemy import Connection

from gesher.errors import Conflict, GesherError, NotFound
from gesher.exchange.node import Node
from gesher.licensing.applications import ApplicationState
from gesher.licensing.catalog import Capability, Category
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.gates import Stage
from gesher.licensing.history import TransitionRefused
from gesher.licensing_service import applications, catalog, history, licences, misuse, projects
from gesher.store import licensing as store
from tests.licensing.helpers import INSIDER
from tests.licensing_service.helpers import (
    OFFICER,
    OFFICER_2,
    OTHER_VENDOR,
    SENIOR,
    VENDOR,
    VENDOR_ORG,
    export_facts,
    file,
    licensed,
    project_through,
    register,
    snapshot,
    tx,
)


def unchanged(node: Node, call: Callable[[Connection], object], error: type[GesherError] = TransitionRefused,
              code: str | None = None) -> GesherError:  # fmt: skip
    """Run the call in a write transaction: it must raise `error` (with `code`) and change nothing."""
    before = snapshot(node)
    with pytest.raises(error) as caught:
        tx(node, call)
    assert caught.value.status in (404, 409)
    if code is not None:
        assert isinstance(caught.value, TransitionRefused) and caught.value.code == code, caught.value
    assert snapshot(node) == before
    return caught.value


def test_gates_cannot_be_skipped(node: Node) -> None:
    register(node)
    project = project_through(node, Stage.CONCEPT)
    unchanged(
        node,
        lambda c: projects.review_gate(node, c, OFFICER, project.id, Stage.TESTING),
        code="NOT_PENDING_GATE",
    )
    unchanged(node, lambda c: projects.advance(node, c, VENDOR, project.id), code="GATE_NOT_PASSED")
    unchanged(
        node, lambda c: projects.confirm_change(node, c, VENDOR, project.id, "RC-1"), code="OFFICER_REQUIRED"
    )
    unchanged(node, lambda c: projects.review_gate(node, c, INSIDER, project.id, Stage.DEVELOPMENT),
              code="NOT_INDEPENDENT")  # fmt: skip
    unchanged(node, lambda c: projects.register_project(node, c, VENDOR, project.item), Conflict)


def test_applications_without_their_preconditions_are_refused(node: Node) -> None:
    register(node)
    project_through(node, Stage.TESTING)
    draft = tx(node, lambda c: applications.draft(
        node, c, VENDOR, LicenceKind.EXPORT, "Harrier delivery platform", ("GB",),
        end_user="UK National Crime Agency", end_use="serious crime",
    ))  # fmt: skip
    unchanged(node, lambda c: applications.submit(node, c, VENDOR, draft.id), code="MISSING_DECLARATION")
    signed = tx(node, lambda c: applications.draft(
        node, c, VENDOR, LicenceKind.EXPORT, "Harrier delivery platform", ("GB",),
        end_user="UK National Crime Agency", end_use="serious crime", declaration_signed=True,
    ))  # fmt: skip
    unchanged(node, lambda c: applications.submit(node, c, VENDOR, signed.id), code="NO_MARKETING_LICENCE")


def test_decisions_need_distinct_independent_officers(node: Node) -> None:
    register(node)
    project_through(node, Stage.TESTING)
    app = file(node, LicenceKind.MARKETING)
    unchanged(node, lambda c: applications.approve(node, c, OFFICER, app.id, "ok"), code="WRONG_STATE")
    tx(node, lambda c: applications.confirm_classification(node, c, OFFICER, app.id))
    unchanged(node, lambda c: applications.approve(node, c, VENDOR, app.id, "mine"), code="OFFICER_REQUIRED")
    unchanged(node, lambda c: applications.approve(node, c, INSIDER, app.id, "ok"), code="NOT_INDEPENDENT")
    unchanged(node, lambda c: applications.approve(node, c, OFFICER, app.id, " "), code="REASON_REQUIRED")
    tx(node, lambda c: applications.approve(node, c, OFFICER, app.id, "first"))
    unchanged(node, lambda c: applications.approve(node, c, OFFICER, app.id, "again"), code="SAME_APPROVER")
    decided = tx(node, lambda c: applications.approve(node, c, OFFICER_2, app.id, "second"))
    assert decided.application.state == ApplicationState.APPROVED and decided.licence is not None
    unchanged(node, lambda c: applications.deny(node, c, SENIOR, app.id, "late"), code="ALREADY_DECIDED")
    unchanged(node, lambda c: applications.approve(node, c, SENIOR, app.id, "late"), code="ALREADY_DECIDED")
    unchanged(node, lambda c: applications.withdraw(node, c, VENDOR, app.id, "x"), code="ALREADY_DECIDED")
    unchanged(
        node, lambda c: licences.reinstate(node, c, OFFICER, decided.licence.id, "x"), code="WRONG_STATE"
    )  # type: ignore[union-attr]


def test_a_stale_version_is_a_conflict(node: Node) -> None:
    register(node)
    project_through(node, Stage.TESTING)
    app = file(node, LicenceKind.MARKETING)
    stale = app.version
    tx(node, lambda c: applications.confirm_classification(node, c, OFFICER, app.id, expected_version=stale))
    error = unchanged(
        node, lambda c: applications.deny(node, c, OFFICER, app.id, "no", expected_version=stale), Conflict
    )
    assert "read it again" in error.description


def test_a_vendor_acts_on_and_sees_only_its_own_organisation(node: Node) -> None:
    project, marketing, export = licensed(node)
    edr = Capability("Osprey probe", VENDOR_ORG, "network probe", Category.DEFENSIVE_TOOL)
    unchanged(node, lambda c: catalog.register_item(node, c, OTHER_VENDOR, edr), code="NOT_YOUR_ORGANISATION")
    for call in (
        lambda c: catalog.require_item(c, OTHER_VENDOR, project.item),
        lambda c: projects.advance(node, c, OTHER_VENDOR, project.id),
        lambda c: applications.draft(node, c, OTHER_VENDOR, LicenceKind.MARKETING, project.item, ("GB",)),
        lambda c: licences.licence_of(c, OTHER_VENDOR, export.id),
        lambda c: history.history_of(c, OTHER_VENDOR, "licence", export.id),
        lambda c: history.history_of(c, VENDOR, "partner", "reader"),
    ):
        unchanged(node, call, NotFound)
    unchanged(node, lambda c: licences.suspend(node, c, VENDOR, export.id, "mine"), code="OFFICER_REQUIRED")
    unchanged(node, lambda c: misuse.receive(node, c, VENDOR, "me", "a rival"), code="OFFICER_REQUIRED")
    with node.db.read() as conn:
        assert catalog.items_of(conn, OTHER_VENDOR) == []
        assert applications.applications_of(conn, OTHER_VENDOR) == []
        assert licences.licences_of(conn, OTHER_VENDOR) == []
        assert {x.id for x in licences.licences_of(conn, VENDOR)} == {marketing.id, export.id}
        assert len(licences.licences_of(conn, OFFICER)) == 2


def test_one_licence_per_application(node: Node) -> None:
    _, marketing, _ = licensed(node)
    with node.db.read() as conn:
        again = store.load(conn, store.LICENCE, marketing.id)
    assert again is not None
    twin = dataclasses.replace(again, id="ML-TWIN")
    before = snapshot(node)
    with pytest.raises(Exception, match=r"(?i)unique"):
        tx(node, lambda c: store.insert_state(c, store.LICENCE, twin, 0))
    assert snapshot(node) == before


def test_history_only_grows(node: Node) -> None:
    seen: list[tuple[object, ...]] = []

    def check() -> None:
        with node.db.read() as conn:
            rows = [(e.id, e.subject, e.action, e.version, e.reason) for e in store.events(conn)]
        assert rows[: len(seen)] == seen, "history rows changed"
        assert len(rows) > len(seen)
        seen[:] = rows

    register(node)
    check()
    project_through(node, Stage.TESTING)
    check()
    app = file(node, LicenceKind.MARKETING)
    check()
    tx(node, lambda c: applications.deny(node, c, OFFICER, app.id, "not now"))
    check()
    assert export_facts  # the helpers stay importable for other tests
