"""The operator's alert rules file in the node (issue 7, "Alert rules in settings"): a bad file stops the
node with every problem, `gesher alert-rules show` and `check`, and a custom rule changes when an alert
fires through `sightings.record`, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.errors import ConfigurationError
from gesher.exchange.node import Node
from gesher.partners import service as partners
from gesher.settings import Settings
from gesher.store.tables import alerts
from gesher.warning.rules import DEFAULT_RULESET, Level
from gesher.warning_service import sightings
from gesher.warning_service.rules_file import load_ruleset

STRICT_L1 = """\
# L1 needs three partners here, not issue 7's two.
rules:
  - {level: 1, name: fast spread, window: 1h, partners: 3}
  - {level: 2, name: campaign, window: 24h, partners: 4, sectors: 3}
"""
BAD = "k: 0\nrules:\n  - {level: 1, window: 1h, partners: 1, extra: x}\n"


def test_without_a_file_the_defaults_hold_with_the_settings_k() -> None:
    assert load_ruleset(None, 5).rules == DEFAULT_RULESET.rules
    assert load_ruleset(None, 5).k == 5


def test_a_bad_file_stops_the_node_with_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BAD)
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'g.db'}", alert_rules=path)
    with pytest.raises(ConfigurationError) as info:
        Node.init(settings)
    message = info.value.description
    assert f"GESHER_ALERT_RULES={path} is not a valid alert rules file" in message
    assert "rules.yaml:1:4: k: must be at least 1, not 0" in message
    assert "rules.yaml:3:38: rules[0].partners: must be at least 2" in message
    assert "rules.yaml:3:41: rules[0]: unknown key 'extra'" in message
    assert info.value.details == {"errors": message.splitlines()[1:]}


def test_a_missing_file_stops_the_node(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"absent\.yaml: cannot read"):
        load_ruleset(tmp_path / "absent.yaml", 3)


def test_the_cli_shows_the_rules_in_force_and_checks_files(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path)]
    shown = runner.invoke(app, [*base, "alert-rules", "show"], env={"GESHER_ALERT_K": "4"})
    assert shown.exit_code == 0, shown.output
    assert "L1 fast spread: 2 partners within 1 h" in shown.output
    assert "L3 national: 5 partners, 3 sectors or any critical-infrastructure operator within 72 h" in (
        shown.output
    )
    assert "k = 4" in shown.output
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(STRICT_L1)
    bad.write_text(BAD)
    shown = runner.invoke(app, [*base, "alert-rules", "show"], env={"GESHER_ALERT_RULES": str(good)})
    assert shown.exit_code == 0 and "L1 fast spread: 3 partners within 1 h" in shown.output
    assert "L3" not in shown.output
    checked = runner.invoke(app, ["alert-rules", "check", str(good)])
    assert checked.exit_code == 0 and "good.yaml: valid, 2 rule(s)" in checked.output
    checked = runner.invoke(app, ["alert-rules", "check", str(bad)])
    assert checked.exit_code == 1
    assert "bad.yaml:1:4: k: must be at least 1, not 0" in checked.output
    assert "did you mean" not in checked.output and "unknown key 'extra'" in checked.output
    refused = runner.invoke(app, [*base, "alert-rules", "show"], env={"GESHER_ALERT_RULES": str(bad)})
    assert refused.exit_code != 0 and "bad.yaml:1:4: k: must be at least 1" in refused.output


@pytest.fixture
def strict_node(settings: Settings, tmp_path: Path) -> Iterator[Node]:
    path = tmp_path / "strict.yaml"
    path.write_text(STRICT_L1)
    node = Node.init(settings.model_copy(update={"alert_rules": path}))
    yield node
    node.db.dispose()


def _report(node: Node, who: str, value: str) -> None:
    now = datetime.now(tz=UTC)
    with node.db.write() as conn:
        partner = partners.require_partner(conn, who)
        report = sightings.value_report(value, now)
        sightings.record(conn, partner, [report], now, node.warning_config, node.identity, "cli")


def _levels(node: Node) -> list[int]:
    with node.db.read() as conn:
        return [int(level) for (level,) in conn.execute(select(alerts.c.level).order_by(alerts.c.raised_at))]


def _partners(node: Node, *names: str) -> None:
    with node.db.write() as conn:
        for name in names:
            partner, _ = partners.create_partner(conn, "test", name, "IL", "government")
            partners.set_standing(conn, "test", partner, "test", trust_tier=2, sectors=["finance"])


def test_a_custom_rule_changes_when_the_alert_fires(node: Node, strict_node: Node) -> None:
    assert strict_node.warning_config.ruleset.rules[0].min_reporters == 3
    _partners(node, "bank-a", "bank-b", "bank-c")
    # The defaults: two partners within an hour are a fast spread.
    _report(node, "bank-a", "198.51.100.7")
    _report(node, "bank-b", "198.51.100.7")
    assert _levels(node) == [int(Level.FAST_SPREAD)]
    # The operator's file (same store, another value): two are not enough, the third raises L1.
    _report(strict_node, "bank-a", "203.0.113.9")
    _report(strict_node, "bank-b", "203.0.113.9")
    assert _levels(strict_node) == [int(Level.FAST_SPREAD)]
    _report(strict_node, "bank-c", "203.0.113.9")
    assert _levels(strict_node) == [int(Level.FAST_SPREAD)] * 2
