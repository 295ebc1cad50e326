"""End to end, issue 7's "Done when": the scripted scenario produces the right warnings at the right
partners in real time over TAXII and webhooks, and the incident board shows the month's picture.

The real `gesher serve` (two worker processes) on 127.0.0.1, set up with the real CLI; Amnesty's real
Pegasus indicators; partners POST STIX sightings with the OASIS taxii2-client, read the `alerts`
collection with it, and receive signed webhooks on a real receiver. A bank's sighting alone warns nobody;
the ministry's makes an L2 campaign alert; the energy operator's an L3 national one, which opens a national
incident. Each partner receives exactly what it may (the detail naming the indicator only where it may see
the indicator), within seconds, and no served or delivered byte names a reporter. A partner acknowledges
over REST; `gesher incidents` and its report show the incident. On SQLite and on PostgreSQL."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import Server

import gesher
from gesher.warning_service.webhook_signing import parse_public
from tests.e2e.conftest import Gesher, served
from tests.e2e.stix_check import errors_of
from tests.warning_service.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.e2e

PEGASUS = Path(gesher.__file__).parent / "demo_data" / "amnesty_2021-07-18_nso_pegasus.json.gz"
DOMAIN = "weather4free.com"
POLICY = """
version: 1
defaults:
  tlp: GREEN
  tier: defensive
rules:
  - name: community
    trust_tiers: [1, 2, 3]
    max_tlp: GREEN
    max_tier: defensive
"""
# name: (country, sectors, tier, may read intel, reports)
PARTNERS = {
    "first-bank": ("IL", "finance", "2", True),
    "ministry-of-health": ("IL", "government", "1", True),
    "grid-energy": ("IL", "energy", "2", True),
    "observer-cert": ("GB", "", "1", True),
    "far-ally": ("FR", "", "2", False),  # vetted, no grant on intel: alerts, never the indicator
}
REPORTERS = ("first-bank", "ministry-of-health", "grid-energy")
WATCHERS = ("observer-cert", "far-ally")  # they receive webhooks


def indicator_of(domain: str) -> str:
    objects = json.loads(gzip.decompress(PEGASUS.read_bytes()))["objects"]
    (found,) = [
        o["id"]
        for o in objects
        if o["type"] == "indicator" and o.get("pattern") == f"[domain-name:value='{domain}']"
    ]
    return str(found)


def sighting(indicator_id: str) -> dict[str, Any]:
    now = datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": now,
        "modified": now,
        "sighting_of_ref": indicator_id,
        "last_seen": now,
    }


class Scenario:
    def __init__(self, gesher: Gesher, base: str, tokens: dict[str, str], intel: str, hooks: Receiver):
        self.gesher, self.base, self.tokens, self.intel, self.hooks = gesher, base, tokens, intel, hooks

    def api_root(self, who: str) -> Any:
        server = Server(f"{self.base}/taxii2/", user=who, password=self.tokens[who])
        return server.api_roots[0]

    def collection(self, who: str, name: str) -> Any:
        (found,) = [c for c in self.api_root(who).collections if c.title == name]
        return found

    def sight(self, who: str, indicator_id: str) -> float:
        """`who` POSTs a sighting with taxii2-client; when it was accepted."""
        status = self.collection(who, "intel").add_objects(json.dumps({"objects": [sighting(indicator_id)]}))
        assert status.status == "complete" and status.success_count == 1, status
        return time.time()

    def alerts(self, who: str) -> list[dict[str, Any]]:
        objects = self.collection(who, "alerts").get_objects().get("objects", [])
        for obj in objects:  # what is served passes the OASIS validator
            assert errors_of(json.dumps(obj).encode()) == ([], 0), obj
        return list(objects)

    def hooks_for(self, who: str, since: int) -> list[dict[str, Any]]:
        path = f"/{who}"
        return [r.payload for r in self.hooks.received[since:] if r.path == path and r.verified]

    def wait_for(self, count: int, started: float, budget: float = 30.0) -> None:
        """Until `count` webhook deliveries have arrived in all, by themselves (the server's background
        deliverers; nobody runs `gesher webhook deliver`). Not a timing test: `make bench-warning-latency`
        measures how fast."""
        while len(self.hooks.received) < count and time.time() - started < budget:
            time.sleep(0.05)
        assert len(self.hooks.received) == count, [r.payload for r in self.hooks.received]


def levels(reports: list[dict[str, Any]]) -> list[tuple[int, bool]]:
    """(level, names the indicator) of each alert report."""
    return sorted(
        (int(r["labels"][1].split("-")[1]), r["object_refs"][0].startswith("indicator--")) for r in reports
    )


def test_pegasus_seen_by_a_bank_a_ministry_and_an_energy_operator(e2e_db_url: str, tmp_path: Path) -> None:
    gesher = Gesher(tmp_path / "data", e2e_db_url)
    gesher("init")
    intel = json.loads(gesher("collection", "add", "intel", "--json").stdout)["id"]
    gesher("ingest", str(PEGASUS), "--collection", "intel")
    tokens = {}
    for name, (country, sectors, tier, reads) in PARTNERS.items():
        added = gesher("partner", "add", name, "--country", country, "--kind", "government", "--json").stdout
        tokens[name] = json.loads(added)["token"]
        gesher("partner", "set", name, "--tier", tier, "--sectors", sectors, "--reason", "vetted (e2e)")
        if reads:
            gesher("partner", "grant", name, "intel", "--read", "--write")
    (tmp_path / "policy.yaml").write_text(POLICY)
    gesher("policy", "load", str(tmp_path / "policy.yaml"), "--reason", "early warning e2e")
    target = indicator_of(DOMAIN)
    key = gesher("webhook", "key").stdout.strip()
    with receiver(lambda: parse_public(key)) as hooks:
        for who in WATCHERS:
            gesher("webhook", "add", hooks.url(f"/{who}"), "--partner", who)
        with served(gesher, tmp_path / "serve.log", "--workers", "2") as (base, _):
            run = Scenario(gesher, base, tokens, intel, hooks)

            # A bank alone: nobody is warned.
            run.sight("first-bank", target)
            time.sleep(2.5)  # the deliverers poll every second: anything queued would have arrived
            assert hooks.received == [] and all(run.alerts(w) == [] for w in PARTNERS)

            # The ministry: two sectors within 24 h, an L2 campaign alert, at every watcher within seconds.
            started = run.sight("ministry-of-health", target)
            run.wait_for(2, started)
            assert [p["level"] for p in run.hooks_for("observer-cert", 0)] == [2]
            assert levels(run.hooks_for("observer-cert", 0)[0]["objects"]) == [(2, False), (2, True)]
            assert levels(run.hooks_for("far-ally", 0)[0]["objects"]) == [(2, False)]  # the summary only
            assert levels(run.alerts("observer-cert")) == [(2, False), (2, True)]
            assert levels(run.alerts("far-ally")) == [(2, False)]

            # The energy operator: critical infrastructure, an L3 national alert, counts published (k = 3).
            started = run.sight("grid-energy", target)
            run.wait_for(4, started)
            (l3,) = [p for p in run.hooks_for("observer-cert", 2)]
            assert l3["level"] == 3 and levels(l3["objects"]) == [(3, False), (3, True)]
            assert "3 partners" in l3["objects"][0]["description"]
            assert levels(run.alerts("far-ally")) == [(2, False), (3, False)]
            for who in REPORTERS:  # the reporters are warned too (they may read the alerts)
                assert levels(run.alerts(who)) == [(2, False), (2, True), (3, False), (3, True)]

            # No served or delivered byte names a reporter.
            served_bytes = b"".join(r.body for r in hooks.received)
            for who in WATCHERS:
                served_bytes += json.dumps(run.alerts(who)).encode()
            for reporter in REPORTERS:
                assert reporter.encode() not in served_bytes

            # A watcher acknowledges the national alert over REST; the other one is still pending.
            alert_id = l3["alert"]
            auth = {"Authorization": f"Bearer {tokens['observer-cert']}"}
            acked = requests.post(
                f"{base}/warning/v1/alerts/{alert_id}/acknowledgement", headers=auth, timeout=10
            )
            assert acked.status_code == 201, acked.text
            auth = {"Authorization": f"Bearer {tokens['far-ally']}"}
            pending = requests.get(f"{base}/warning/v1/alerts/pending", headers=auth, timeout=10).json()
            assert [a["alert"] for a in pending["alerts"]] == [alert_id]

    # The national incident board: one open L3 incident, on the indicator, with both alerts' sectors.
    (incident,) = json.loads(gesher("incidents", "--json").stdout)
    assert (incident["state"], incident["level"], incident["alerts"]) == ("open", 3, 2), incident
    assert incident["sectors"] == ["energy", "finance", "government"]
    month = datetime.now(tz=UTC).strftime("%Y-%m")
    report = json.loads(gesher("incidents", "report", "--month", month, "--format", "json").stdout)
    summary = report["summary"]
    assert (summary["opened"], summary["alerts"], summary["open_at_end"]) == (1, 2, 1), summary
    assert [(s["sector"], s["incidents"]) for s in report["sectors"]] == [
        ("energy", 1),
        ("finance", 1),
        ("government", 1),
    ]
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
