"""Partners acknowledge alerts; unacknowledged high-level alerts escalate (issue 7): the REST route and its
hostile cases (hidden = absent, byte for byte), the pending list, the escalation sweep's timing and
idempotence, the ledger entries, and the operator CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.exchange.node import Node
from gesher.ledger.entries import decode
from gesher.ledger_service.verify import verify
from gesher.partners import service
from gesher.store import incidents as incident_store
from gesher.store import ledger as ledger_store
from gesher.store.tables import alert_acknowledgements, alert_escalations, alerts
from gesher.warning_service import escalation, webhooks
from gesher.warning_service.correlation import from_micros
from tests.warning_service.exchange import Exchange

DOMAIN = "weather4free.com"
URL = "/warning/v1/alerts/{}/acknowledgement"
PENDING = "/warning/v1/alerts/pending"
# Vetted partners that read the summary under the test policy (tiers 1-3): the expected acknowledgers.
EXPECTED = {"first-bank", "ministry-of-health", "grid-energy", "observer-cert", "far-ally"}
MISSING = "report--00000000-0000-4000-8000-000000000000"


class Acks(Exchange):
    """The early-warning exchange, plus `distant`: vetted at tier 4, which the policy gives nothing, so
    every alert is hidden from it although it is in good standing; and `admin`."""

    def __init__(self, node: Node, client: TestClient) -> None:
        super().__init__(node, client)
        with node.db.write() as conn:
            distant, self.tokens["distant"] = service.create_partner(
                conn, "test", "distant", "DE", "government"
            )
            service.set_standing(conn, "test", distant, "test", trust_tier=4)
            self.partner_ids["distant"] = distant.id
            _admin, self.tokens["admin"] = service.create_partner(
                conn, "test", "admin", "IL", "government", True
            )

    def raise_l3(self, domain: str = DOMAIN) -> dict[str, Any]:
        """Two partners, one of them critical infrastructure, sight an indicator: an L3 alert."""
        for who in ("first-bank", "grid-energy"):
            assert self.sight(who, self.domains[domain]).status_code == 202
        with self.node.db.read() as conn:
            rows = conn.execute(select(alerts).order_by(alerts.c.raised_at.desc())).all()
        assert rows and rows[0].level == 3
        return dict(rows[0]._mapping)

    def ack(self, who: str, alert_id: str, body: Any = None, **headers: str) -> Any:
        auth = {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}
        content = orjson.dumps(body) if body is not None and not isinstance(body, bytes) else body
        if content is not None:
            headers.setdefault("Content-Type", "application/json")
        return self.client.post(URL.format(alert_id), headers=auth | headers, content=content)

    def pending(self, who: str) -> list[str]:
        r = self.client.get(PENDING, headers={"Authorization": f"Bearer {self.tokens[who]}"})
        assert r.status_code == 200, r.text
        return [a["alert"] for a in r.json()["alerts"]]


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Acks]:
    yield Acks(node, client)


def sweep(exchange: Acks, alert: dict[str, Any], after: timedelta) -> list[escalation.Escalated]:
    with exchange.node.db.write() as conn:
        return escalation.sweep(conn, exchange.node, from_micros(alert["raised_at"]) + after)


def ledger_entries(node: Node, kind: str) -> list[dict[str, Any]]:
    with node.db.read() as conn:
        bodies = [row[4] for row in ledger_store.entries(conn) if row[1] == kind]
        assert verify(conn, node.ledger.verifiers(conn), node.ledger.origin).ok
    return [{"actor": e.actor, **e.fields} for e in map(decode, bodies)]


def cli(node: Node, *args: str, code: int = 0) -> str:
    base = [
        "--data-dir",
        str(node.settings.data_dir),
        "--database-url",
        node.settings.resolved_database_url(),
    ]
    result = CliRunner().invoke(app, [*base, *args])
    assert result.exit_code == code, result.output
    return result.output if "--json" in args else " ".join(result.output.split())  # unwrapped


# --- REST ------------------------------------------------------------------------------------------------


def test_a_partner_acknowledges_once_and_the_second_time_gets_the_first(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    first = exchange.ack("observer-cert", alert["id"], {"note": "patched the resolvers"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["alert"], body["partner"], body["actor"], body["note"]) == (
        alert["id"], "observer-cert", "partner:observer-cert", "patched the resolvers",
    )  # fmt: skip
    again = exchange.ack("observer-cert", alert["id"], {"note": "another note"})
    assert again.status_code == 200 and again.json() == body
    bare = exchange.ack("far-ally", alert["id"])  # no body at all: no note
    assert bare.status_code == 201 and bare.json()["note"] is None
    with exchange.node.db.read() as conn:
        assert len(conn.execute(select(alert_acknowledgements)).all()) == 2
    assert ledger_entries(exchange.node, "acknowledgement") == [
        {"actor": "partner:observer-cert", "alert": alert["id"], "partner": "observer-cert"},
        {"actor": "partner:far-ally", "alert": alert["id"], "partner": "far-ally"},
    ]


def test_a_hidden_alert_answers_exactly_like_a_missing_one(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    missing = exchange.ack("distant", MISSING)
    hidden = exchange.ack("distant", alert["id"])
    assert missing.status_code == hidden.status_code == 404
    assert missing.content == hidden.content and missing.headers == hidden.headers
    # The detail report is not an alert, and not one far-ally may read either: the same answer.
    detail = orjson.loads(alert["published"])["detail"]
    assert exchange.ack("far-ally", detail).content == missing.content
    for odd in ("nonsense", "report--" + "a" * 400, "%00"):
        r = exchange.ack("observer-cert", odd)
        assert r.status_code == 404 and r.content == missing.content, odd
    with exchange.node.db.read() as conn:
        assert conn.execute(select(alert_acknowledgements)).all() == []


def test_strangers_admins_and_the_suspended_cannot_acknowledge(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    assert exchange.ack("", alert["id"]).status_code == 401
    assert exchange.ack("", MISSING).status_code == 401
    bad = {"Authorization": "Bearer not-a-token"}
    # The caller is known before a byte of the body is read: a stranger's huge body is 401, not 413.
    huge = b"x" * (exchange.node.settings.max_content_length + 1)
    assert exchange.client.post(URL.format(alert["id"]), headers=bad, content=huge).status_code == 401
    assert exchange.client.post(URL.format(alert["id"]), headers=bad).status_code == 401
    # Not vetted: 403 whatever the alert, so the refusal tells nothing about any alert.
    unvetted = exchange.ack("stranger", alert["id"])
    assert unvetted.status_code == 403 and exchange.ack("stranger", MISSING).content == unvetted.content
    assert (
        exchange.client.get(
            PENDING, headers={"Authorization": f"Bearer {exchange.tokens['stranger']}"}
        ).status_code
        == 403
    )
    assert exchange.ack("admin", alert["id"]).status_code == 403
    with exchange.node.db.write() as conn:
        partner = service.require_partner(conn, "observer-cert")
        service.set_standing(conn, "test", partner, "misuse", suspended=True)
    assert exchange.ack("observer-cert", alert["id"]).status_code == 401
    with exchange.node.db.read() as conn:
        assert conn.execute(select(alert_acknowledgements)).all() == []


def test_bad_bodies_are_refused(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    too_long = exchange.ack("observer-cert", alert["id"], {"note": "x" * 2001})
    assert too_long.status_code == 422 and "note" in too_long.json()["description"]
    assert exchange.ack("observer-cert", alert["id"], {"note": "a\x00b"}).status_code == 422
    assert exchange.ack("observer-cert", alert["id"], {"nate": "typo"}).status_code == 422
    assert exchange.ack("observer-cert", alert["id"], b"{not json").status_code == 422
    text = exchange.ack("observer-cert", alert["id"], b"note", **{"Content-Type": "text/plain"})
    assert text.status_code == 415
    huge = b'{"note": "' + b"x" * (exchange.node.settings.max_content_length + 1) + b'"}'
    assert exchange.ack("observer-cert", alert["id"], huge).status_code == 413
    with exchange.node.db.read() as conn:
        assert conn.execute(select(alert_acknowledgements)).all() == []
    assert exchange.ack("observer-cert", alert["id"], {"note": "x" * 2000}).status_code == 201


def test_pending_lists_only_unacknowledged_high_alerts_the_caller_may_read(exchange: Acks) -> None:
    assert exchange.pending("observer-cert") == []
    low = "123tramites.com"
    for who in ("first-bank", "ministry-of-health"):  # L2 at most: no critical infrastructure
        exchange.sight(who, exchange.domains[low])
    high = exchange.raise_l3()
    assert exchange.pending("observer-cert") == [high["id"]]
    assert exchange.pending("distant") == []  # hidden from it
    exchange.ack("observer-cert", high["id"])
    assert exchange.pending("observer-cert") == [] and exchange.pending("far-ally") == [high["id"]]


# --- escalation ------------------------------------------------------------------------------------------


def test_an_unacknowledged_alert_escalates_once_per_stage_on_time(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    exchange.ack("observer-cert", alert["id"])
    assert sweep(exchange, alert, timedelta(minutes=59)) == []  # before the 60-minute deadline
    (first,) = sweep(exchange, alert, timedelta(minutes=61))
    ids = exchange.partner_ids
    assert (first.alert_id, first.stage, first.level) == (alert["id"], 1, 3)
    assert first.pending == tuple(sorted(ids[n] for n in EXPECTED - {"observer-cert"}))
    assert set(first.names) == EXPECTED - {"observer-cert"}
    assert sweep(exchange, alert, timedelta(minutes=62)) == []  # idempotent
    exchange.ack("far-ally", alert["id"])
    assert sweep(exchange, alert, timedelta(minutes=119)) == []
    (second,) = sweep(exchange, alert, timedelta(minutes=121))
    assert second.stage == 2 and set(second.names) == EXPECTED - {"observer-cert", "far-ally"}
    assert sweep(exchange, alert, timedelta(days=3)) == []
    with exchange.node.db.read() as conn:
        stages = [(r.stage, orjson.loads(r.pending)) for r in conn.execute(select(alert_escalations))]
    assert stages == [(1, list(first.pending)), (2, list(second.pending))]
    recorded = ledger_entries(exchange.node, "escalation")
    assert [(e["alert"], e["stage"], sorted(e["pending"])) for e in recorded] == [
        (alert["id"], 1, sorted(first.names)), (alert["id"], 2, sorted(second.names)),
    ]  # fmt: skip


def test_an_alert_everyone_acknowledged_never_escalates(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    for who in sorted(EXPECTED):
        assert exchange.ack(who, alert["id"]).status_code == 201
    assert sweep(exchange, alert, timedelta(days=1)) == []


def test_a_late_sweep_escalates_both_stages_and_low_alerts_never(exchange: Acks) -> None:
    for who in ("first-bank", "ministry-of-health"):
        exchange.sight(who, exchange.domains["123tramites.com"])
    high = exchange.raise_l3()
    done = sweep(exchange, high, timedelta(hours=3))
    assert [(e.alert_id, e.stage) for e in done] == [(high["id"], 1), (high["id"], 2)]
    assert sweep(exchange, high, timedelta(hours=4)) == []


def test_suspended_and_hidden_partners_are_not_expected(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    with exchange.node.db.write() as conn:
        service.set_standing(conn, "test", service.require_partner(conn, "first-bank"), "t", suspended=True)
    (done,) = sweep(exchange, alert, timedelta(minutes=61))
    assert set(done.names) == EXPECTED - {"first-bank"}  # nor distant (hidden), stranger, admin


# --- CLI -------------------------------------------------------------------------------------------------


def test_the_cli_acknowledges_for_a_partner_lists_and_escalates(exchange: Acks) -> None:
    alert = exchange.raise_l3()
    node = exchange.node
    listed = orjson.loads(cli(node, "alerts", "--json"))
    assert [(a["level"], a["acknowledged"], a["expected"], a["escalation_stage"]) for a in listed] == [
        (3, 0, 5, 0)
    ]
    said = cli(
        node, "alerts", "ack", alert["id"], "--partner", "far-ally", "--actor", "dana", "--note", "by phone"
    )
    assert "far-ally acknowledged" in said
    again = cli(node, "alerts", "ack", alert["id"], "--partner", "far-ally", "--actor", "eli")
    assert "already acknowledged" in again and "cli:dana" in again
    assert "acknowledged 1/5" in cli(node, "alerts")
    # Refusals: a partner that may not read it, one not vetted, an admin, an unknown alert.
    assert "may read" in cli(
        node, "alerts", "ack", alert["id"], "--partner", "distant", "--actor", "d", code=1
    )
    cli(node, "alerts", "ack", alert["id"], "--partner", "stranger", "--actor", "d", code=1)
    cli(node, "alerts", "ack", MISSING, "--partner", "far-ally", "--actor", "d", code=1)
    cli(node, "alerts", "ack", alert["id"], "--partner", "far-ally", "--actor", " ", code=1)
    assert ledger_entries(node, "acknowledgement") == [
        {"actor": "cli:dana", "alert": alert["id"], "partner": "far-ally"}
    ]
    # The sweep from cron: nothing yet (exit 0), then an escalation (exit 3), then nothing new (exit 0).
    assert "escalated: 0" in cli(node, "alerts", "escalate")
    at = (from_micros(alert["raised_at"]) + timedelta(minutes=61)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = orjson.loads(cli(node, "alerts", "escalate", "--at", at, "--json", code=3))
    assert [(e["alert"], e["stage"], sorted(e["pending"])) for e in out] == [
        (alert["id"], 1, sorted(EXPECTED - {"far-ally"}))
    ]
    assert "escalated: 0" in cli(node, "alerts", "escalate", "--at", at)
    assert "escalated (stage 1)" in cli(node, "alerts")
    cli(node, "alerts", "escalate", "--at", "yesterday", code=1)


def test_escalation_re_sends_to_the_pending_partners_webhooks_and_puts_the_alert_on_the_board(
    exchange: Acks,
) -> None:
    node = exchange.node
    with node.db.write() as conn:  # two partners' receivers; one of them will have acknowledged
        for who in ("observer-cert", "far-ally"):
            webhooks.register(conn, who, f"https://{who}.example/hook", 1, "test")
    alert = exchange.raise_l3()
    assert exchange.ack("far-ally", alert["id"]).status_code == 201
    with node.db.write() as conn:
        (opened,) = incident_store.incidents_of_alert(conn, alert["id"])  # L3: on the board already
        done = escalation.escalate(conn, node, from_micros(alert["raised_at"]) + timedelta(minutes=61))
        queued = [(d.event, d.stage, d.webhook_id) for d in webhooks.deliveries(conn, alert["id"])]
        assert incident_store.incidents_of_alert(conn, alert["id"]) == [opened]
    assert [e.stage for e in done] == [1]
    hooks = {w.partner_id: w.id for w in _webhooks(node)}
    pending_hook = hooks[exchange.partner_ids["observer-cert"]]
    assert sorted(queued) == sorted(
        [
            ("alert", 0, pending_hook),
            ("alert", 0, hooks[exchange.partner_ids["far-ally"]]),
            ("escalation", 1, pending_hook),
        ]
    )  # the escalation goes to the partner still pending only
    with node.db.write() as conn:  # still pending at twice the deadline: stage 2 notifies again
        done = escalation.escalate(conn, node, from_micros(alert["raised_at"]) + timedelta(minutes=121))
        again = [(d.event, d.stage, d.webhook_id) for d in webhooks.deliveries(conn, alert["id"])]
    assert [e.stage for e in done] == [2]
    assert sorted(again) == sorted([*queued, ("escalation", 2, pending_hook)])


def _webhooks(node: Node) -> list[Any]:
    with node.db.read() as conn:
        return webhooks.listing(conn)
