"""Issue 7's scripted scenario over TAXII: a Pegasus domain (Amnesty's real indicators) seen by a bank,
then a ministry, then an energy operator. The exact alerts and levels after each step, who receives them
in the `alerts` collection, and that no recipient learns who reported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gesher.exchange.node import Node
from gesher.store.tables import ledger_entries
from gesher.warning_service import alerts
from tests.warning_service.exchange import PARTNERS, Exchange

DOMAIN = "weather4free.com"
READERS = ("first-bank", "ministry-of-health", "grid-energy", "observer-cert")  # may see the indicator


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def received(exchange: Exchange) -> dict[str, list[tuple[int, list[str]]]]:
    """Per partner: (level, object_refs) of each alert report it receives, in order."""
    out = {}
    for who in PARTNERS:
        reports = exchange.alerts(who)
        out[who] = [(int(r["labels"][1].split("-")[1]), r["object_refs"]) for r in reports]
    return out


def test_bank_then_ministry_then_energy_operator(exchange: Exchange) -> None:
    target = exchange.domains[DOMAIN]
    me = exchange.node.identity

    assert exchange.sight("first-bank", target).status_code == 202
    assert {who: got for who, got in received(exchange).items()} == {who: [] for who in PARTNERS}

    # A bank and a ministry: two sectors within 24 h, L2 campaign (also L1); counts withheld below k=3.
    assert exchange.sight("ministry-of-health", target).status_code == 202
    step2 = received(exchange)
    for who in READERS:
        assert step2[who] == [(2, [me]), (2, [target])], who
    assert step2["far-ally"] == [(2, [me])]  # the summary only: it may not see the indicator
    assert step2["stranger"] == []  # not vetted: no TLP:GREEN at all
    summary = exchange.alerts("observer-cert")[0]
    assert "counts withheld: fewer than 3 partners" in summary["description"]
    assert summary["created_by_ref"] == me

    # An energy operator: critical infrastructure, L3 national; 3 partners, so counts are published.
    assert exchange.sight("grid-energy", target).status_code == 202
    step3 = received(exchange)
    for who in READERS:
        assert step3[who] == [(2, [me]), (2, [target]), (3, [me]), (3, [target])], who
    assert step3["far-ally"] == [(2, [me]), (3, [me])]
    assert step3["stranger"] == []
    national = exchange.alerts("far-ally")[-1]
    assert national["name"] == "gesher early warning L3: national"
    assert "seen by 3 partners in 3 sectors and 1 countries" in national["description"]
    assert "critical infrastructure" in national["description"]

    # Nobody learns who reported: no partner name, sighting id or reporter sector list in what is served.
    sighting_ids = _sighting_ids(exchange)
    for who in PARTNERS:
        served = exchange.alerts_raw(who).decode()
        for name in PARTNERS:
            assert name not in served, (who, name)
        for sid in sighting_ids:
            assert sid not in served

    # Analysts: two alerts, and each in the ledger with its true count of organisations.
    with exchange.node.db.read() as conn:
        listed = alerts.listing(conn)
        entries = conn.execute(select(ledger_entries.c.body).where(ledger_entries.c.kind == "alert")).all()
    assert [(a["token"], a["level"], a["organisations"]) for a in listed] == [(target, 2, 2), (target, 3, 3)]
    assert len(entries) == 2
    assert all(a["id"].encode() in bytes(e.body) for a, e in zip(listed, entries, strict=True))


def test_one_partner_repeating_itself_never_raises_an_alert(exchange: Exchange) -> None:
    target = exchange.domains[DOMAIN]
    for _ in range(6):
        assert exchange.sight("grid-energy", target).status_code == 202
    assert all(exchange.alerts(who) == [] for who in PARTNERS)


def _sighting_ids(exchange: Exchange) -> list[str]:
    from gesher.store.tables import sightings

    with exchange.node.db.read() as conn:
        return [str(i) for (i,) in conn.execute(select(sightings.c.stix_id)) if i]
