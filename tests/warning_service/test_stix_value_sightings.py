"""Sightings in over TAXII, by value (issue 7): a STIX sighting's observed data names the values a partner
saw; each counts as a value reported with `gesher sighting add` would, on both stores. Values correlate
across partners, normalise (case, trailing dot, hashes), come from `object_refs` or the deprecated
embedded `objects` (in the envelope or the poster's own earlier posts, never another partner's), refuse
the whole POST when malformed, and never tell held, hidden and absent apart."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.store.tables import alerts, sightings
from gesher.warning_service.config import WarningConfig
from tests.factories import T0, domain, indicator, malware
from tests.warning_service.exchange import Exchange, sighting
from tests.warning_service.test_sightings import _normalised

DOMAIN = "weather4free.com"
SHA256 = "A" * 64


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def sco(kind: str, **props: Any) -> dict[str, Any]:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", **props}


def observed(*scos: dict[str, Any], **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": f"observed-data--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "first_observed": T0,
        "last_observed": T0,
        "number_observed": 1,
    }
    if scos:
        obj["object_refs"] = [s["id"] for s in scos]
    obj.update(extra)
    return obj


def value_sighting(of: str, *observed_data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return sighting(of, observed_data_refs=[o["id"] for o in observed_data], **extra)


def post_values(exchange: Exchange, who: str, *scos: dict[str, Any], of: str | None = None) -> Any:
    """`who` posts, in one envelope, the SCOs, an observed-data naming them and a sighting of `of` (a new
    malware, by default) carrying it."""
    target = malware()
    seen = observed(*scos)
    objects = [*scos, seen, value_sighting(of or str(target["id"]), seen)]
    return exchange.post(who, exchange.intel.id, *([] if of else [target]), *objects)


def tokens(exchange: Exchange) -> list[str]:
    with exchange.node.db.read() as conn:
        return sorted(t for (t,) in conn.execute(select(sightings.c.token)))


def count(exchange: Exchange, table: Any) -> int:
    with exchange.node.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_two_partners_observing_a_pegasus_domain_raise_the_alert_two_indicator_sightings_would(
    exchange: Exchange,
) -> None:
    target = exchange.domains[DOMAIN]
    for who in ("first-bank", "ministry-of-health"):
        assert post_values(exchange, who, domain(DOMAIN)).status_code == 202
    by_values = exchange.alerts("observer-cert")
    assert tokens(exchange) == [target, target]  # the values count for the indicator naming them
    me = exchange.node.identity
    assert [(r["labels"][1], r["object_refs"]) for r in by_values] == [
        ("level-2", [me]),
        ("level-2", [target]),
    ]
    with exchange.node.db.read() as conn:
        assert [lv for (lv,) in conn.execute(select(alerts.c.level))] == [2]


def test_a_sighting_of_an_indicator_counts_for_it_and_for_its_values(exchange: Exchange) -> None:
    other = "values-only.example"
    seen_dom = domain(other)
    seen = observed(seen_dom)
    target = exchange.domains[DOMAIN]
    r = exchange.post("first-bank", exchange.intel.id, seen_dom, seen, value_sighting(target, seen))
    assert r.status_code == 202, r.text
    assert tokens(exchange) == sorted([target, f"domain-name:{other}"])


def test_values_are_normalised_mixed_case_domain_with_trailing_dot_and_a_file_hash(
    exchange: Exchange,
) -> None:
    file = sco("file", name="x.bin", hashes={"SHA-256": SHA256, "SSDEEP": "3:abc:def"})
    address = sco("ipv6-addr", value="2001:DB8:0:0:0:0:0:1")
    assert post_values(exchange, "first-bank", domain("Values.EXAMPLE."), file, address).status_code == 202
    assert tokens(exchange) == [
        "domain-name:values.example",
        "ipv6-addr:2001:db8::1",
        f"sha-256:{SHA256.lower()}",
    ]


def test_the_deprecated_embedded_objects_are_read(exchange: Exchange) -> None:
    seen = observed(objects={"0": {"type": "domain-name", "value": "Embedded.example"}})
    r = exchange.post("first-bank", exchange.intel.id, seen, value_sighting(exchange.domains[DOMAIN], seen))
    assert r.status_code == 202, r.text
    assert tokens(exchange) == sorted([exchange.domains[DOMAIN], "domain-name:embedded.example"])


def test_observed_data_and_scos_the_poster_sent_earlier_count(exchange: Exchange) -> None:
    # A sensor posts what it saw once, and sightings of it later: its own earlier objects are read.
    early = domain("Posted-Earlier.example")
    seen_before = observed(early)
    assert exchange.post("first-bank", exchange.intel.id, early, seen_before).status_code == 202
    target = exchange.domains[DOMAIN]
    r = exchange.post(
        "first-bank", exchange.intel.id, sighting(target, observed_data_refs=[seen_before["id"]])
    )
    assert r.status_code == 202, r.text
    # And an observed-data posted now may name an SCO posted earlier.
    seen_now = observed(early)
    assert (
        exchange.post("first-bank", exchange.intel.id, seen_now, value_sighting(target, seen_now)).status_code
        == 202
    )
    assert tokens(exchange) == sorted([target, "domain-name:posted-earlier.example"] * 2)


def test_another_partners_objects_are_never_read_and_answer_as_absent_ones(exchange: Exchange) -> None:
    # The ministry's SCO and observed-data are stored; the bank names them: they count for nothing, and the
    # bank's reply is the same as for ids nobody posted (no probing of what others stored).
    theirs = domain("ministry-saw.example")
    their_observed = observed(theirs)
    assert exchange.post("ministry-of-health", exchange.intel.id, theirs, their_observed).status_code == 202
    target = exchange.domains[DOMAIN]
    named = sighting(target, observed_data_refs=[their_observed["id"]])
    absent = sighting(target, observed_data_refs=[observed(domain("never-posted.example"))["id"]])
    replies = [exchange.post("first-bank", exchange.intel.id, s) for s in (named, absent)]
    assert {r.status_code for r in replies} == {202}
    assert len({_normalised(r.content) for r in replies}) == 1
    # An observed-data of the bank's own naming the ministry's SCO: the SCO is passed over too.
    mine = observed(theirs)
    assert (
        exchange.post("first-bank", exchange.intel.id, mine, value_sighting(target, mine)).status_code == 202
    )
    assert tokens(exchange) == [target] * 3  # the indicator, three times; never ministry-saw.example


def test_an_sco_the_validator_refuses_is_a_failure_and_counts_for_nothing(exchange: Exchange) -> None:
    r = post_values(exchange, "first-bank", sco("ipv4-addr", value="999.1.1.1"), domain("ok.example"))
    assert r.status_code == 202 and r.json()["failure_count"] == 1
    assert tokens(exchange) == ["domain-name:ok.example"]


def test_a_bad_value_refuses_the_whole_post_and_stores_nothing(exchange: Exchange) -> None:
    # Valid STIX (a CIDR block), but not an address a sensor sees: the exchange matches single values.
    bad = sco("ipv4-addr", value="198.51.100.0/24")
    good = domain("fine.example")
    target = malware()
    seen = observed(good, bad)
    posted = value_sighting(str(target["id"]), seen)
    r = exchange.post("first-bank", exchange.intel.id, target, good, bad, seen, posted)
    assert r.status_code == 400, r.text
    description = r.json()["description"]
    assert posted["id"] in description and bad["id"] in description and "198.51.100.0/24" in description
    assert count(exchange, sightings) == 0
    # The request's write transaction rolled back: none of the posted objects was stored either.
    for obj in (target, good, seen, posted):
        got = exchange.client.get(
            f"/taxii2/gesher/collections/{exchange.intel.id}/objects/{obj['id']}/",
            headers=exchange.headers("first-bank"),
        )
        assert got.status_code == 404, obj["id"]


def test_a_held_a_hidden_and_an_absent_value_are_answered_alike(exchange: Exchange) -> None:
    replies = [
        post_values(exchange, "first-bank", domain(value))
        for value in (DOMAIN, "hidden-c2.example", "absent.example")  # held, hidden (secret), none
    ]
    assert {r.status_code for r in replies} == {202}
    assert len({_normalised(r.content) for r in replies}) == 1
    # Each is one stored report, and what the poster can read afterwards is the same for all three.
    assert count(exchange, sightings) == 3
    assert exchange.alerts("first-bank") == []
    for value in ("hidden-c2.example", "absent.example"):
        post_values(exchange, "ministry-of-health", domain(value))
    served = exchange.alerts_raw("first-bank")
    assert str(exchange.hidden["id"]).encode() not in served and b"absent.example" not in served
    assert b"hidden-c2.example" not in served
    # One alert each, alike: a summary naming only the node, for the hidden indicator as for no indicator.
    summaries = orjson.loads(served)["objects"]
    assert [(r["labels"][1], r["object_refs"]) for r in summaries] == [
        ("level-2", [exchange.node.identity])
    ] * 2


def test_urls_e_mail_and_ipv4_values_and_a_plain_malware_sighting(exchange: Exchange) -> None:
    scos = (
        sco("url", value="https://Evil.example/Path"),
        sco("email-addr", value="Spy@Evil.EXAMPLE"),
        sco("ipv4-addr", value="198.51.100.7"),
    )
    assert post_values(exchange, "first-bank", *scos).status_code == 202
    target = malware()
    assert exchange.sight("first-bank", str(target["id"])).status_code == 202  # no values: as before
    assert tokens(exchange) == sorted(
        [
            "url:https://Evil.example/Path",
            "email-addr:spy@evil.example",
            "ipv4-addr:198.51.100.7",
            str(target["id"]),
        ]
    )


def test_each_value_is_one_report_for_the_rate_limit(exchange: Exchange) -> None:
    exchange.node.warning_config = WarningConfig(sighting_rate_limit=3)
    with exchange.node.db.write() as conn:  # one value named by two indicators, one hidden: one report
        add_objects(conn, exchange.intel.id, [indicator("twice.example")], None)
        add_objects(conn, exchange.secret.id, [indicator("twice.example")], None)
    names = ("twice.example", "once.example", "never.example")
    assert post_values(exchange, "first-bank", *(domain(n) for n in names)).status_code == 202
    r = post_values(exchange, "first-bank", domain("x.example"))
    assert r.status_code == 429 and "(3 in the last minute, 1 more offered)" in r.json()["description"]
    # Four values in one sighting are four reports: over the limit at once for a fresh partner.
    r = post_values(exchange, "grid-energy", *(domain(f"v{i}.example") for i in range(4)))
    assert r.status_code == 429 and "4 more offered" in r.json()["description"]
    assert count(exchange, sightings) == 4  # two rows for the value both indicators name


def test_a_sighting_posted_again_adds_no_value_reports(exchange: Exchange) -> None:
    seen_dom = domain("again.example")
    seen = observed(seen_dom)
    posted = value_sighting(str(exchange.domains[DOMAIN]), seen)
    for _ in range(2):
        assert exchange.post("first-bank", exchange.intel.id, seen_dom, seen, posted).status_code == 202
    assert count(exchange, sightings) == 2
