"""Property (issue 7, "Tests"): a served alert never references an indicator hidden from its recipient,
whatever collection and marking the indicator has and whoever reports it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.stix import constants as c
from tests.factories import indicator
from tests.warning_service.exchange import PARTNERS, ROOT, Exchange

REPORTERS = ("first-bank", "ministry-of-health", "grid-energy", "observer-cert", "far-ally")


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def _visible(exchange: Exchange, who: str, object_id: str) -> bool:
    url = f"{ROOT}/collections/{exchange.intel.id}/objects/{object_id}/"
    return exchange.client.get(url, headers=exchange.headers(who)).status_code == 200


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    secret=st.booleans(),
    marking=st.sampled_from([c.TLP2_CLEAR, c.TLP2_GREEN, c.TLP2_AMBER, c.TLP2_RED]),
    reporters=st.lists(st.sampled_from(REPORTERS), min_size=2, max_size=6),
    value=st.uuids(),
)
def test_served_alerts_reference_only_what_the_recipient_may_see(
    exchange: Exchange, secret: bool, marking: str, reporters: list[str], value: object
) -> None:
    target = indicator(f"x{value}.example", object_marking_refs=[marking])
    with exchange.node.db.write() as conn:
        collection = exchange.secret if secret else exchange.intel
        assert not add_objects(conn, collection.id, [target], None).failures
    for who in reporters:
        assert exchange.sight(who, str(target["id"])).status_code in (202, 404)  # far-ally: no intel
    for who in PARTNERS:
        for report in exchange.alerts(who):
            for ref in report["object_refs"]:
                assert ref == exchange.node.identity or _visible(exchange, who, ref), (who, ref)
