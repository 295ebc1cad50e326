"""The `indicator_keys` hook of ingest (issue 7): every stored indicator names itself and the values its
equality pattern names; other objects cost nothing; lookups are by token, in chunks."""

from __future__ import annotations

from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.warning_service import indicator_keys
from gesher.warning_service.indicator_keys import pairs_of
from tests.factories import indicator, malware


def test_pairs_of_an_equality_pattern_name_the_indicator_and_its_normal_values() -> None:
    ind = indicator(pattern="[domain-name:value = 'Evil.Example.'] OR [ipv4-addr:value = '198.51.100.7']")
    assert pairs_of(ind) == [
        (ind["id"], ind["id"]),
        ("domain-name:evil.example", ind["id"]),
        ("ipv4-addr:198.51.100.7", ind["id"]),
    ]


def test_patterns_that_need_evaluation_and_other_languages_name_only_the_indicator() -> None:
    like = indicator(pattern="[domain-name:value LIKE '%.evil.example']")
    sigma = indicator(pattern="title: x", pattern_type="sigma")
    assert pairs_of(like) == [(like["id"], like["id"])]
    assert pairs_of(sigma) == [(sigma["id"], sigma["id"])]


def test_ingest_keeps_the_keys_of_new_indicators_once(node: Node) -> None:
    first = indicator("c2.example")
    newer = dict(first, modified="2025-01-01T00:00:00.000Z")
    many = [f"domain-name:v{i}.example" for i in range(12_000)]  # more than one statement's parameters
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        add_objects(conn, intel.id, [first, malware()], None)
        add_objects(conn, intel.id, [newer], None)  # a new version naming the same value
        both = indicator("both.example")  # two versions in one batch
        add_objects(conn, intel.id, [both, dict(both, modified="2025-01-01T00:00:00.000Z")], None)
        found = indicator_keys.indicators_for(conn, ["domain-name:c2.example", str(first["id"]), *many])
    assert found == {"domain-name:c2.example": [first["id"]], first["id"]: [first["id"]]}
