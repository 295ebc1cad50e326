"""A small real exchange for the impact report tests: partners in three countries and trust tiers, marked
objects released through the gate, real TAXII reads (each recorded in the ledger by the server), one
partner's contribution, and a backdated history appended through the ledger service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from gesher.exchange import policies, release
from gesher.exchange.ingest import add_objects
from gesher.ledger import entries
from gesher.ledger.entries import Kind, Served
from gesher.ledger_service import log
from gesher.partners import service
from gesher.stix import constants as c
from tests.conftest import TAXII, World
from tests.factories import gesher_marking, indicator

ROOT = "/taxii2/gesher"
POLICY = """
version: 1
defaults:
  tier: defensive
  tlp: AMBER
rules:
  - name: named-partners
    partners: [reader, writer, il-cert, fr-cert]
    max_tlp: AMBER
    max_tier: offensive
"""
SHA = "0" * 64


@dataclass
class Exchange:
    world: World
    client: TestClient
    ids: dict[str, str]  # g1, g2 (GREEN, no tier), s (sensitive, AMBER), r (offensive, RED), a (AMBER+STRICT)
    versions: dict[str, str]
    policy_id: int


def build(world: World, client: TestClient) -> Exchange:
    """The exchange with its objects and partners; no partner has read anything yet."""
    sensitive = gesher_marking("sensitive")
    offensive_il = gesher_marking("offensive", recipients=["il-cert"])
    named_fr = gesher_marking("defensive", recipients=["fr-cert"])
    objects = {
        "g1": indicator("g1.example", object_marking_refs=[c.TLP2_GREEN]),
        "g2": indicator("g2.example", object_marking_refs=[c.TLP2_GREEN]),
        "s": indicator("s.example", object_marking_refs=[c.TLP2_AMBER, sensitive["id"]]),
        "r": indicator("r.example", object_marking_refs=[c.TLP2_RED, offensive_il["id"]]),
        "a": indicator("a.example", object_marking_refs=[c.TLP2_AMBER_STRICT, named_fr["id"]]),
    }
    with world.node.db.write() as conn:
        for name, country, kind, tier in (
            ("il-cert", "IL", "government", 2),
            ("fr-cert", "FR", "industry", 3),
        ):
            partner, world.tokens[name] = service.create_partner(conn, "test", name, country, kind)
            service.set_standing(conn, "test", partner, "vetted", trust_tier=tier)
            service.grant(conn, "test", partner, world.intel, True, False)
        policy_id, _ = policies.load(conn, "test", POLICY, "report.yaml", "impact report test")
        add_objects(conn, world.intel.id, [sensitive, offensive_il, named_fr, *objects.values()], None)
        for name in ("s", "r", "a"):
            release.request(conn, "analyst-a", str(objects[name]["id"]), "ready")
            release.approve(conn, "analyst-b", str(objects[name]["id"]), "checked")
    ids = {name: str(o["id"]) for name, o in objects.items()}
    versions = {name: str(o["modified"]) for name, o in objects.items()}
    return Exchange(world, client, ids, versions, policy_id)


def read(ex: Exchange, who: str) -> list[str]:
    """A partner reads the indicators of `intel` over TAXII; the ids it received."""
    url = f"{ROOT}/collections/{ex.world.intel.id}/objects/?match[type]=indicator"
    response = ex.client.get(url, headers=ex.world.headers(who))
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json().get("objects", [])]


def contribute(ex: Exchange, who: str, count: int) -> None:
    """A partner POSTs `count` indicators to the inbox (it may write there, not read)."""
    body = {
        "objects": [indicator(f"{who}-{i}.example", object_marking_refs=[c.TLP2_GREEN]) for i in range(count)]
    }
    headers = ex.world.headers(who, **{"Content-Type": TAXII})
    response = ex.client.post(f"{ROOT}/collections/{ex.world.inbox.id}/objects/", json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json()["success_count"] == count


def live(ex: Exchange) -> None:
    """Today's reads: reader twice, writer, il-cert, fr-cert, and an administrator (not counted)."""
    for who in ("reader", "reader", "writer", "il-cert", "fr-cert", "admin"):
        read(ex, who)
    contribute(ex, "writer", 2)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def disclose(ex: Exchange, when: str, partner: str, *names: str) -> None:
    """A backdated disclosure entry, appended through the ledger service as the server would."""
    served = [Served(ex.ids[n], ex.versions[n], SHA, "named-partners") for n in names]
    entry = entries.disclosure(
        at(when),
        f"partner:{partner}",
        partner=partner,
        endpoint=f"{ROOT}/collections/{ex.world.intel.id}/objects/",
        policy_version=ex.policy_id,
        served=served,
    )
    with ex.world.node.db.write() as conn:
        log.append(conn, entry)


def ingested(ex: Exchange, when: str, source: str, *names: str) -> None:
    """A backdated ingest entry naming `source`."""
    listed = [[ex.ids[n], ex.versions[n], SHA] for n in names]
    entry = entries.make(
        Kind.INGEST, at(when), source, collection=ex.world.intel.id, source=source, objects=listed
    )
    with ex.world.node.db.write() as conn:
        log.append(conn, entry)


def history(ex: Exchange) -> None:
    """March 2025: writer gave g1 and s on the 3rd; reader received g1 two hours later; il-cert received g1
    and s on the 4th (s 30 hours after its ingest); reader received g1 and s on the 12th."""
    ingested(ex, "2025-03-03T00:00:00Z", "partner:writer", "g1", "s")
    disclose(ex, "2025-03-03T02:00:00Z", "reader", "g1")
    disclose(ex, "2025-03-04T06:00:00Z", "il-cert", "g1", "s")
    disclose(ex, "2025-03-12T00:00:00Z", "reader", "g1", "s")
