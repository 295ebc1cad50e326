"""Observed values against stored indicators whose patterns are not simple equalities (issue 7,
"Correlation": other patterns evaluated properly), on both stores: LIKE, MATCHES, ISSUBSET, comparisons
and AND/OR match the right values and no others; a worker sees an indicator stored by another at its next
sighting; a rolled-back ingest leaves nothing behind; hidden is still answered as absent; and the result
agrees with evaluating every stored pattern naively."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners.service import require_partner
from gesher.store.tables import indicator_patterns
from gesher.store.tables import sightings as sightings_table
from gesher.warning.indicators import PatternEvaluator
from gesher.warning.observations import Observation
from gesher.warning.values import ValueType
from gesher.warning_service import indicator_keys, pattern_index
from gesher.warning_service import sightings as service
from gesher.warning_service.sightings import Report, value_report
from tests.factories import indicator
from tests.warning_service.exchange import Exchange

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# pattern -> (values it matches, values it does not)
CASES: dict[str, tuple[list[str], list[str]]] = {
    "[domain-name:value LIKE '%.evil.example']": (
        ["a.evil.example", "x.y.evil.example"],
        ["evil.example", "a.evil.example.com", "a.good.example"],
    ),
    "[url:value MATCHES '^https?://[^/]*\\\\.bad\\\\.example/']": (
        ["http://x.bad.example/p", "https://a.b.bad.example/"],
        ["http://bad.example.com/", "ftp://x.bad.example/"],
    ),
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']": (
        ["198.51.100.7", "198.51.100.255"],
        ["198.51.101.7", "203.0.113.1"],
    ),
    "[email-addr:value > 'm']": (["x@a.example", "mallory@b.example"], ["alice@b.example"]),
    "[domain-name:value LIKE '%.c2.example' AND domain-name:value != 'www.c2.example']": (
        ["a.c2.example"],
        ["www.c2.example", "c2.example"],
    ),
    "[ipv4-addr:value ISSUBSET '10.0.0.0/8'] OR [domain-name:value LIKE 'mail.%']": (
        ["10.1.2.3", "mail.example.org"],
        ["11.1.2.3", "webmail.example.org"],
    ),
    "[file:hashes.'SHA-256' != '%s']" % ("f" * 64): (
        ["sha-256:" + "e" * 64],
        ["sha-256:" + "f" * 64, "md5:" + "e" * 32],
    ),
    # An equality names its value: indicator_keys matches it, not the pattern index.
    "[domain-name:value = 'plain.example']": ([], ["plain.example"]),
}


def _token(value: str) -> str:
    return value if value.startswith(("sha-256:", "md5:")) else value_report(value, NOW).subject


def _report(value: str, when: datetime = NOW) -> Report:
    return Report(_token(value), when)


def _store(node: Node, collection_id: str, *patterns: str) -> dict[str, str]:
    """pattern -> id of a new indicator with that pattern, stored in one transaction."""
    objects = {p: indicator(pattern=p) for p in patterns}
    with node.db.write() as conn:
        assert not add_objects(conn, collection_id, list(objects.values()), None).failures
    return {p: str(obj["id"]) for p, obj in objects.items()}


def _matching(node: Node, *values: str) -> dict[str, list[str]]:
    with node.db.write() as conn:
        return pattern_index.matching(conn, [_report(v) for v in values])


@pytest.fixture
def intel(node: Node) -> str:
    with node.db.write() as conn:
        return create_collection(conn, "test", "intel").id


def test_each_kind_of_pattern_matches_its_values_and_no_others(node: Node, intel: str) -> None:
    ids = _store(node, intel, *CASES)
    values = [v for yes, no in CASES.values() for v in yes + no]
    found = _matching(node, *values)  # read directly: the index's builder has not run yet
    with node.db.write() as conn:  # only the patterns that are not equalities are kept for evaluation
        indicator_keys.catch_up(conn)
        kept = {p for (p,) in conn.execute(select(indicator_patterns.c.pattern))}
    assert kept == {p for p in CASES if p != "[domain-name:value = 'plain.example']"}
    assert _matching(node, *values) == found  # from the index now, the same
    for pattern, (yes, no) in CASES.items():
        for value in yes:
            assert ids[pattern] in found.get(_token(value), []), (pattern, value)
        for value in no:
            assert ids[pattern] not in found.get(_token(value), []), (pattern, value)


def test_a_comparison_the_matcher_cannot_make_matches_nothing_and_fails_nothing(
    node: Node, intel: str
) -> None:
    # stix2-matcher 2.0 implements ISSUBSET for IPv4 only: on an IPv6 address it raises.
    _store(node, intel, "[ipv6-addr:value ISSUBSET '2001:db8::/32']")
    assert _matching(node, "2001:db8::1") == {}


def test_an_indicator_id_is_not_evaluated(node: Node, intel: str) -> None:
    _store(node, intel, "[domain-name:value LIKE '%']")
    with node.db.write() as conn:
        found = pattern_index.matching(conn, [Report(f"indicator--{uuid.uuid4()}", NOW, is_indicator=True)])
    assert found == {}


def test_a_worker_sees_an_indicator_another_stored_at_its_next_sighting(node: Node, intel: str) -> None:
    assert _matching(node, "a.late.example") == {}  # this worker's cache is warm and empty
    other = Node.init(node.settings)  # another worker: its own engine, its own cache
    try:
        ids = _store(other, intel, "[domain-name:value LIKE '%.late.example']")
        assert _matching(node, "a.late.example") == {_token("a.late.example"): list(ids.values())}
        assert _matching(other, "a.late.example") == _matching(node, "a.late.example")
    finally:
        other.db.dispose()


def test_an_indicator_posted_with_its_sighting_matches_and_a_rollback_leaves_nothing(
    node: Node, intel: str
) -> None:
    pattern = "[domain-name:value LIKE '%.gone.example']"
    with pytest.raises(RuntimeError), node.db.write() as conn:
        obj = indicator(pattern=pattern)
        add_objects(conn, intel, [obj], None)
        found = pattern_index.matching(conn, [_report("a.gone.example")])
        assert found == {_token("a.gone.example"): [obj["id"]]}  # seen in its own transaction
        raise RuntimeError("the request fails after all")
    assert _matching(node, "a.gone.example") == {}
    # The date_added values the rolled-back ingest used are handed out again: the cursor did not move.
    ids = _store(node, intel, "[domain-name:value LIKE '%.back.example']")
    assert _matching(node, "a.back.example") == {_token("a.back.example"): list(ids.values())}


def test_timed_patterns_are_evaluated_at_each_report_time(node: Node, intel: str) -> None:
    pattern = (
        "[domain-name:value LIKE '%.window.example'] "
        "START t'2026-01-01T00:00:00Z' STOP t'2026-02-01T00:00:00Z'"
    )
    ids = _store(node, intel, pattern)
    inside, outside = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    token = _token("a.window.example")
    with node.db.write() as conn:
        assert pattern_index.matching(conn, [Report(token, outside)]) == {}
        found = pattern_index.matching(conn, [Report(token, outside), Report(token, inside)])
    assert found == {token: list(ids.values())}


def test_a_value_sighting_counts_for_the_pattern_indicators_it_matches(node: Node, intel: str) -> None:
    from gesher.partners import service as partners

    ids = _store(node, intel, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']")
    with node.db.write() as conn:
        partners.create_partner(conn, "test", "bank-a", "IL", "government")
    for value in ("198.51.100.9", "203.0.113.9"):
        with node.db.write() as conn:
            reporter = require_partner(conn, "bank-a")
            report = value_report(value, NOW)
            config = node.warning_config
            service.record(conn, reporter, [report], NOW, config, node.identity, "cli")
    with node.db.read() as conn:
        tokens = [t for (t,) in conn.execute(select(sightings_table.c.token).order_by(sightings_table.c.id))]
    assert tokens == [*ids.values(), "ipv4-addr:203.0.113.9"]


# -- hidden is absent ---------------------------------------------------------------------------------------


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def _report_values(exchange: Exchange, who: str, value: str) -> None:
    now = datetime.now(tz=UTC)
    with exchange.node.db.write() as conn:
        partner = require_partner(conn, who)
        report = value_report(value, now)
        node = exchange.node
        service.record(conn, partner, [report], now, node.warning_config, node.identity, "cli")


def _shape(report: dict[str, Any]) -> dict[str, Any]:
    """A served alert summary without what differs between any two alerts (ids, times)."""
    text = re.sub(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", orjson.dumps(report).decode()
    )
    return dict(orjson.loads(re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "TIME", text)))


def test_a_value_matching_a_hidden_pattern_indicator_is_answered_as_one_matching_nothing(
    exchange: Exchange,
) -> None:
    hidden = indicator(pattern="[domain-name:value LIKE '%.hidden-c2.example']")
    with exchange.node.db.write() as conn:
        assert not add_objects(conn, exchange.secret.id, [hidden], None).failures
    for who in ("first-bank", "ministry-of-health"):
        _report_values(exchange, who, "a.hidden-c2.example")
    held_alerts = exchange.alerts("first-bank")
    for who in ("first-bank", "ministry-of-health"):
        _report_values(exchange, who, "a.nothing.example")
    served = exchange.alerts_raw("first-bank")
    assert str(hidden["id"]).encode() not in served and b"hidden-c2" not in served
    reports = orjson.loads(served)["objects"]
    assert len(held_alerts) == 1 and len(reports) == 2
    assert [r["object_refs"] for r in reports] == [[exchange.node.identity]] * 2
    assert _shape(reports[0]) == _shape(reports[1])
    with exchange.node.db.read() as conn:  # the value did count for the hidden indicator
        tokens = {t for (t,) in conn.execute(select(sightings_table.c.token))}
    assert str(hidden["id"]) in tokens


# -- agreement with naive evaluation ------------------------------------------------------------------------

LABELS = st.sampled_from(["evil", "c2", "mail", "a", "b", "cdn"])
DOMAINS = st.lists(LABELS, min_size=1, max_size=3).map(lambda parts: ".".join(parts) + ".example")
ADDRESSES = st.tuples(*[st.sampled_from([10, 198, 51, 100, 7])] * 4).map(lambda t: ".".join(map(str, t)))
VALUES = st.one_of(DOMAINS, ADDRESSES)
PATTERNS = st.one_of(
    DOMAINS.map(lambda d: f"[domain-name:value = '{d}']"),
    DOMAINS.map(lambda d: f"[domain-name:value LIKE '%{d.split('.', 1)[1]}']"),
    LABELS.map(lambda label: f"[domain-name:value MATCHES '^{label}\\\\.']"),
    DOMAINS.map(lambda d: f"[domain-name:value > '{d}']"),
    ADDRESSES.map(lambda a: f"[ipv4-addr:value = '{a}']"),
    st.sampled_from([8, 16, 24, 32]).flatmap(
        lambda bits: ADDRESSES.map(lambda a: f"[ipv4-addr:value ISSUBSET '{_network(a, bits)}']")
    ),
    st.tuples(DOMAINS, ADDRESSES).map(
        lambda t: f"[domain-name:value != '{t[0]}'] OR [ipv4-addr:value = '{t[1]}']"
    ),
)


def _network(address: str, bits: int) -> str:
    import ipaddress

    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def _naive(patterns: dict[str, str], value: str) -> set[str]:
    """Every stored pattern evaluated on the value by the OASIS matcher (equalities too)."""
    kind = ValueType.IPV4 if value[0].isdigit() else ValueType.DOMAIN
    observation = Observation(value, kind, NOW)
    return {i for i, p in patterns.items() if PatternEvaluator(p).matches(observation)}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(new=st.lists(PATTERNS, min_size=1, max_size=6), values=st.lists(VALUES, min_size=1, max_size=6))
def test_matching_agrees_with_evaluating_every_pattern(
    node: Node, intel: str, new: list[str], values: list[str]
) -> None:
    stored = _stored_patterns(node)
    stored.update({i: p for p, i in _store(node, intel, *dict.fromkeys(new)).items()})
    with node.db.write() as conn:
        reports = [_report(v) for v in values]
        held = indicator_keys.indicators_for(conn, [r.subject for r in reports])
        found = pattern_index.with_matches(conn, held, reports)
    for value in values:
        assert set(found.get(_token(value), [])) == _naive(stored, value), value


def _stored_patterns(node: Node) -> dict[str, str]:
    from gesher.store.tables import objects

    with node.db.read() as conn:
        bodies = [
            orjson.loads(b)
            for (b,) in conn.execute(select(objects.c.body).where(objects.c.type == "indicator"))
        ]
    return {str(b["id"]): str(b["pattern"]) for b in bodies}
