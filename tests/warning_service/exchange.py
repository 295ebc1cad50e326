"""A small early-warning exchange for tests: Pegasus indicators (Amnesty, shipped) in an `intel`
collection, one more indicator in a `secret` collection no partner reads, partners with sectors, and
helpers to post STIX sightings and read the `alerts` collection over TAXII (in process)."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import orjson
from fastapi.testclient import TestClient

import gesher
from gesher.exchange import policies
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.store.collections import ALERTS_ID
from tests.conftest import TAXII
from tests.factories import indicator

PEGASUS = Path(gesher.__file__).parent / "demo_data" / "amnesty_2021-07-18_nso_pegasus.json.gz"
ROOT = "/taxii2/gesher"
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
# name -> (country, sectors, trust tier, may read intel)
PARTNERS: dict[str, tuple[str, list[str], int | None, bool]] = {
    "first-bank": ("IL", ["finance"], 2, True),
    "ministry-of-health": ("IL", ["government"], 1, True),
    "grid-energy": ("IL", ["energy"], 2, True),
    "observer-cert": ("GB", [], 1, True),
    "far-ally": ("FR", [], 2, False),  # vetted, but no grant on intel: sees alerts, not the indicators
    "stranger": ("US", [], None, False),  # not vetted: receives nothing TLP:GREEN
}


def pegasus_objects() -> list[dict[str, Any]]:
    return list(json.loads(gzip.decompress(PEGASUS.read_bytes()))["objects"])


def pegasus_domain_indicators(objects: list[dict[str, Any]]) -> dict[str, str]:
    """domain -> indicator id, for the Pegasus indicators of one domain each."""
    found = {}
    for obj in objects:
        pattern = obj.get("pattern", "")
        if (
            obj["type"] == "indicator"
            and pattern.startswith("[domain-name:value='")
            and pattern.count("=") == 1
        ):
            found[pattern.split("'")[1]] = obj["id"]
    return found


class Exchange:
    def __init__(self, node: Node, client: TestClient) -> None:
        self.node, self.client = node, client
        self.tokens: dict[str, str] = {}
        self.partner_ids: dict[str, int] = {}
        objects = pegasus_objects()
        self.domains = pegasus_domain_indicators(objects)
        self.hidden = indicator("hidden-c2.example")
        with node.db.write() as conn:
            self.intel = create_collection(conn, "test", "intel")
            self.secret = create_collection(conn, "test", "secret")
            assert not add_objects(conn, self.intel.id, objects, None).failures
            assert not add_objects(conn, self.secret.id, [self.hidden], None).failures
            for name, (country, sectors, tier, reads) in PARTNERS.items():
                partner, self.tokens[name] = service.create_partner(conn, "test", name, country, "government")
                self.partner_ids[name] = partner.id
                service.set_standing(conn, "test", partner, "test", trust_tier=tier, sectors=sectors)
                if reads:
                    service.grant(conn, "test", partner, self.intel, True, True)
            policies.load(conn, "test", POLICY, "warning.yaml", "early warning tests")

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {self.tokens[who]}", **extra}

    def post(self, who: str, collection_id: str, *objects: dict[str, Any]) -> Any:
        body = orjson.dumps({"objects": list(objects)})
        headers = self.headers(who, **{"Content-Type": TAXII})
        return self.client.post(f"{ROOT}/collections/{collection_id}/objects/", headers=headers, content=body)

    def sight(self, who: str, indicator_id: str, when: str | None = None, **extra: Any) -> Any:
        """`who` posts a STIX sighting of `indicator_id` to intel; returns the response."""
        r = self.post(who, self.intel.id, sighting(indicator_id, when, **extra))
        return r

    def alerts_raw(self, who: str) -> bytes:
        r = self.client.get(f"{ROOT}/collections/{ALERTS_ID}/objects/", headers=self.headers(who))
        assert r.status_code == 200, r.text
        return r.content

    def alerts(self, who: str) -> list[dict[str, Any]]:
        return list(orjson.loads(self.alerts_raw(who)).get("objects", []))


def sighting(indicator_id: str, when: str | None = None, **extra: Any) -> dict[str, Any]:
    from datetime import UTC, datetime

    stamp = when or datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    obj: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "last_seen": stamp,
        "sighting_of_ref": indicator_id,
    }
    obj.update(extra)
    return obj
