"""Every watchlist update re-screens the open licence applications, in the same transaction, on SQLite and
PostgreSQL (issue 5): a newly listed end user or intermediary denies its open application at once, with the
reason, recorded in the history by the system (approvals given before are void); an update that changes
no recommendation adds nothing to any application's history; decided applications are left alone."""

from __future__ import annotations

from datetime import date

from gesher.exchange.node import Node
from gesher.licensing.applications import ApplicationState
from gesher.licensing.conditions import LicenceKind
from gesher.licensing_service import applications
from gesher.partners import watchlists
from gesher.partners.watchlists import Update
from gesher.store import licensing as store
from tests.licensing_service.helpers import (
    END_USER,
    HEADER,
    LISTED,
    OFFICER,
    export_facts,
    file,
    licensed,
    tx,
)

BROKER = "Gulf Resellers FZE"


def listing(node: Node, name: str, version: str) -> Update:
    """A new version of the national list naming `name` (and the usual listed company)."""
    text = HEADER + f"c-1,Company,{LISTED},,,CY,2024-01-10,,National,Order 1\n"
    text += f"c-2,Company,{name},,,GB,2025-02-01,,National,Order 2\n"
    published = date(2025, 3, 2)
    return tx(node, lambda c: watchlists.update(
        node, c, "partner:admin", text, "national.csv", "order 2 published", "national", version, published
    ))  # fmt: skip


def in_review(node: Node, **facts: object) -> str:
    """An export application under review with one approval given."""
    _, marketing, _ = licensed(node)
    app = file(node, LicenceKind.EXPORT, **export_facts(marketing, **facts))
    tx(node, lambda c: applications.confirm_classification(node, c, OFFICER, app.id))
    approved = tx(node, lambda c: applications.approve(node, c, OFFICER, app.id, "meets every rule"))
    assert approved.application.state == ApplicationState.REVIEW and approved.application.approvals
    return app.id


def test_a_newly_listed_end_user_denies_its_open_application(node: Node) -> None:
    app_id = in_review(node, end_user="Harbour Analytics Ltd")
    update = listing(node, "Harbour Analytics Ltd", "2")

    assert [(a.id, a.state) for a in update.applications] == [(app_id, ApplicationState.DENIED)]
    assert update.as_json()["applications_rescreened"] == [
        {"id": app_id, "state": "denied", "recommendation": "deny"}
    ]
    with node.db.read() as conn:
        app = store.load(conn, store.APPLICATION, app_id)
        last = store.events(conn, "application", app_id)[-1]
    assert app is not None and app.state == ApplicationState.DENIED and app.approvals == ()
    assert "LISTED_PARTY" in app.recommendation.codes()  # type: ignore[union-attr]
    assert (last.action, last.actor, last.role, last.from_state, last.to_state) == (
        "deny", "system", "system", "review", "denied"
    )  # fmt: skip
    assert "Harbour Analytics Ltd" in last.reason and "watchlist update: order 2 published" in last.reason


def test_a_newly_listed_intermediary_denies_it_too(node: Node) -> None:
    app_id = in_review(node, intermediaries=(BROKER,))
    update = listing(node, BROKER, "2")
    assert [a.id for a in update.applications] == [app_id]
    with node.db.read() as conn:
        app = store.load(conn, store.APPLICATION, app_id)
    assert (
        app is not None
        and app.state == ApplicationState.DENIED
        and f"intermediary {BROKER}" in app.decision_reason
    )


def test_an_update_that_changes_nothing_records_nothing(node: Node) -> None:
    app_id = in_review(node)
    with node.db.read() as conn:
        before = store.events(conn, "application", app_id)
    update = listing(node, "Someone Unrelated Holdings", "2")
    with node.db.read() as conn:
        after = store.events(conn, "application", app_id)
        app = store.load(conn, store.APPLICATION, app_id)
    assert update.applications == () and after == before
    assert app is not None and app.state == ApplicationState.REVIEW and len(app.approvals) == 1


def test_decided_applications_are_left_alone(node: Node) -> None:
    _, _, export = licensed(node)  # its application was approved
    with node.db.read() as conn:
        before = store.events(conn, "application", export.application)
    update = listing(node, END_USER, "2")
    with node.db.read() as conn:
        assert store.events(conn, "application", export.application) == before
    assert update.applications == ()
