"""End to end, webhooks (issue 7, "Alerts out"): the real `gesher serve` with two worker processes, each
running the background deliverer, and a real receiver on 127.0.0.1. An alert raised by the real CLI is
delivered exactly once (the workers lease rows), signed with the key `gesher webhook key` prints, and the
server stops cleanly. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gesher.warning_service.webhook_signing import parse_public
from tests.e2e.conftest import Gesher
from tests.e2e.conftest import served as serving
from tests.warning_service.webhook_receiver import receiver

pytestmark = pytest.mark.e2e

POLICY = """
version: 1
rules:
  - name: vetted-green
    trust_tiers: [1, 2]
    max_tlp: GREEN
    max_tier: defensive
"""


def test_the_server_delivers_each_alert_once(e2e_db_url: str, tmp_path: Path) -> None:
    gesher = Gesher(tmp_path / "data", e2e_db_url)
    gesher("init")
    for name, sector in (("bank", "finance"), ("ministry", "government"), ("watcher", "telecoms")):
        gesher("partner", "add", name, "--country", "nl", "--kind", "government")
        gesher("partner", "set", name, "--tier", "2", "--sectors", sector, "--reason", "vetted")
    (tmp_path / "policy.yaml").write_text(POLICY)
    gesher("policy", "load", str(tmp_path / "policy.yaml"), "--reason", "e2e")
    key = gesher("webhook", "key").stdout.strip()
    with receiver(lambda: parse_public(key)) as hooks:
        gesher("webhook", "add", hooks.url(), "--partner", "watcher")
        with serving(gesher, tmp_path / "serve.log", "--workers", "2") as (_, process):
            gesher("sighting", "add", "c2.evil.example", "--partner", "bank")
            gesher("sighting", "add", "c2.evil.example", "--partner", "ministry")
            deadline = time.monotonic() + 30
            while not hooks.received and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(3)  # both workers poll every second: a second delivery would arrive by now
        assert process.returncode is not None
    assert len(hooks.received) == 1, (tmp_path / "serve.log").read_text()
    (got,) = hooks.received
    assert got.verified and got.payload["level"] == 2
    (row,) = json.loads(gesher("webhook", "deliveries", "--json").stdout)
    assert (row["state"], row["attempts"], row["alert_id"]) == ("delivered", 1, got.payload["alert"])
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
