"""Ingest semantics on both stores: every version kept, idempotent, flags right, date_added exact."""

from __future__ import annotations

import threading

import orjson
from sqlalchemy import select

from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound
from gesher.policy.principal import Principal
from gesher.store.tables import collections, objects
from gesher.taxii.query import TaxiiQuery, Versions
from tests.conftest import World
from tests.factories import domain, indicator, malware

ADMIN = Principal(partner_id=0, name="op", country="GB", kind="government", is_admin=True)


def _ingest(node: Node, collection_id: str, objs: list[object]) -> object:
    with node.db.write() as conn:
        return add_objects(conn, collection_id, objs, None)


def _rows(node: Node, collection_id: str) -> list[dict[str, object]]:
    with node.db.read() as conn:
        key = select(collections.c.key).where(collections.c.id == collection_id).scalar_subquery()
        stmt = select(objects).where(objects.c.collection_key == key).order_by(objects.c.date_added)
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _served(node: Node, collection_id: str, q: TaxiiQuery) -> list[dict[str, object]]:
    with node.db.read() as conn:
        page = Outbound(conn, ADMIN).objects(collection_id, q, None, 10_000)
    return [orjson.loads(bytes(body)) for _, body, *_ in page.rows]


def test_reingesting_changes_nothing(world: World) -> None:
    objs = [indicator(f"d{i}.example") for i in range(50)] + [malware(), domain()]
    first = _ingest(world.node, world.intel.id, objs)
    before = _rows(world.node, world.intel.id)
    again = _ingest(world.node, world.intel.id, objs)
    assert first.stored_count == 52 and again.stored_count == 0 and again.success_count == 52
    assert _rows(world.node, world.intel.id) == before


def test_every_version_is_kept_and_latest_follows_modified_not_arrival(world: World) -> None:
    v1 = indicator(modified="2024-01-01T00:00:00.000Z")
    v3 = dict(v1, modified="2024-03-01T00:00:00.000Z")
    v2 = dict(v1, modified="2024-02-01T00:00:00.000Z")
    for version in (v1, v3, v2):  # v2 arrives last but is not the latest
        _ingest(world.node, world.intel.id, [version])
    assert _served(world.node, world.intel.id, TaxiiQuery()) == [v3]
    assert _served(world.node, world.intel.id, TaxiiQuery(versions=Versions(latest=False, first=True))) == [
        v1
    ]
    every = _served(world.node, world.intel.id, TaxiiQuery(versions=Versions(every=True)))
    assert every == [v1, v3, v2]  # in date_added order


def test_equal_timestamps_with_different_precision_are_one_version(world: World) -> None:
    v = indicator(modified="2024-01-01T00:00:00.000Z", created="2024-01-01T00:00:00.000Z")
    same = dict(v, modified="2024-01-01T00:00:00.000000Z")
    _ingest(world.node, world.intel.id, [v])
    result = _ingest(world.node, world.intel.id, [same])
    assert result.stored_count == 0 and len(result.failures) == 1
    assert "different object" in result.failures[0]["message"]


def test_a_different_object_under_an_existing_id_and_version_is_refused(world: World) -> None:
    v = indicator("a.example")
    _ingest(world.node, world.intel.id, [v])
    result = _ingest(world.node, world.intel.id, [dict(v, name="changed")])
    assert result.failures[0]["id"] == v["id"]
    assert _served(world.node, world.intel.id, TaxiiQuery()) == [v]


def test_duplicates_inside_one_batch_are_stored_once(world: World) -> None:
    v = indicator()
    result = _ingest(world.node, world.intel.id, [v, v, domain(), domain()])
    assert result.stored_count == 2 and result.success_count == 4


def test_unversioned_cyber_observables_are_kept_once(world: World) -> None:
    _ingest(world.node, world.intel.id, [domain("x.example")])
    _ingest(world.node, world.intel.id, [domain("x.example")])
    rows = _rows(world.node, world.intel.id)
    assert len(rows) == 1 and rows[0]["is_latest"] and rows[0]["is_first"]


def test_invalid_objects_are_reported_and_valid_siblings_stored(world: World) -> None:
    good = indicator()
    bad = indicator(pattern="[domain-name:value = 'unterminated]")
    result = _ingest(world.node, world.intel.id, [good, bad, {"type": "indicator"}, "not an object"])
    assert result.stored_count == 1 and len(result.failures) == 3
    assert result.failures[0]["id"] == bad["id"]


def test_date_added_is_unique_and_increasing_in_commit_order(world: World) -> None:
    for _ in range(3):
        _ingest(world.node, world.intel.id, [indicator() for _ in range(20)])
    added = [r["date_added"] for r in _rows(world.node, world.intel.id)]
    assert added == sorted(added) and len(set(added)) == 60


def test_paging_while_writers_add_neither_skips_nor_duplicates(world: World) -> None:
    """A reader pages with a cursor while two writers keep committing: every object committed before the
    reader reaches the end is seen exactly once."""
    _ingest(world.node, world.intel.id, [indicator() for _ in range(200)])
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            _ingest(world.node, world.intel.id, [indicator() for _ in range(5)])

    writers = [threading.Thread(target=write) for _ in range(2)]
    for w in writers:
        w.start()
    seen: list[str] = []
    after = None
    try:
        for _ in range(400):
            with world.node.db.read() as conn:
                page = Outbound(conn, ADMIN).objects(world.intel.id, TaxiiQuery(), after, 7)
            seen += [orjson.loads(bytes(body))["id"] for _, body, *_ in page.rows]
            after = page.last_added or after
            if not page.more and len(seen) > 300:
                break
    finally:
        stop.set()
        for w in writers:
            w.join()
    stored = [orjson.loads(r["body"])["id"] for r in _rows(world.node, world.intel.id)]
    assert len(seen) == len(set(seen))
    assert seen == stored[: len(seen)]


def test_a_failure_without_an_id_names_the_objects_place(world: World) -> None:
    objs = [indicator() for _ in range(1001)] + [{"type": "indicator"}, indicator(id="not-an-id")]
    result = _ingest(world.node, world.intel.id, objs)
    assert result.failures[0]["message"].startswith("objects[1001]: ")
    assert result.failures[1]["id"] == "not-an-id"  # an id, even a malformed one, identifies it better


def test_postgresql_statistics_follow_a_growing_store(world: World, db_kind: str) -> None:
    """Without fresh statistics PostgreSQL scans the table for ingest's id lookups; SQLite needs none."""
    _ingest(world.node, world.intel.id, [indicator() for _ in range(1500)])
    with world.node.db.read() as conn:
        if db_kind == "postgresql":
            estimate = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE relname = 'stix_objects'"
            ).scalar()
            assert estimate is not None and estimate >= 1000
        else:
            stats = conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'").first()
            assert stats is None
