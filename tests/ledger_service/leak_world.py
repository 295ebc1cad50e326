"""A leak-tracing world (tests only): one AMBER collection read by 50 vetted recipients in one need-to-know
group, an administrator, and an unvetted reader; real AMBER intelligence every recipient receives."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from gesher.exchange import policies
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.stix import constants as c
from tests.conftest import TAXII
from tests.factories import indicator

RECIPIENTS = [f"cert-{i:02d}" for i in range(50)]
LEAKER = RECIPIENTS[37]
INTEL = 20  # real AMBER indicators every recipient receives

# Every recipient may receive AMBER defensive material by need-to-know (one group): only the canaries'
# markings keep each recipient's canaries from the 49 others. The default profile sanitises what leaves.
POLICY = f"""
version: 1
defaults:
  profile: standard
profiles:
  standard:
    drop_internal_addresses: true
    internal_domains: [corp.example.il]
groups:
  amber-circle: [{", ".join(RECIPIENTS)}]
rules:
  - name: amber-circle
    groups: [amber-circle]
    max_tlp: AMBER
    max_tier: defensive
"""


@dataclass
class LeakWorld:
    node: Node
    collection: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    intel: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, node: Node, recipients: list[str] = RECIPIENTS) -> LeakWorld:
        world = cls(node)
        with node.db.write() as conn:
            collection = create_collection(conn, "test", "amber", "AMBER intelligence")
            world.collection = collection.id
            for name in recipients:
                partner, world.tokens[name] = service.create_partner(conn, "test", name, "GB", "government")
                service.set_standing(conn, "test", partner, "vetted", trust_tier=2)
                service.grant(conn, "test", partner, collection, True, False)
            _, world.tokens["admin"] = service.create_partner(conn, "test", "admin", "GB", "government", True)
            newcomer, world.tokens["newcomer"] = service.create_partner(conn, "test", "newcomer", "FR", "ngo")
            service.grant(conn, "test", newcomer, collection, True, False)
            policies.load(conn, "test", POLICY, "leak.yaml", "leak-tracing test")
            objects = [
                indicator(f"bad-{i}.example", object_marking_refs=[c.TLP2_AMBER]) for i in range(INTEL)
            ]
            world.intel = [str(o["id"]) for o in objects]
            add_objects(conn, collection.id, objects, None)
        return world

    def pull(self, client: TestClient, who: str) -> tuple[list[dict[str, object]], int | None]:
        """Every object `who` receives from the collection over TAXII, and the ledger index of the response
        (None when nothing was served, so nothing was recorded)."""
        response = client.get(
            f"/taxii2/gesher/collections/{self.collection}/objects/",
            headers={"Accept": TAXII, "Authorization": f"Bearer {self.tokens[who]}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert not body.get("more")
        index = response.headers.get("X-Gesher-Ledger-Index")
        return body.get("objects", []), int(index) if index is not None else None


def leaked_bundle(
    objects: list[dict[str, object]], strip: str | None = None, seed: int = 6
) -> dict[str, object]:
    """A bundle as a leaker might pass it on: shuffled, optionally without the canaries of one kind
    (`strip`: "domain-name" or "file")."""
    kept = [o for o in objects if not (strip and f"[{strip}:" in str(o.get("pattern", "")))]
    random.Random(seed).shuffle(kept)
    return {"type": "bundle", "id": "bundle--6f0e4c1a-3b2d-4e5f-8a9b-0c1d2e3f4a5b", "objects": kept}


def canary_values(objects: list[dict[str, object]]) -> set[str]:
    """The values of the canary-marked indicators among `objects` (AMBER plus a gesher marking)."""
    return {
        str(o["pattern"]).split("'")[-2]
        for o in objects
        if o.get("type") == "indicator" and len(o.get("object_marking_refs", [])) == 2  # type: ignore[arg-type]
    }
