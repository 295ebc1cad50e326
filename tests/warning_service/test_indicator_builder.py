"""The server's indicator-index builder (issue 7): it waits while ingest is busy, then indexes everything
in bounded transactions, and stops early when ingest starts again."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gesher.api.app import create_app
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.store.tables import indicator_keys
from gesher.warning_service.indicator_builder import IndicatorBuilder
from tests.factories import indicator


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _indexed(node: Node) -> int:
    with node.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(indicator_keys)).scalar_one())


def test_the_builder_waits_for_ingest_to_be_quiet_then_indexes_all_in_steps(node: Node) -> None:
    clock = Clock()
    builder = IndicatorBuilder(node.db, quiet=1.0, step=7, clock=clock)
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        add_objects(conn, intel.id, [indicator(f"d{i}.example") for i in range(20)], None)
    assert builder.step() == 0  # ingest just changed the store: wait
    clock.now += 0.5
    assert builder.step() == 0  # not quiet long enough
    with node.db.write() as conn:
        add_objects(conn, intel.id, [indicator(f"e{i}.example") for i in range(5)], None)
    clock.now += 0.9
    assert builder.step() == 0  # the second burst restarted the wait
    clock.now += 1.0
    assert builder.step() == 25  # 7 + 7 + 7 + 4, one transaction each
    assert _indexed(node) == 25
    clock.now += 5
    assert builder.step() == 0


def test_the_serving_app_builds_the_index_in_the_background(node: Node) -> None:
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        add_objects(conn, intel.id, [indicator(f"bg{i}.example") for i in range(30)], None)
    with TestClient(create_app(node.settings, node)):  # the lifespan starts the background jobs
        deadline = time.monotonic() + 15
        while _indexed(node) < 30 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _indexed(node) == 30
