"""Indicator decay in the service (issue 7; reference 4.4), when turned on: an indicator that had decayed
by the time a spell of sightings began raises no alert; a fresh one does. Inputs are read from the newest
stored version."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.store.tables import alerts
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.indicator_keys import decay_inputs, decay_row
from tests.factories import indicator
from tests.warning_service.exchange import Exchange


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_decay_inputs_follow_type_labels_confidence_and_modified() -> None:
    phishing = indicator("lure.example", labels=["phishing"], confidence=60)
    hashed = indicator(pattern="[file:hashes.'SHA-256' = '" + "ab" * 32 + "']")
    assert (decay_row(phishing)["model"], decay_row(phishing)["base_score"]) == ("phishing-model", 60.0)
    assert (decay_row(hashed)["model"], decay_row(hashed)["base_score"]) == ("long-lived-hash-model", 80.0)
    assert decay_row(indicator("c2.example"))["reset_at"] == 1_704_067_200_000_000  # T0, 2024-01-01


def test_the_newest_stored_version_gives_the_decay_inputs_whatever_the_order_of_arrival(node: Node) -> None:
    first = indicator("c2.example")
    newer = dict(first, modified="2025-06-01T00:00:00.000Z")
    with node.db.write() as conn:
        intel = create_collection(conn, "test", "intel")
        add_objects(conn, intel.id, [newer], None)
        add_objects(conn, intel.id, [first], None)  # older, arriving later: does not reset the clock
        assert decay_inputs(conn, str(first["id"])) == ("nids-simple-model", 80.0, 1_748_736_000_000_000)
        assert decay_inputs(conn, "indicator--00000000-0000-4000-8000-000000000000") is None


def test_with_decay_on_a_stale_indicator_raises_no_alert_and_a_fresh_one_does(
    node: Node, client: TestClient
) -> None:
    exchange = Exchange(node, client)
    node.warning_config = WarningConfig(decay=True)
    stale = exchange.domains["weather4free.com"]  # Amnesty's, modified 2024-01: decayed under NIDS-simple
    fresh = indicator("new-c2.example", modified=_stamp(datetime.now(tz=UTC)))
    with node.db.write() as conn:
        assert not add_objects(conn, exchange.intel.id, [fresh], None).failures
    for who in ("first-bank", "ministry-of-health"):
        assert exchange.sight(who, stale).status_code == 202
        assert exchange.sight(who, str(fresh["id"])).status_code == 202
    with node.db.read() as conn:
        raised = [(t, lv) for t, lv in conn.execute(select(alerts.c.token, alerts.c.level))]
    assert raised == [(fresh["id"], 2)]
