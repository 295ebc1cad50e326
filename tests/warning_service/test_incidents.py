"""The incident board's service on both stores (issue 7, "Incident board"): the state machine through the
store, links and levels, compare-and-set against concurrent changers (PostgreSQL, two real transactions),
ledger entries that verify, and a simulated month whose report figures are exact."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from gesher.errors import Conflict, InvalidRequest, NotFound
from gesher.exchange.node import Node
from gesher.ledger_service.verify import verify
from gesher.partners.service import require_partner
from gesher.store import incidents as store
from gesher.store import ledger as ledger_store
from gesher.store.tables import alerts, incident_events
from gesher.warning.incidents import IllegalTransition, ReasonRequired, Step, month_bounds
from gesher.warning_service import incidents, sightings
from gesher.warning_service.sightings import Report
from tests.warning_service.exchange import Exchange
from tests.warning_service.incident_month import ANALYST, Month, build, when

NOW = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


@pytest.fixture
def month(exchange: Exchange) -> Month:
    return build(exchange)


def raise_alert(exchange: Exchange, names: tuple[str, str], token: str, at: datetime) -> str:
    """Two partners sight `token` two minutes apart through the sightings service; the id of the highest
    alert it raised (a national one is on the board at once)."""
    node = exchange.node
    with node.db.read() as conn:
        before = set(conn.execute(select(alerts.c.id)).scalars())
    for i, who in enumerate(names):
        now = at + timedelta(minutes=2 * i)
        with node.db.write() as conn:
            partner = require_partner(conn, who)
            report = Report(token, now, is_indicator=True)
            sightings.record(conn, partner, [report], now, node.warning_config, node.identity, "cli")
    with node.db.read() as conn:
        raised = conn.execute(select(alerts.c.id).order_by(alerts.c.level.desc())).scalars()
        return str(next(r for r in raised if r not in before))


def incident_entries(node: Node) -> list[dict[str, object]]:
    with node.db.read() as conn:
        return [
            orjson.loads(body) for _, kind, _, _, body, _ in ledger_store.entries(conn) if kind == "incident"
        ]


def check_ledger(node: Node) -> None:
    with node.db.read() as conn:
        result = verify(conn, node.ledger.verifiers(conn), node.ledger.origin)
    assert result.ok, result.problem


def test_the_state_machine_through_the_store(exchange: Exchange) -> None:
    alert = raise_alert(exchange, ("observer-cert", "far-ally"), exchange.domains["weather4free.com"], NOW)
    node = exchange.node
    with node.db.write() as conn:
        opened = incidents.open_incident(
            conn, "Pegasus at the ministries", None, ANALYST, "two partners", [alert], NOW
        )
    assert (opened.state, opened.level, opened.version) == ("open", 1, 2)  # opened, then linked
    steps = [("contain", "contained"), ("reopen", "open"), ("contain", "contained"), ("close", "closed")]
    for i, (action, state) in enumerate(steps):
        with node.db.write() as conn:
            done = getattr(incidents, action)(
                conn, opened.id, ANALYST, f"step {i}", NOW + timedelta(hours=i + 1)
            )
        assert done.state == state
    with (
        node.db.write() as conn,
        pytest.raises(
            IllegalTransition, match="it is closed, and from closed the allowed actions are reopen"
        ),
    ):
        incidents.close(conn, opened.id, ANALYST, "again", NOW)
    with node.db.write() as conn, pytest.raises(ReasonRequired):
        incidents.reopen(conn, opened.id, ANALYST, " ", NOW)
    other = raise_alert(exchange, ("first-bank", "ministry-of-health"), "x:1", NOW)
    with node.db.write() as conn, pytest.raises(IllegalTransition, match="cannot link"):
        incidents.link(conn, opened.id, other, ANALYST, NOW)
    with node.db.read() as conn:
        detail = incidents.show(conn, opened.id)
        events = conn.execute(
            select(incident_events.c.action, incident_events.c.state, incident_events.c.actor)
        ).all()
    assert [(e.action, e.state) for e in events] == [
        ("open", "open"),
        ("link", "open"),
        ("contain", "contained"),
        ("reopen", "open"),
        ("contain", "contained"),
        ("close", "closed"),
    ]
    assert {e.actor for e in events} == {ANALYST}
    assert [e["action"] for e in incident_entries(node)] == [e.action for e in events]
    assert incident_entries(node)[1]["alert"] == alert and incident_entries(node)[0]["alert"] is None
    assert (detail.incident.state, detail.sectors, detail.countries, detail.partners) == (
        "closed",
        ["unspecified"],
        ["FR", "GB"],
        2,
    )
    assert detail.time_to_alert == 2 * 60_000_000
    check_ledger(node)


def test_bad_requests_are_refused_and_change_nothing(exchange: Exchange) -> None:
    node = exchange.node
    with node.db.write() as conn:
        with pytest.raises(NotFound, match="no alert report--nope"):
            incidents.open_incident(conn, "t", None, ANALYST, "r", ["report--nope"], NOW)
        with pytest.raises(InvalidRequest, match="level"):
            incidents.open_incident(conn, "t", None, ANALYST, "r", [], NOW)
        with pytest.raises(InvalidRequest, match="title"):
            incidents.open_incident(conn, " ", 2, ANALYST, "r", [], NOW)
        with pytest.raises(NotFound, match="no incident 99"):
            incidents.contain(conn, 99, ANALYST, "r", NOW)
    assert incident_entries(node) == []


def test_an_alert_belongs_to_one_incident(exchange: Exchange) -> None:
    alert = raise_alert(exchange, ("observer-cert", "far-ally"), "x:1", NOW)
    node = exchange.node
    with node.db.write() as conn:
        first = incidents.open_incident(conn, "one", None, ANALYST, "r", [alert], NOW)
        second = incidents.open_incident(conn, "two", 3, ANALYST, "r", [], NOW)
        assert incidents.link(conn, first.id, alert, ANALYST, NOW) == first  # again: nothing changes
        with pytest.raises(Conflict, match=f"already belongs to incident {first.id}"):
            incidents.link(conn, second.id, alert, ANALYST, NOW)


def test_a_national_alert_opens_an_incident_that_other_alerts_on_its_token_join(exchange: Exchange) -> None:
    token = "x:c2.example"
    node = exchange.node
    first = raise_alert(exchange, ("observer-cert", "far-ally"), token, NOW)  # L1: not national
    with node.db.read() as conn:
        assert store.incidents_of_alert(conn, first) == []
    national = raise_alert(exchange, ("first-bank", "grid-energy"), token, NOW + timedelta(minutes=10))
    with node.db.read() as conn:  # L3 (a critical-infrastructure operator): opened at once, with the L1
        (opened,) = store.incidents_of_alert(conn, national)
        assert store.incidents_of_alert(conn, first) == [opened]
    with node.db.write() as conn:  # asking again changes nothing
        joined = incidents.open_or_link_for_alert(conn, first, "gesher:early-warning", NOW)
        again = incidents.open_or_link_for_alert(conn, national, "gesher:early-warning", NOW)
    assert joined.id == again.id == opened and joined.level == 3 and again.version == joined.version
    assert joined.title == f"L3 national on {token}"
    later = raise_alert(exchange, ("first-bank", "ministry-of-health"), token, NOW + timedelta(days=4))
    with node.db.read() as conn:  # a new wave after the window, while the incident is open: joins it
        assert store.incidents_of_alert(conn, later) == [opened]
    check_ledger(node)


def test_a_stale_version_is_a_conflict(exchange: Exchange) -> None:
    with exchange.node.db.write() as conn:
        opened = incidents.open_incident(conn, "t", 2, ANALYST, "r", [], NOW)
        incidents.contain(conn, opened.id, ANALYST, "r", NOW, expected_version=opened.version)
        with pytest.raises(
            Conflict, match=f"incident {opened.id} was changed by someone else since version 1"
        ):
            incidents.close(conn, opened.id, ANALYST, "r", NOW, expected_version=opened.version)


@pytest.mark.postgresql_only  # SQLite serialises writers (BEGIN IMMEDIATE): no concurrent change to lose
def test_two_concurrent_changers_one_wins_the_other_gets_a_conflict(exchange: Exchange) -> None:
    node = exchange.node
    with node.db.write() as conn:
        opened = incidents.open_incident(conn, "t", 2, ANALYST, "r", [], NOW)
    outcome: list[object] = []

    def second() -> None:
        try:
            with node.db.write() as conn:
                outcome.append(incidents.contain(conn, opened.id, "cli:bob", "mine", NOW))
        except Conflict as error:
            outcome.append(error)

    with node.db.write() as conn:
        incidents.contain(conn, opened.id, "cli:alice", "first", NOW)  # holds the row until commit
        racer = threading.Thread(target=second)
        racer.start()
        _wait_until_blocked(node)
    racer.join(timeout=30)
    (result,) = outcome
    # Not IllegalTransition (also a 409): the racer read "open" and lost at the compare-and-set.
    assert type(result) is Conflict and result.status == 409, result
    assert "changed by someone else since version 1" in str(result)
    with node.db.read() as conn:
        detail = incidents.show(conn, opened.id)
    assert [(e.actor, e.action) for e in detail.events] == [(ANALYST, "open"), ("cli:alice", "contain")]
    check_ledger(node)


def _wait_until_blocked(node: Node) -> None:
    """Until another session waits on a lock (the racer's UPDATE behind ours)."""
    for _ in range(300):
        with node.db.engine.connect() as conn:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar_one()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the second changer never reached the row")


# --- the month ----------------------------------------------------------------------------------------------


def test_the_month_opens_and_links_incidents_as_alerts_come(month: Month) -> None:
    assert month.alerts == [
        ("e", 1, 1),
        ("a", 1, 2),
        ("a", 2, 2),
        ("b", 3, 3),
        ("a", 1, 4),
        ("c", 2, 5),
        ("d", 1, 6),
    ]
    with month.node.db.read() as conn:
        board = incidents.listing(conn, when("11-02T12:00:00"))
        everything = incidents.listing(conn, when("11-02T12:00:00"), None)
        october = incidents.listing(conn, when("11-02T12:00:00"), None, "2026-10")
        detail = incidents.show(conn, 2)
    assert [(r.incident.id, r.incident.state, r.incident.level, r.alerts) for r in board] == [
        (1, "contained", 1, 1),
        (3, "contained", 3, 1),
        (4, "open", 1, 1),
        (5, "open", 2, 1),
        (6, "open", 1, 1),
    ]
    assert board[1].sectors == ["energy", "finance"] and board[-1].age == 160 * 60_000_000
    assert [r.incident.id for r in everything] == [1, 2, 3, 4, 5, 6]
    assert [r.incident.id for r in october] == [1, 2, 3, 4, 5]
    assert (detail.sectors, detail.countries, detail.partners) == (
        ["finance", "unspecified"],
        ["FR", "GB", "IL"],
        3,
    )
    assert [t for _, t in detail.alerts] == [50 * 60_000_000, 150 * 60_000_000]
    assert (detail.first_sighting, detail.time_to_alert) == (
        int(when("10-03T09:30:00").timestamp()) * 1_000_000,
        50 * 60_000_000,
    )
    check_ledger(month.node)


def test_the_months_report_has_exact_figures(month: Month) -> None:
    since, until = month_bounds("2026-10")
    with month.node.db.read() as conn:
        found = incidents.report(conn, since, until)
    s = found.summary
    assert (s.opened, s.contained, s.closed, s.reopened) == (4, 4, 2, 1)
    assert (s.alerts, s.linked_alerts, s.open_at_end, s.contained_at_end) == (5, 5, 2, 2)
    assert (s.median_seconds, s.p90_seconds) == (4200.0, 9000.0)
    assert [
        (m.month, m.opened, m.contained, m.closed, m.reopened, m.alerts, m.l1, m.l2, m.l3)
        for m in found.months
    ] == [("2026-10", 4, 4, 2, 1, 5, 2, 2, 1)]
    t = lambda x: int(when(x).timestamp()) * 1_000_000  # noqa: E731
    assert found.concurrent == [
        Step(since, 1, 0),
        Step(t("10-02T09:00:00"), 0, 1),
        Step(t("10-03T10:20:00"), 1, 1),
        Step(t("10-05T09:00:00"), 0, 2),
        Step(t("10-08T09:00:00"), 0, 1),
        Step(t("10-10T08:30:00"), 1, 1),
        Step(t("10-12T09:00:00"), 0, 2),
        Step(t("10-15T10:30:00"), 1, 2),
        Step(t("10-20T14:10:00"), 2, 2),
        Step(t("10-25T09:00:00"), 1, 3),
        Step(t("10-27T09:00:00"), 1, 2),
        Step(t("10-29T09:00:00"), 2, 2),
    ]
    assert [(r.sector, r.incidents, r.alerts, r.partners) for r in found.sectors] == [
        ("unspecified", 3, 4, 2),
        ("finance", 2, 2, 1),
        ("energy", 1, 1, 1),
        ("government", 1, 1, 1),
    ]
    assert [(r.level, r.alerts, r.known, r.median_seconds, r.p90_seconds) for r in found.latency] == [
        ("L1", 2, 2, 2400.0, 3000.0),
        ("L2", 2, 2, 6600.0, 9000.0),
        ("L3", 1, 1, 5400.0, 5400.0),
        ("all", 5, 5, 4200.0, 9000.0),
    ]


def test_the_report_over_all_time_lists_every_month(month: Month) -> None:
    with month.node.db.read() as conn:
        found = incidents.report(conn)
    assert [(m.month, m.opened, m.alerts) for m in found.months] == [
        ("2026-09", 1, 1),
        ("2026-10", 4, 5),
        ("2026-11", 1, 1),
    ]
    assert found.summary.opened == 6 and found.concurrent[-1] == Step(found.concurrent[-1].at, 3, 2)
