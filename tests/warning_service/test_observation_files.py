"""Observation files in bulk (issue 7): the DuckDB engine matches them against indicator values and
recent sightings; only matches become sightings (folded per value), unmatched values are not kept, a
malformed file is refused whole, and two partners' files raise an alert like two TAXII sightings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gesher.exchange.node import Node
from gesher.partners.service import require_partner
from gesher.store.tables import sightings
from gesher.warning.errors import ObservationError
from gesher.warning.observations import Format
from gesher.warning_service import observation_files
from gesher.warning_service import sightings as service
from tests.warning_service.exchange import Exchange

NOW = datetime.now(tz=UTC).replace(microsecond=0)


@pytest.fixture
def exchange(node: Node, client: TestClient) -> Iterator[Exchange]:
    yield Exchange(node, client)


def _stamp(minutes_ago: int) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load(exchange: Exchange, who: str, path: Path, fmt: Format = Format.CSV) -> observation_files.Loaded:
    node = exchange.node
    with node.db.write() as conn:
        partner = require_partner(conn, who)
        return observation_files.load(conn, partner, [path], fmt, NOW, node.warning_config, node.identity)


def _rows(exchange: Exchange) -> list[tuple[str, int, int, int]]:
    with exchange.node.db.read() as conn:
        stmt = select(sightings.c.token, sightings.c.type, sightings.c.count, sightings.c.seen_at)
        return sorted(tuple(r) for r in conn.execute(stmt.order_by(sightings.c.id)))  # type: ignore[misc]


def test_only_matches_are_kept_folded_per_value_with_the_latest_time(
    exchange: Exchange, tmp_path: Path
) -> None:
    path = tmp_path / "dns.csv"
    path.write_text(
        "time,value,count\n"
        f"{_stamp(30)},WEATHER4FREE.com.,2\n"
        f"{_stamp(10)},weather4free.com,3\n"
        f"{_stamp(20)},benign.example,1\n"
        f"{_stamp(5)},intranet.local,9\n"
    )
    loaded = _load(exchange, "first-bank", path)
    assert (loaded.matched, loaded.reports) == (2, 1)
    indicator = exchange.domains["weather4free.com"]
    latest = int((NOW - timedelta(minutes=10)).timestamp() * 1_000_000)
    assert _rows(exchange) == [(indicator, 0, 5, latest)]  # the value counts for the indicator naming it


def test_a_value_another_partner_sighted_recently_matches_too(exchange: Exchange, tmp_path: Path) -> None:
    node = exchange.node
    with node.db.write() as conn:
        partner = require_partner(conn, "ministry-of-health")
        report = service.value_report("fresh-c2.example", NOW - timedelta(minutes=40))
        service.record(conn, partner, [report], NOW, node.warning_config, node.identity, "cli")
    path = tmp_path / "seen.jsonl"
    path.write_text(f'{{"value": "fresh-c2.example", "time": "{_stamp(3)}"}}\n')
    loaded = _load(exchange, "first-bank", path, Format.JSONL)
    assert loaded.reports == 1
    assert [a.raised.alert.level for a in loaded.outcome.alerts] == [2]  # two sectors within 24 h


def test_a_type_that_differs_does_not_match(exchange: Exchange, tmp_path: Path) -> None:
    path = tmp_path / "typed.csv"
    path.write_text(f"time,value,type\n{_stamp(1)},weather4free.com,url\n")
    assert _load(exchange, "first-bank", path).matched == 0


def test_a_malformed_file_is_refused_whole_and_nothing_is_written(exchange: Exchange, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"time,value\n{_stamp(1)},weather4free.com\nyesterday,smscentro.com\n")
    with pytest.raises(ObservationError) as refused:
        _load(exchange, "first-bank", path)
    assert "line 3" in str(refused.value)
    assert _rows(exchange) == []


def test_two_partners_files_raise_an_alert(exchange: Exchange, tmp_path: Path) -> None:
    for who in ("first-bank", "grid-energy"):
        path = tmp_path / f"{who}.csv"
        path.write_text(f"time,value\n{_stamp(2)},smscentro.com\n")
        loaded = _load(exchange, who, path)
    assert [a.raised.token for a in loaded.outcome.alerts] == [exchange.domains["smscentro.com"]]
