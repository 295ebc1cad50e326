"""Correlation is stateless across workers (issue 7): two API workers, each with its own engine on the
same store, take sightings of one indicator, even at the same moment, and raise each level exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gesher.api.app import create_app
from gesher.exchange.node import Node
from gesher.store.tables import alerts
from tests.warning_service.exchange import Exchange, sighting

DOMAIN = "weather4free.com"


@pytest.fixture
def second(node: Node) -> Iterator[TestClient]:
    other = Node.open(node.settings)  # its own engine and connection pool: another worker
    with TestClient(create_app(other.settings, other)) as client:
        yield client
    other.db.dispose()


def levels(exchange: Exchange) -> list[int]:
    with exchange.node.db.read() as conn:
        return sorted(int(lv) for (lv,) in conn.execute(select(alerts.c.level)))


def test_workers_share_the_correlation(node: Node, client: TestClient, second: TestClient) -> None:
    exchange = Exchange(node, client)
    target = exchange.domains[DOMAIN]
    assert exchange.sight("first-bank", target).status_code == 202
    exchange.client = second
    assert exchange.sight("ministry-of-health", target).status_code == 202
    assert levels(exchange) == [2]
    assert exchange.sight("first-bank", target).status_code == 202  # a repeat changes nothing
    assert levels(exchange) == [2]


def test_simultaneous_sightings_raise_each_level_once(
    node: Node, client: TestClient, second: TestClient
) -> None:
    exchange = Exchange(node, client)
    target = exchange.domains[DOMAIN]
    reporters = ["first-bank", "ministry-of-health", "grid-energy", "observer-cert"]

    def post(i: int) -> int:
        who = reporters[i % len(reporters)]
        use = client if i % 2 else second
        url = f"/taxii2/gesher/collections/{exchange.intel.id}/objects/"
        headers = exchange.headers(who, **{"Content-Type": "application/taxii+json;version=2.1"})
        r = use.post(url, headers=headers, content=orjson.dumps({"objects": [sighting(target)]}))
        return r.status_code

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(post, range(8))) == {202}
    raised = levels(exchange)  # which lower levels appear depends on the order the sightings land in
    assert raised[-1] == 3 and len(raised) == len(set(raised))
