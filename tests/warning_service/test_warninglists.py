"""Warninglists suppress alerts on values everyone sees (issue 7, "Alert rules")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from gesher.errors import ConfigurationError
from gesher.exchange.node import Node
from gesher.store.tables import alerts, sightings
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.warninglists import listed
from tests.warning_service.exchange import Exchange
from tests.warning_service.test_sightings import report_values


def test_plain_and_misp_lists_hold_normal_values(tmp_path: Path) -> None:
    plain = tmp_path / "popular.txt"
    plain.write_text("# popular domains\nGoogle.COM.\n8.8.8.8\n10.0.0.0/8\n")
    misp = tmp_path / "list.json"
    misp.write_text(json.dumps({"name": "resolvers", "type": "string", "list": ["1.1.1.1", "Example.ORG"]}))
    paths = [plain, misp]
    assert listed(paths, "domain-name:google.com") and listed(paths, "ipv4-addr:8.8.8.8")
    assert listed(paths, "ipv4-addr:1.1.1.1") and listed(paths, "domain-name:example.org")
    assert not listed(paths, "domain-name:evil.example")
    with pytest.raises(ConfigurationError):
        listed([tmp_path / "missing.txt"], "domain-name:google.com")


def test_a_listed_value_raises_no_alert_but_its_sightings_are_kept(
    node: Node, client: TestClient, tmp_path: Path
) -> None:
    exchange = Exchange(node, client)
    popular = tmp_path / "popular.txt"
    popular.write_text("google.com\n")
    exchange.node.warning_config = WarningConfig(warninglists=(popular,))
    for who in ("first-bank", "ministry-of-health", "grid-energy"):
        report_values(exchange, who, "google.com", "evil-c2.example")
    with node.db.read() as conn:
        tokens = [t for (t,) in conn.execute(select(alerts.c.token).distinct())]
        stored = conn.execute(select(func.count()).select_from(sightings)).scalar_one()
    assert tokens == ["domain-name:evil-c2.example"] and stored == 6
