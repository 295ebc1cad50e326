"""Webhooks for early-warning alerts (issue 7, "Alerts out"), on both stores, against a real HTTP receiver
on 127.0.0.1 that checks every signature with the exchange's public key: each partner receives exactly what
the one policy function serves it, the ledger records the exact bytes before they are sent, and a partner
that may receive nothing is sent nothing."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select

from gesher.api.app import create_app
from gesher.exchange.node import Node
from gesher.ledger import entries
from gesher.partners import service
from gesher.store import webhooks as webhook_store
from gesher.store.tables import ledger_entries, ledger_head
from gesher.warning_service import alerts, webhook_signing, webhooks
from gesher.warning_service.webhook_delivery import deliver_due
from gesher.warning_service.webhook_http import backoff, retry_after
from tests.warning_service.exchange import Exchange
from tests.warning_service.webhook_receiver import Received, receiver

DOMAIN = "weather4free.com"


@pytest.fixture
def exchange(node: Node) -> Iterator[Exchange]:
    # Not entered as a context manager: no lifespan, so no background deliverer; the tests drive passes.
    yield Exchange(node, TestClient(create_app(node.settings, node)))


def public_key(node: Node):  # type: ignore[no-untyped-def]
    with node.db.read() as conn:
        known = webhook_signing.published_key(conn)
    assert known is not None and known.startswith("whpk_")
    return webhook_signing.parse_public(known)


def register(node: Node, partner: str, url: str, min_level: int = 1) -> int:
    with node.db.write() as conn:
        return webhooks.register(conn, partner, url, min_level, "test", allow_loopback_http=True).id


def raise_alert(exchange: Exchange) -> str:
    """An L2 campaign alert on a held Pegasus indicator (a bank and a ministry see it); its id."""
    target = exchange.domains[DOMAIN]
    assert exchange.sight("first-bank", target).status_code == 202
    assert exchange.sight("ministry-of-health", target).status_code == 202
    with exchange.node.db.read() as conn:
        listed = alerts.listing(conn)
    assert [a["level"] for a in listed] == [2]
    return str(listed[0]["id"])


def rows(node: Node, alert_id: str | None = None) -> dict[int, webhook_store.DeliveryRow]:
    with node.db.read() as conn:
        return {d.webhook_id: d for d in webhook_store.deliveries(conn, alert_id)}


def object_bytes(body: bytes) -> list[bytes]:
    """Each object's exact bytes within a delivered payload."""
    text = body.decode("utf-8")
    start = text.index('"objects":[') + len('"objects":[')
    decoder, spans = json.JSONDecoder(), []
    while text[start] != "]":
        _, end = decoder.raw_decode(text, start)
        spans.append(text[start:end].encode("utf-8"))
        start = end + 1 if text[end] == "," else end
    return spans


def disclosures(node: Node, endpoint: str) -> list[tuple[int, entries.Entry]]:
    with node.db.read() as conn:
        found = conn.execute(
            select(ledger_entries.c.idx, ledger_entries.c.body).where(ledger_entries.c.kind == "disclosure")
        ).all()
    decoded = [(int(i), entries.decode(bytes(b))) for i, b in found]
    return [(i, e) for i, e in decoded if e.fields["endpoint"] == endpoint]


def test_each_partner_receives_exactly_what_the_policy_serves_it(exchange: Exchange) -> None:
    node = exchange.node
    with node.db.write() as conn:  # suspended after vetting: it receives nothing, by any way out
        grid = service.require_partner(conn, "grid-energy")
        service.set_standing(conn, "test", grid, "under review", suspended=True)
    with receiver(lambda: public_key(node)) as hooks:
        ids = {
            who: register(node, who, hooks.url(f"/{who}"))
            for who in ("observer-cert", "far-ally", "stranger", "grid-energy")
        }
        alert_id = raise_alert(exchange)
        queued = rows(node, alert_id)
        # Suspended partners' webhooks are not even queued; the stranger's is, and the policy decides.
        assert set(queued) == {ids["observer-cert"], ids["far-ally"], ids["stranger"]}
        done = deliver_due(node)
        assert sorted(a.outcome for a in done.attempts) == ["delivered", "delivered", "withheld"]
    by_path = {r.path: r for r in hooks.received}
    assert set(by_path) == {"/observer-cert", "/far-ally"}  # nothing at all for the stranger
    assert all(r.verified for r in hooks.received)
    target = exchange.domains[DOMAIN]
    reader, ally = by_path["/observer-cert"].payload, by_path["/far-ally"].payload
    assert reader["event"] == "alert" and reader["alert"] == alert_id and reader["level"] == 2
    assert reader["objects"] == exchange.alerts("observer-cert")  # summary and detail, as TAXII serves
    assert [o["object_refs"] for o in reader["objects"]] == [[node.identity], [target]]
    assert ally["objects"] == exchange.alerts("far-ally")  # no grant on intel: the summary only
    assert [o["object_refs"] for o in ally["objects"]] == [[node.identity]]
    assert target.encode() not in by_path["/far-ally"].body
    final = rows(node, alert_id)
    assert final[ids["stranger"]].state == "withheld" and final[ids["stranger"]].ledger_index is None
    assert "nothing" in (final[ids["stranger"]].last_error or "")
    for who in ("observer-cert", "far-ally"):
        row = final[ids[who]]
        assert (row.state, row.attempts, row.ledger_index is not None) == ("delivered", 1, True)
        assert by_path[f"/{who}"].headers["content-type"] == "application/json"
    # The same objects, version for version and byte for byte, as the partner's own TAXII read records.
    (_, pushed), *_ = disclosures(node, f"webhook:{ids['observer-cert']}")
    taxii = [e for i, e in disclosures(node, f"/taxii2/gesher/collections/{_alerts_id()}/objects/")]
    pulled = [e for e in taxii if e.fields["partner"] == "observer-cert"]
    assert [s[:3] for s in entries.served(pushed)] == [s[:3] for s in entries.served(pulled[0])]
    assert pushed.fields["partner"] == "observer-cert" and pushed.fields["policy_version"] > 0


def _alerts_id() -> str:
    from gesher.store.collections import ALERTS_ID

    return ALERTS_ID


def test_the_ledger_records_the_exact_bytes_before_they_are_sent(exchange: Exchange) -> None:
    node = exchange.node
    seen: list[tuple[list[str], list[str]]] = []

    def check_ledger(got: Received) -> None:  # runs in the receiver, while the sender waits
        with node.db.read() as conn:
            (row,) = webhook_store.deliveries(conn)
        assert row.ledger_index is not None, "sent before its ledger entry was committed"
        (index, entry), *_ = disclosures(node, f"webhook:{row.webhook_id}")
        assert index == row.ledger_index
        recorded = [s.sha256 for s in entries.served(entry)]
        seen.append((recorded, [hashlib.sha256(b).hexdigest() for b in object_bytes(got.body)]))

    with receiver(lambda: public_key(node), on_receive=check_ledger) as hooks:
        register(node, "observer-cert", hooks.url())
        raise_alert(exchange)
        assert deliver_due(node).count("delivered") == 1
    assert not hooks.errors, hooks.errors
    assert len(seen) == 1 and seen[0][0] == seen[0][1] and len(seen[0][0]) == 2


def test_nothing_is_sent_when_the_ledger_cannot_record_it(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node)) as hooks:
        hook = register(node, "observer-cert", hooks.url())
        raise_alert(exchange)
        with node.db.write() as conn:  # the ledger loses its head: every append now fails
            conn.execute(delete(ledger_head))
        done = deliver_due(node)
        assert [a.outcome for a in done.attempts] == ["deferred"]
    assert hooks.received == []
    row = rows(node)[hook]
    assert (row.state, row.attempts, row.ledger_index) == ("pending", 0, None)
    assert "ledger" in (row.last_error or "")


def test_retried_with_back_off_until_delivered(exchange: Exchange) -> None:
    node = exchange.node
    base = node.warning_config.webhook_retry
    with receiver(lambda: public_key(node), statuses=[500, 429]) as hooks:
        hook = register(node, "observer-cert", hooks.url())
        raise_alert(exchange)
        t0 = datetime.now(UTC)
        assert [a.status for a in deliver_due(node, t0).attempts] == [500]
        first = rows(node)[hook]
        waited = timedelta(microseconds=first.next_attempt_at - _micros(t0))
        assert 0.75 * base <= waited <= base, waited  # jitter brings a retry at most a quarter early
        assert deliver_due(node, t0 + 0.7 * base).attempts == []  # not due yet
        t1 = t0 + waited
        assert [a.status for a in deliver_due(node, t1).attempts] == [429]
        second = rows(node)[hook]
        waited = timedelta(microseconds=second.next_attempt_at - _micros(t1))
        assert 1.5 * base <= waited <= 2 * base, waited  # doubled
        assert [a.outcome for a in deliver_due(node, t1 + waited).attempts] == ["delivered"]
    final = rows(node)[hook]
    assert (final.state, final.attempts) == ("delivered", 3)
    assert len(hooks.received) == 3 and all(r.verified for r in hooks.received)
    assert len({r.headers["webhook-id"] for r in hooks.received}) == 1  # one message, three attempts
    assert len({r.body for r in hooks.received}) == 1
    # Three sends of the same bytes: one disclosure entry records them.
    assert [i for i, _ in disclosures(node, f"webhook:{hook}")] == [final.ledger_index]


def test_failed_after_the_last_attempt(exchange: Exchange) -> None:
    node = exchange.node
    node.warning_config = _replace(node, webhook_max_attempts=3, webhook_timeout=0.5)
    with receiver(lambda: public_key(node), statuses=[503, 503], delay=0.0) as hooks:
        hook = register(node, "observer-cert", hooks.url())
        raise_alert(exchange)
        at = datetime.now(UTC)
        outcomes = []
        for _ in range(3):
            hooks.delay = 0.0 if len(hooks.received) < 2 else 1.0  # the third attempt times out
            outcomes += [(a.outcome, a.status) for a in deliver_due(node, at).attempts]
            at += timedelta(hours=2)
        assert deliver_due(node, at).attempts == []
    assert outcomes == [("retry", 503), ("retry", 503), ("failed", None)]
    final = rows(node)[hook]
    assert (final.state, final.attempts, final.last_error) == ("failed", 3, "timed out")


@given(
    base=st.integers(1, 7200).map(lambda s: timedelta(seconds=s)),
    attempts=st.integers(1, 60),
    draw=st.floats(0, 1, exclude_max=True),
)
def test_back_off_doubles_with_jitter_and_is_capped_at_an_hour(
    base: timedelta, attempts: int, draw: float
) -> None:
    class Fixed(random.Random):
        def random(self) -> float:
            return draw

    nominal = min(base.total_seconds() * 2 ** (attempts - 1), 3600.0)
    waited = backoff(base, attempts, Fixed())
    assert 0.75 * nominal - 1e-6 <= waited.total_seconds() <= nominal + 1e-6 <= 3600 + 1e-6


def test_a_client_error_is_not_retried_and_gone_removes_the_webhook(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node), statuses=[400, 410, 302]) as hooks:
        bad = register(node, "observer-cert", hooks.url("/bad"))
        gone = register(node, "first-bank", hooks.url("/gone"))
        moved = register(node, "ministry-of-health", hooks.url("/moved"))
        raise_alert(exchange)
        done = deliver_due(node)
        assert [(a.outcome, a.status) for a in done.attempts] == [
            ("failed", 400),
            ("failed", 410),
            ("failed", 302),
        ]
        assert deliver_due(node, datetime.now(UTC) + timedelta(hours=3)).attempts == []
    assert [r.path for r in hooks.received] == ["/bad", "/gone", "/moved"]  # the redirect is not followed
    final = rows(node)
    assert [(final[h].state, final[h].attempts) for h in (bad, gone, moved)] == [("failed", 1)] * 3
    assert "not followed" in (final[moved].last_error or "")
    with node.db.read() as conn:
        active = {w.id for w in webhook_store.listing(conn)}
    assert active == {bad, moved}  # 410 Gone deactivated its webhook


def test_connection_refused_is_retried(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node)) as closed:
        url = closed.url()
    hook = register(node, "observer-cert", url)  # nothing listens there any more
    raise_alert(exchange)
    assert [a.outcome for a in deliver_due(node).attempts] == ["retry"]
    row = rows(node)[hook]
    assert row.state == "pending" and row.attempts == 1 and "connect" in (row.last_error or "")


def test_levels_removal_and_suspension_after_queueing(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node)) as hooks:
        national_only = register(node, "observer-cert", hooks.url("/l3"), min_level=3)
        removed = register(node, "observer-cert", hooks.url("/removed"))
        suspended = register(node, "first-bank", hooks.url("/suspended"))
        raise_alert(exchange)
        assert set(rows(node)) == {removed, suspended}  # an L2 alert: not queued for an L3-only hook
        with node.db.write() as conn:
            webhooks.remove(conn, removed, "test")
            bank = service.require_partner(conn, "first-bank")
            service.set_standing(conn, "test", bank, "cut off", suspended=True)
        done = deliver_due(node)
    assert hooks.received == []
    assert [a.outcome for a in done.attempts] == ["withheld"]  # the removed one was withheld at once
    final = rows(node)
    assert final[removed].state == "withheld" and "removed" in (final[removed].last_error or "")
    assert final[suspended].state == "withheld" and "suspended" in (final[suspended].last_error or "")
    assert national_only not in final


def test_escalations_go_to_the_partners_named(exchange: Exchange) -> None:
    node = exchange.node
    reader = register(node, "observer-cert", "https://hooks.example.org/a")
    bank = register(node, "first-bank", "https://hooks.example.org/b")
    alert_id = raise_alert(exchange)
    with node.db.write() as conn:
        bank_id = service.require_partner(conn, "first-bank").id
        assert webhooks.enqueue(conn, alert_id, 2, "escalation", partner_ids=[bank_id], stage=1) == 1
        assert webhooks.enqueue(conn, alert_id, 2, "escalation", partner_ids=[bank_id], stage=1) == 1  # once
        assert webhooks.enqueue(conn, alert_id, 2, "escalation", partner_ids=[bank_id], stage=2) == 1
    with node.db.read() as conn:
        queued = [(d.webhook_id, d.event, d.stage) for d in webhook_store.deliveries(conn, alert_id)]
    assert sorted(queued) == sorted(
        [(reader, "alert", 0), (bank, "alert", 0), (bank, "escalation", 1), (bank, "escalation", 2)]
    )


def test_concurrent_deliverers_never_send_one_delivery_twice(exchange: Exchange) -> None:
    import threading

    node = exchange.node
    with receiver(lambda: public_key(node), delay=0.05) as hooks:
        for i in range(6):
            register(node, "observer-cert", hooks.url(f"/{i}"))
            register(node, "far-ally", hooks.url(f"/ally-{i}"))
        raise_alert(exchange)
        start = threading.Barrier(3)
        failures: list[BaseException] = []

        def work() -> None:
            try:
                start.wait()
                while deliver_due(node, limit=2).attempts:
                    pass
            except BaseException as error:
                failures.append(error)

        workers = [threading.Thread(target=work) for _ in range(3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    assert not failures, failures
    ids = [r.headers["webhook-id"] for r in hooks.received]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert {d.state for d in rows(node).values()} == {"delivered"}


def _micros(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000 + at.microsecond


def _replace(node: Node, **changes: object):  # type: ignore[no-untyped-def]
    import dataclasses

    return dataclasses.replace(node.warning_config, **changes)  # type: ignore[arg-type]


def test_payload_shape(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node)) as hooks:
        register(node, "observer-cert", hooks.url())
        alert_id = raise_alert(exchange)
        deliver_due(node)
    (got,) = hooks.received
    head = orjson.loads(got.body)
    assert list(head) == ["event", "alert", "level", "objects"]
    assert head["alert"] == alert_id
    assert int(got.headers["webhook-timestamp"]) == pytest.approx(datetime.now(UTC).timestamp(), abs=60)
    assert got.headers["webhook-signature"].startswith("v1a,")


def test_an_escalation_payload_names_its_stage(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node)) as hooks:
        register(node, "observer-cert", hooks.url())
        alert_id = raise_alert(exchange)
        with node.db.write() as conn:
            reader_id = service.require_partner(conn, "observer-cert").id
            webhooks.enqueue(conn, alert_id, 2, "escalation", partner_ids=[reader_id], stage=2)
        deliver_due(node)
    heads = sorted((orjson.loads(got.body) for got in hooks.received), key=lambda h: h["event"])
    assert [(h["event"], h.get("stage")) for h in heads] == [("alert", None), ("escalation", 2)]
    assert all(got.verified for got in hooks.received) and heads[1]["objects"] == heads[0]["objects"]


BACKGROUND = {"gesher-webhooks", "gesher-indicator-index", "gesher-escalation"}


def test_the_server_delivers_in_the_background_and_stops_cleanly(node: Node) -> None:
    import threading
    import time

    with TestClient(create_app(node.settings, node)) as client, receiver(lambda: public_key(node)) as hooks:
        exchange = Exchange(node, client)
        register(node, "observer-cert", hooks.url())
        raise_alert(exchange)
        deadline = time.monotonic() + 10
        while not hooks.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(hooks.received) == 1 and hooks.received[0].verified
        assert {t.name for t in threading.enumerate()} >= BACKGROUND
    assert not BACKGROUND & {t.name for t in threading.enumerate()}
    assert [d.state for d in rows(node).values()] == ["delivered"]


def test_retry_after_is_honoured_within_the_cap(exchange: Exchange) -> None:
    node = exchange.node
    with receiver(lambda: public_key(node), statuses=[429, 503], headers={"Retry-After": "600"}) as hooks:
        hook = register(node, "observer-cert", hooks.url())
        raise_alert(exchange)
        t0 = datetime.now(UTC)
        assert [a.status for a in deliver_due(node, t0).attempts] == [429]
        waited = rows(node)[hook].next_attempt_at - _micros(t0)
        assert waited == 600_000_000  # the receiver's pace, not our 30 s
        hooks.headers["Retry-After"] = "86400"
        t1 = t0 + timedelta(seconds=600)
        assert [a.status for a in deliver_due(node, t1).attempts] == [503]
        assert rows(node)[hook].next_attempt_at - _micros(t1) == 3_600_000_000  # a day asked, an hour given


def test_retry_after_values() -> None:
    later = (datetime.now(UTC) + timedelta(seconds=120)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert retry_after("120") == timedelta(seconds=120)
    assert timedelta(seconds=100) < (retry_after(later) or timedelta(0)) <= timedelta(seconds=120)
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == timedelta(0)  # in the past: now
    assert retry_after("10" * 20) == timedelta(days=1)  # absurd values are bounded
    for bad in (None, "", "soon", "-5", "1.5", "Wed, 99 Foo 2015"):
        assert retry_after(bad) is None, bad
