"""What a vendor reads of its own records, on SQLite and PostgreSQL (issue 5: a vendor never sees another
vendor's items or any officer-only note): officer-only notes are left out of its history, officers'
reasons, details and names are withheld, its views of applications and projects hold only the whitelisted
fields; officers read everything. Notes are history entries."""

from __future__ import annotations

import pytest

from gesher.errors import NotFound
from gesher.exchange.node import Node
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.gates import Stage
from gesher.licensing.history import TransitionRefused
from gesher.licensing_service import history, notes
from gesher.licensing_service import projects as project_service
from gesher.licensing_service.visibility import (
    APPLICATION_FIELDS,
    application_view,
    licence_view,
    project_view,
)
from gesher.store import licensing as store
from tests.licensing_service.helpers import (
    LISTED,
    OFFICER,
    OTHER_VENDOR,
    SYSTEM,
    VENDOR,
    export_facts,
    file,
    licensed,
    load_national_list,
    register,
    review_and_confirm,
    tx,
)

SECRET = "the end user's parent ministry is under sanctions review"


def test_officer_only_notes_never_reach_the_vendor(node: Node) -> None:
    _, _, export = licensed(node)
    app_id = export.application
    tx(node, lambda c: notes.add_note(c, OFFICER, "application", app_id, SECRET))
    shared = tx(
        node, lambda c: notes.add_note(c, OFFICER, "application", app_id, "please send the EUC", False)
    )
    own = tx(node, lambda c: notes.add_note(c, VENDOR, "application", app_id, "EUC sent by courier"))
    assert dict(shared.details)["visibility"] == "shared" and dict(own.details)["visibility"] == "shared"

    with node.db.read() as conn:
        seen = history.history_of(conn, VENDOR, "application", app_id)
        everything = history.history_of(conn, OFFICER, "application", app_id)
    assert SECRET in {e.reason for e in everything}
    assert SECRET not in str(seen)
    assert [e.reason for e in seen if e.action == "note"] == ["please send the EUC", "EUC sent by courier"]


def test_the_vendors_reading_of_its_history_withholds_the_officers_parts(node: Node) -> None:
    _, _, export = licensed(node)
    with node.db.read() as conn:
        seen = history.history_of(conn, VENDOR, "application", export.application)
        full = history.history_of(conn, OFFICER, "application", export.application)
    approvals = [e for e in seen if e.action == "approve"]
    assert approvals and all(e.reason == "" and e.details == () for e in approvals)
    assert {e.actor for e in approvals} == {"officer", "senior-officer"}
    assert [e.action for e in seen] == [e.action for e in full]  # the transitions themselves are its own
    screened = [e for e in seen if e.action == "screen"]
    assert screened and screened[0].reason == "" and screened[0].actor == "system"
    drafted = next(e for e in seen if e.action == "draft")
    assert drafted.actor == VENDOR.id and drafted.reason
    assert any("approver" in dict(e.details) for e in full if e.action == "approve")


def test_notes_are_written_by_those_who_may_see_the_record(node: Node) -> None:
    _, _, export = licensed(node)
    with pytest.raises(TransitionRefused) as refused:
        tx(node, lambda c: notes.add_note(c, VENDOR, "licence", export.id, "mine", officer_only=True))
    assert refused.value.code == "OFFICER_REQUIRED"
    with pytest.raises(TransitionRefused):
        tx(node, lambda c: notes.add_note(c, SYSTEM, "licence", export.id, "automatic"))
    for kind, ident in (
        ("licence", export.id),
        ("item", "Harrier delivery platform"),
        ("licence", "EL-NONE"),
    ):
        with pytest.raises(NotFound):
            tx(node, lambda c, k=kind, i=ident: notes.add_note(c, OTHER_VENDOR, k, i, "peek"))
    with pytest.raises(NotFound):
        tx(node, lambda c: history.history_of(c, OFFICER, "licence", "EL-NONE"))


def test_vendor_views_hold_the_whitelisted_fields_only(node: Node) -> None:
    load_national_list(node)
    _, marketing, export = licensed(node)
    refused = file(node, LicenceKind.EXPORT, **export_facts(marketing, end_user=LISTED))
    with node.db.read() as conn:
        granted = store.load(conn, store.APPLICATION, export.application)
    assert granted is not None

    officer_view = application_view(granted, OFFICER)
    assert {"recommendation", "approvals", "decided_by", "decision_reason"} <= set(officer_view)
    vendor_view = application_view(granted, VENDOR)
    assert set(vendor_view) == APPLICATION_FIELDS
    denied = application_view(refused, VENDOR)
    assert set(denied) == APPLICATION_FIELDS | {"decision_reason"} and LISTED in denied["decision_reason"]
    assert licence_view(export, VENDOR)["conditions"] == licence_view(export, OFFICER)["conditions"]


def test_a_vendor_reads_its_gate_reviews_without_the_officers_names(node: Node) -> None:
    register(node)
    project = tx(
        node, lambda c: project_service.register_project(node, c, VENDOR, "Harrier delivery platform")
    )
    project = review_and_confirm(node, project, Stage.CONCEPT)
    seen = project_view(project, VENDOR)
    (review,) = seen["reviews"]
    assert review["reviewer"] == "officer" and review["findings"] == ["concept checked"]
    assert review["required_changes"] == [{"id": "RC-1", "text": "fix at concept", "confirmed": True}]
    assert OFFICER.id not in str(seen)
    assert project_view(project, OFFICER)["reviews"][0]["reviewer"] == OFFICER.id
