"""Concurrent decisions on one application, with real concurrency on PostgreSQL (issue 5 "Bad input"): two
threads, each with its own connection and transaction, decide the same application at once; exactly one
wins, the other gets Conflict, and the store holds one decision and at most one licence.

These tests ask for the PostgreSQL store explicitly (SQLite's writers take the database lock up front,
BEGIN IMMEDIATE, so two of its write transactions never overlap)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from gesher.errors import Conflict
from gesher.exchange.node import Node
from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.gates import Stage
from gesher.licensing.history import TransitionRefused
from gesher.licensing_service import applications
from gesher.settings import Settings
from gesher.store import licensing as store
from tests.databases import fresh_postgres_database
from tests.licensing_service.helpers import OFFICER, OFFICER_2, SENIOR, file, project_through, register, tx


@pytest.fixture
def pg_node(pg_base_uri: str, tmp_path: Path) -> Iterator[Node]:
    with fresh_postgres_database(pg_base_uri, "lic") as url:
        node = Node.init(Settings(data_dir=tmp_path, database_url=url))
        yield node
        node.db.dispose()


def one_approval_given(node: Node) -> Application:
    """A marketing application for an offensive item in REVIEW with one approval: the next one decides."""
    if not tx(node, lambda c: store.items(c)):
        register(node)
        project_through(node, Stage.TESTING)
    app = file(node, LicenceKind.MARKETING)
    tx(node, lambda c: applications.confirm_classification(node, c, OFFICER, app.id))
    return tx(node, lambda c: applications.approve(node, c, OFFICER, app.id, "first")).application


def waiting_on_a_lock(node: Node) -> bool:
    with node.db.engine.connect() as conn:
        query = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return bool(conn.execute(query).scalar_one())


def test_the_second_decision_waits_then_loses(pg_node: Node) -> None:
    """A approves and holds its transaction open; B reads the same version, denies, and blocks on A's row
    lock; A commits; B's compare-and-set then finds the version moved on: Conflict, B rolls back."""
    node = pg_node
    app = one_approval_given(node)
    a_written, outcome = threading.Event(), {}

    def approver() -> None:
        with node.db.write() as conn:
            outcome["a"] = applications.approve(node, conn, SENIOR, app.id, "second approval")
            a_written.set()
            deadline = time.monotonic() + 10
            while not waiting_on_a_lock(node) and time.monotonic() < deadline:
                time.sleep(0.01)
            outcome["b_blocked"] = waiting_on_a_lock(node)

    def denier() -> None:
        a_written.wait(10)
        try:
            with node.db.write() as conn:
                outcome["b"] = applications.deny(node, conn, OFFICER_2, app.id, "too risky")
        except Conflict as error:
            outcome["b"] = error

    threads = [threading.Thread(target=approver), threading.Thread(target=denier)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert outcome["b_blocked"], "B never waited on A's row lock"
    assert type(outcome["b"]) is Conflict and "read it again" in outcome["b"].description
    with node.db.read() as conn:
        final = store.load(conn, store.APPLICATION, app.id)
        decisions = [e.action for e in store.events(conn, "application", app.id) if e.version > app.version]
        licences = store.find(conn, store.LICENCE, application=app.id)
    assert final is not None and final.state == ApplicationState.APPROVED
    assert decisions == ["approve"] and len(licences) == 1


@pytest.mark.parametrize("round_", range(5))
def test_two_racing_decisions_never_both_win(pg_node: Node, round_: int) -> None:
    """Both threads start deciding at the same instant (a barrier): whichever order the database gives them,
    exactly one decision is stored and the other is a conflict (a lost compare-and-set, or, if it read
    after the winner committed, the core's ALREADY_DECIDED, also a 409 Conflict)."""
    node = pg_node
    app = one_approval_given(node)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run(decide: Callable[..., object]) -> None:
        barrier.wait(10)
        try:
            with node.db.write() as conn:
                results.append(decide(conn))
        except Conflict as error:
            results.append(error)

    calls = [
        lambda c: applications.approve(node, c, SENIOR, app.id, "second approval"),
        lambda c: applications.approve(node, c, OFFICER_2, app.id, "another second approval"),
    ]
    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(results) == 2 and len(conflicts) == 1
    assert type(conflicts[0]) is Conflict or (
        isinstance(conflicts[0], TransitionRefused) and conflicts[0].code == "ALREADY_DECIDED"
    )
    with node.db.read() as conn:
        final = store.load(conn, store.APPLICATION, app.id)
        assert final is not None and final.state == ApplicationState.APPROVED and len(final.approvals) == 2
        assert len(store.find(conn, store.LICENCE, application=app.id)) == 1
        decided = [e for e in store.events(conn, "application", app.id) if e.to_state == "approved"]
    assert len(decided) == 1
