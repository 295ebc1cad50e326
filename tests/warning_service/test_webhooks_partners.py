"""Partners managing their own webhooks over REST (issue 7, "Alerts out"): https only, never a non-public
address (at registration and again at every delivery, so DNS re-pointed later is caught too), and only
their own webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gesher.api.app import create_app
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import webhooks as webhook_store
from gesher.warning_service.webhook_delivery import deliver_due
from gesher.warning_service.webhook_urls import InvalidWebhookUrl, pinned, route
from tests.conftest import World
from tests.warning_service.exchange import Exchange
from tests.warning_service.test_webhooks import disclosures, raise_alert, rows

PUBLIC = "https://93.184.215.14/gesher/alerts"  # an address literal: resolves to itself, no DNS needed


def bearer(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def test_a_partner_registers_lists_and_removes_its_own(world: World, client: TestClient) -> None:
    r = client.post(
        "/webhooks/v1/hooks", json={"url": PUBLIC, "min_level": 2}, headers=bearer(world, "reader")
    )
    assert r.status_code == 201, r.text
    hook = r.json()
    assert (hook["partner"], hook["url"], hook["min_level"]) == ("reader", PUBLIC, 2)
    assert hook["created_by"] == "partner:reader" and hook["public_key"].startswith("whpk_")
    mine = client.get("/webhooks/v1/hooks", headers=bearer(world, "reader")).json()["webhooks"]
    assert [h["id"] for h in mine] == [hook["id"]]
    assert client.get("/webhooks/v1/hooks", headers=bearer(world, "writer")).json() == {"webhooks": []}
    # Another partner's webhook is as absent as one that does not exist.
    other = client.delete(f"/webhooks/v1/hooks/{hook['id']}", headers=bearer(world, "writer"))
    missing = client.delete("/webhooks/v1/hooks/424242", headers=bearer(world, "writer"))
    assert other.status_code == missing.status_code == 404
    assert other.json()["description"] == f"no webhook {hook['id']}"
    assert client.delete("/webhooks/v1/hooks/99999999999", headers=bearer(world, "writer")).status_code == 422
    assert (
        client.delete(f"/webhooks/v1/hooks/{hook['id']}", headers=bearer(world, "reader")).status_code == 204
    )
    assert (
        client.delete(f"/webhooks/v1/hooks/{hook['id']}", headers=bearer(world, "reader")).status_code == 404
    )
    assert client.get("/webhooks/v1/hooks", headers=bearer(world, "reader")).json() == {"webhooks": []}
    with world.node.db.read() as conn:
        actions = [(e["actor"], e["action"]) for e in audit.events(conn, "partner:reader")]
    assert ("partner:reader", "webhook.add") in actions and ("partner:reader", "webhook.remove") in actions


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://93.184.215.14/hook", "https"),
        ("http://127.0.0.1:8080/hook", "for operators"),
        ("https://127.0.0.1/hook", "non-public"),
        ("https://localhost/hook", "non-public"),
        ("https://10.0.0.8/hook", "non-public"),
        ("https://169.254.169.254/latest/meta-data/", "non-public"),
        ("https://[::1]/hook", "non-public"),
        ("https://[fe80::1]/hook", "non-public"),
        ("https://[::ffff:192.168.0.1]/hook", "non-public"),
        ("https://no-such-host.invalid/hook", "does not resolve"),
        ("https://user:pw@93.184.215.14/hook", "user name or password"),
    ],
)
def test_partners_may_not_point_the_exchange_inwards(
    world: World, client: TestClient, url: str, says: str
) -> None:
    r = client.post("/webhooks/v1/hooks", json={"url": url}, headers=bearer(world, "reader"))
    assert r.status_code == 400, r.text
    assert says in r.json()["description"]
    with world.node.db.read() as conn:
        assert webhook_store.listing(conn) == []


def test_only_vetted_partners_and_valid_bodies(world: World, client: TestClient) -> None:
    with world.node.db.write() as conn:
        _, token = service.create_partner(conn, "test", "unvetted", "GB", "ngo")
    r = client.post("/webhooks/v1/hooks", json={"url": PUBLIC}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    assert client.post("/webhooks/v1/hooks", json={"url": PUBLIC}).status_code == 401
    for body in ({"url": PUBLIC, "min_level": 4}, {"url": PUBLIC, "extra": 1}, {}, {"url": "x" * 3000}):
        assert (
            client.post("/webhooks/v1/hooks", json=body, headers=bearer(world, "reader")).status_code == 422
        )


@pytest.fixture
def exchange(node: Node) -> Iterator[Exchange]:
    yield Exchange(node, TestClient(create_app(node.settings, node)))  # no background deliverer


def test_a_partner_url_that_now_resolves_inwards_is_not_sent_to(exchange: Exchange) -> None:
    """As if DNS had been re-pointed after registration: checked again at delivery, before any record."""
    node = exchange.node
    with node.db.write() as conn:
        partner_id = service.require_partner(conn, "observer-cert").id
        hook = webhook_store.add(conn, partner_id, "https://localhost:9/hook", 1, now_micros(), "partner:x")
    raise_alert(exchange)
    done = deliver_due(node)
    assert [a.outcome for a in done.attempts] == ["failed"]
    row = rows(node)[hook]
    assert (row.state, row.attempts, row.ledger_index) == ("failed", 1, None)
    assert "non-public" in (row.last_error or "")
    assert disclosures(node, f"webhook:{hook}") == []


def test_a_partner_url_is_pinned_to_the_address_checked() -> None:
    r = pinned("https://hooks.example.org:8443/a/b?c=d", "93.184.215.14")
    assert r.url == "https://93.184.215.14:8443/a/b?c=d"
    assert r.headers == {"host": "hooks.example.org:8443"}
    assert r.extensions == {"sni_hostname": "hooks.example.org"}  # the certificate is checked for the name
    assert pinned("https://h.example/x", "2001:db8::1").url == "https://[2001:db8::1]/x"
    assert route("https://93.184.215.14/x", partner_registered=True).url == "https://93.184.215.14/x"
    assert route("http://127.0.0.1:1/x", partner_registered=False).url == "http://127.0.0.1:1/x"  # operator's
    with pytest.raises(InvalidWebhookUrl, match="non-public"):
        route("https://127.0.0.1/x", partner_registered=True)
    with pytest.raises(LookupError, match="does not resolve"):
        route("https://no-such-host.invalid/x", partner_registered=True)
