"""The indicator index (issue 7), built off ingest's hot path: an indicator names the values its equality
pattern names; lookups see indicators not indexed yet; held means stored now; other objects cost
nothing; lookups are by token, in chunks; the builder resumes from its per-collection cursors."""

from __future__ import annotations

from sqlalchemy import func, select

from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.store.tables import indicator_keys as keys_table
from gesher.store.tables import objects
from gesher.warning_service import indicator_keys
from gesher.warning_service.indicator_keys import pairs_of
from tests.factories import indicator, malware


def test_pairs_of_an_equality_pattern_name_its_normal_values() -> None:
    ind = indicator(pattern="[domain-name:value = 'Evil.Example.'] OR [ipv4-addr:value = '198.51.100.7']")
    assert pairs_of(ind) == [("domain-name:evil.example", ind["id"]), ("ipv4-addr:198.51.100.7", ind["id"])]


def test_patterns_that_need_evaluation_and_other_languages_name_no_value() -> None:
    assert pairs_of(indicator(pattern="[domain-name:value LIKE '%.evil.example']")) == []
    assert pairs_of(indicator(pattern="title: x", pattern_type="sigma")) == []


def test_ingest_writes_nothing_and_lookups_see_what_is_not_indexed_yet(node: Node) -> None:
    first = indicator("c2.example")
    newer = dict(first, modified="2025-01-01T00:00:00.000Z")
    many = [f"domain-name:v{i}.example" for i in range(12_000)]  # more than one statement's parameters
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        add_objects(conn, intel.id, [first, malware()], None)
        add_objects(conn, intel.id, [newer], None)  # a new version naming the same value
        assert conn.execute(select(func.count()).select_from(keys_table)).scalar_one() == 0
        wanted = ["domain-name:c2.example", str(first["id"]), *many]
        before = indicator_keys.indicators_for(conn, wanted)
        assert indicator_keys.catch_up(conn) == 2  # both versions read once
        assert indicator_keys.catch_up(conn) == 0  # the cursor moved past them
        after = indicator_keys.indicators_for(conn, wanted)
    expected = {"domain-name:c2.example": [first["id"]], first["id"]: [first["id"]]}
    assert before == after == expected


def test_the_builder_resumes_from_its_cursor_in_bounded_steps(node: Node) -> None:
    batch = [indicator(f"d{i}.example") for i in range(25)]
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        other = create_collection(conn, "other", "other")
        add_objects(conn, intel.id, batch[:20], None)
        add_objects(conn, other.id, batch[20:], None)
        steps = [indicator_keys.catch_up(conn, limit=10) for _ in range(4)]
        stored = conn.execute(select(func.count()).select_from(keys_table)).scalar_one()
    assert steps == [10, 10, 5, 0]
    assert stored == 25


def test_a_deleted_indicator_is_no_longer_named_even_when_indexed(node: Node) -> None:
    gone = indicator("gone.example")
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        add_objects(conn, intel.id, [gone], None)
        indicator_keys.catch_up(conn)
        conn.execute(objects.delete().where(objects.c.object_id == gone["id"]))  # as TAXII DELETE does
        assert indicator_keys.indicators_for(conn, ["domain-name:gone.example", str(gone["id"])]) == {}
