"""Source reliability in the partner registry (issue 7): an Admiralty grade A-F per partner, set with
`gesher partner set --reliability`, validated, recorded in the audit log and the ledger, and used by
correlation to weigh the partner's sightings (W and the noisy-OR confidence)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.errors import InvalidRequest
from gesher.exchange.node import Node
from gesher.ledger.entries import decode
from gesher.partners import service
from gesher.store import ledger as ledger_store
from gesher.store.tables import alerts, audit_events
from tests.warning_service.exchange import Exchange


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def cli(node: Node, *args: str, code: int = 0) -> str:
    base = [
        "--data-dir",
        str(node.settings.data_dir),
        "--database-url",
        node.settings.resolved_database_url(),
    ]
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exit_code == code, result.output
    return result.output if "--json" in args else " ".join(result.output.split())


def grade(node: Node, name: str) -> str:
    with node.db.read() as conn:
        return service.require_partner(conn, name).reliability


def test_a_new_partner_cannot_be_judged_until_graded(node: Node) -> None:
    with node.db.write() as conn:
        partner, _ = service.create_partner(conn, "test", "cert-x", "GB", "government")
    assert partner.reliability == "F" and grade(node, "cert-x") == "F"
    listed = orjson.loads(cli(node, "partner", "list", "--json"))
    assert [p["reliability"] for p in listed] == ["F"]


def test_the_grade_is_set_validated_audited_and_ledgered(node: Node) -> None:
    cli(node, "partner", "add", "cert-x", "--country", "GB", "--kind", "government")
    said = cli(
        node, "partner", "set", "cert-x", "--reliability", "b", "--reason", "five years of good reports"
    )
    assert "reliability B" in said and grade(node, "cert-x") == "B"
    for bad in ("G", "AB", "1", "", "é"):
        out = cli(node, "partner", "set", "cert-x", "--reliability", bad, "--reason", "r", code=1)
        assert "Admiralty grade A" in out and "Traceback" not in out, bad
    assert grade(node, "cert-x") == "B"
    cli(node, "partner", "set", "cert-x", "--tier", "2", "--reason", "vetted")  # keeps the grade
    assert grade(node, "cert-x") == "B"
    with node.db.read() as conn:
        details = [
            orjson.loads(d)
            for (d,) in conn.execute(
                select(audit_events.c.details).where(audit_events.c.action == "partner.standing")
            )
        ]
        bodies = [row[4] for row in ledger_store.entries(conn) if row[1] == "tier"]
    assert [d["reliability"] for d in details] == ["B", "B"]
    changes = [(e.fields["old"], e.fields["new"], e.fields["reason"]) for e in map(decode, bodies)]
    assert ("reliability F", "reliability B", "five years of good reports") in changes
    assert sum(1 for old, _, _ in changes if old and old.startswith("reliability")) == 1  # only on a change


def test_the_service_refuses_bad_grades(node: Node) -> None:
    with node.db.write() as conn:
        partner, _ = service.create_partner(conn, "test", "cert-x", "GB", "government")
        with pytest.raises(InvalidRequest, match="Admiralty grade"):
            service.set_standing(conn, "test", partner, "r", reliability="Z")
        assert service.set_standing(conn, "test", partner, "r", reliability=" a ").reliability == "A"


def _confidence(exchange: Exchange, domain: str) -> Any:
    for who in ("first-bank", "ministry-of-health", "observer-cert"):  # three partners: counts are shown
        assert exchange.sight(who, exchange.domains[domain]).status_code == 202
    with exchange.node.db.read() as conn:
        token = exchange.domains[domain]
        rows = conn.execute(select(alerts.c.level, alerts.c.published).where(alerts.c.token == token)).all()
    published = max(rows)[1]  # the L2 alert, raised by the third partner
    return orjson.loads(published)["confidence"]


def test_a_reliable_reporter_raises_the_published_confidence(exchange: Exchange) -> None:
    ungraded = _confidence(exchange, "123tramites.com")
    assert ungraded == 0.875  # three partners at F (0.5 each): 1 - 0.5^3
    cli(exchange.node, "partner", "set", "first-bank", "--reliability", "A", "--reason", "proven")
    assert _confidence(exchange, "14-tracking.com") == 1.0 > ungraded
    cli(exchange.node, "partner", "set", "first-bank", "--reliability", "E", "--reason", "unreliable")
    assert _confidence(exchange, "1minto-start.com") == 0.75 < ungraded  # E weighs 0: 1 - 0.5^2
