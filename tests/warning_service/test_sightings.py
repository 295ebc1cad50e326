"""Sightings in, over TAXII and the CLI (issue 7): attribution, matching by value, false positives, no
existence leak for hidden or unknown indicators, clock skew, rate limits, and whole-file-or-nothing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners.service import require_partner
from gesher.store.collections import ALERTS_ID
from gesher.store.tables import alerts, sightings
from gesher.warning_service import sightings as service
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.sightings import TooManyRequests
from tests.factories import indicator
from tests.warning_service.exchange import Exchange, sighting

DOMAIN = "weather4free.com"


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def count(exchange: Exchange, table: object) -> int:
    with exchange.node.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def cli(exchange: Exchange, *args: str, ok: bool = True, **env: str) -> str:
    settings = exchange.node.settings
    base = ["--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url()]
    result = CliRunner().invoke(app, [*base, *args], env=env)
    assert (result.exit_code == 0) == ok, result.output
    return result.output


def test_a_sighting_is_attributed_to_its_partner_with_sector_and_country(exchange: Exchange) -> None:
    exchange.sight("grid-energy", exchange.domains[DOMAIN])
    with exchange.node.db.read() as conn:
        (row,) = conn.execute(select(sightings)).all()
    assert (row.partner_id, row.sector, row.country, row.critical) == (
        exchange.partner_ids["grid-energy"],
        "energy",
        "IL",
        True,
    )
    assert (row.token, row.type, row.source) == (exchange.domains[DOMAIN], 0, "taxii")


def _normalised(body: bytes) -> bytes:
    """A status resource without what differs between any two requests (ids, timestamps)."""
    text = re.sub(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", b"ID", body)
    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", b"TIME", text)


def test_a_sighting_of_a_hidden_indicator_is_answered_as_one_of_an_unknown_one(exchange: Exchange) -> None:
    hidden = exchange.sight("first-bank", str(exchange.hidden["id"]))
    unknown = exchange.sight("first-bank", f"indicator--{uuid.uuid4()}")
    assert hidden.status_code == unknown.status_code == 202
    assert _normalised(hidden.content) == _normalised(unknown.content)
    # Both are correlated alike, and neither kind of alert names the indicator to one who may not see it.
    exchange.sight("ministry-of-health", str(exchange.hidden["id"]))
    served = exchange.alerts_raw("first-bank")
    assert str(exchange.hidden["id"]).encode() not in served
    assert [r["object_refs"] for r in orjson.loads(served)["objects"]] == [[exchange.node.identity]]


def test_a_value_sighting_counts_for_the_indicators_naming_it(exchange: Exchange) -> None:
    cli(exchange, "sighting", "add", "WEATHER4FREE.COM.", "--partner", "first-bank")
    assert exchange.sight("ministry-of-health", exchange.domains[DOMAIN]).status_code == 202
    with exchange.node.db.read() as conn:
        tokens = [t for (t,) in conn.execute(select(sightings.c.token))]
        levels = [lv for (lv,) in conn.execute(select(alerts.c.level))]
    assert tokens == [exchange.domains[DOMAIN]] * 2 and levels == [2]
    listed = orjson.loads(cli(exchange, "alerts", "--json"))
    assert [(a["level"], a["organisations"]) for a in listed] == [(2, 2)]


def test_unmatched_values_correlate_across_partners_without_naming_them(exchange: Exchange) -> None:
    for who in ("first-bank", "ministry-of-health"):
        cli(exchange, "sighting", "add", "198.51.100.7", "--partner", who)
    served = exchange.alerts_raw("observer-cert")
    assert b"198.51.100.7" not in served
    assert [r["object_refs"] for r in orjson.loads(served)["objects"]] == [[exchange.node.identity]]


def test_a_standing_false_positive_suppresses_a_two_partner_alert(exchange: Exchange) -> None:
    target = exchange.domains[DOMAIN]
    cli(exchange, "sighting", "add", DOMAIN, "--partner", "observer-cert", "--type", "false-positive")
    exchange.sight("first-bank", target)
    exchange.sight("ministry-of-health", target)
    assert exchange.alerts("observer-cert") == []
    exchange.sight("grid-energy", target)  # a third partner outweighs one false positive
    assert [r["labels"][1] for r in exchange.alerts("observer-cert")] == ["level-3", "level-3"]


def test_future_times_are_refused_and_nothing_is_stored(exchange: Exchange) -> None:
    r = exchange.sight("first-bank", exchange.domains[DOMAIN], when="2099-01-01T00:00:00.000Z")
    assert r.status_code == 400 and "in the future" in r.json()["description"]
    assert count(exchange, sightings) == 0
    out = cli(
        exchange,
        "sighting",
        "add",
        DOMAIN,
        "--partner",
        "first-bank",
        "--time",
        "2099-01-01T00:00:00Z",
        ok=False,
    )
    assert "in the future" in out
    assert count(exchange, sightings) == 0


def test_an_unknown_sighting_type_is_400(exchange: Exchange) -> None:
    r = exchange.sight("first-bank", exchange.domains[DOMAIN], x_gesher_sighting_type="maybe")
    assert r.status_code == 400 and count(exchange, sightings) == 0


def test_floods_are_rate_limited(exchange: Exchange) -> None:
    exchange.node.warning_config = WarningConfig(sighting_rate_limit=3)  # the app serves this node
    target = exchange.domains[DOMAIN]
    assert [exchange.sight("first-bank", target).status_code for _ in range(4)] == [202, 202, 202, 429]
    r = exchange.sight("first-bank", target)
    assert r.status_code == 429 and "rate limit" in r.json()["description"]
    assert exchange.sight("ministry-of-health", target).status_code == 202  # per partner
    assert count(exchange, sightings) == 4


def report_values(exchange: Exchange, who: str, *values: str) -> None:
    """`who` reports each value in its own request, as `gesher sighting add` does."""
    for value in values:
        now = datetime.now(tz=UTC)
        with exchange.node.db.write() as conn:
            partner = require_partner(conn, who)
            report = service.value_report(value, now)
            node = exchange.node
            service.record(conn, partner, [report], now, node.warning_config, node.identity, "cli")


def test_an_observation_file_is_loaded_whole_or_not_at_all(exchange: Exchange, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("value,time\nweather4free.com,2026-01-01T00:00:00Z\nnot a value,yesterday\n")
    out = cli(exchange, "sighting", "load", str(bad), "--partner", "first-bank", ok=False)
    assert "line 3" in out and count(exchange, sightings) == 0
    good = tmp_path / "good.jsonl"
    good.write_text(
        '{"value": "weather4free.com", "time": 1767225600}\n{"value": "smscentro.com", "time": 1767225600}\n'
        '{"value": "benign.example", "time": 1767225600}\n'
    )
    out = cli(exchange, "sighting", "load", str(good), "--partner", "first-bank")
    assert "2 matching observation(s) in 1 file(s); 2 sighting(s) recorded" in out
    assert count(exchange, sightings) == 2  # the benign value is not kept


def test_the_alerts_collection_is_read_only_for_partners(exchange: Exchange) -> None:
    r = exchange.post("first-bank", ALERTS_ID, {"type": "x"})
    assert r.status_code == 403


def test_a_sighting_posted_again_is_not_a_new_report(exchange: Exchange) -> None:
    once = sighting(exchange.domains[DOMAIN])
    for _ in range(2):
        assert exchange.post("first-bank", exchange.intel.id, once).status_code == 202
    assert count(exchange, sightings) == 1


def test_the_rate_limit_counts_reports_not_the_indicators_they_name(exchange: Exchange) -> None:
    exchange.node.warning_config = WarningConfig(sighting_rate_limit=3)
    with exchange.node.db.write() as conn:  # two indicators, one of them hidden, name the same value
        add_objects(conn, exchange.intel.id, [indicator("twice.example")], None)
        add_objects(conn, exchange.secret.id, [indicator("twice.example")], None)
    report_values(exchange, "first-bank", "twice.example", "once.example", "never.example")
    with pytest.raises(TooManyRequests, match=r"\(3 in the last minute"):
        report_values(exchange, "first-bank", "x.example")
    assert count(exchange, sightings) == 4  # two rows for the value both indicators name


def test_stix_timestamps_with_many_fractional_digits_are_read(exchange: Exchange) -> None:
    long_time = "2026-01-01T00:00:00." + "1" * 40 + "Z"
    assert exchange.sight("first-bank", exchange.domains[DOMAIN], when=long_time).status_code == 202
    with exchange.node.db.read() as conn:
        assert conn.execute(select(sightings.c.seen_at)).scalar_one() == 1_767_225_600_111_111
