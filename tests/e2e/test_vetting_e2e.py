"""End to end, a watchlist update cuts a listed partner off a running server at once (issue 4): the real
`gesher serve` on 127.0.0.1, partners reading with the OASIS taxii2-client, lists loaded by the real
`gesher watchlist load` in another process and by an administrator over the admin REST API. The listed
partner's very next request is refused (401: its tokens are revoked), with no restart, while the other
partner keeps receiving; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from taxii2client.v21 import Collection, Server

from gesher.stix import constants as c
from tests.e2e.conftest import Gesher, served
from tests.factories import indicator

pytestmark = pytest.mark.e2e

INTEL = "intel"
POLICY = """
version: 1
rules:
  - name: vetted-green
    trust_tiers: [1, 2, 3]
    max_tlp: GREEN
    max_tier: defensive
"""
HEADER = "id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,citation\n"
# name: legal name; every partner reads `intel` at tier 2
PARTNERS = {
    "kestrel": "Kestrel Dynamics Ltd",
    "harrier": "Harrier Analytics Ltd",
    "osprey": "Osprey Signals Ltd",
}


@dataclass(frozen=True)
class Exchange:
    base: str
    gesher: Gesher
    data_dir: Path
    collection_id: str
    tokens: dict[str, str]
    object_id: str

    def collection(self, partner: str) -> Collection:
        (root,) = Server(f"{self.base}/taxii2/", user=partner, password=self.tokens[partner]).api_roots
        (found,) = [col for col in root.collections if col.id == self.collection_id]
        return found

    def listing(self, *entries: str) -> str:
        """A national list naming these companies."""
        rows = [
            f"c-{n},Company,{legal},,,GB,2025-02-01,,National,Order {n}\n" for n, legal in enumerate(entries)
        ]
        return HEADER + "".join(rows)


@pytest.fixture(scope="module")
def exchange(e2e_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    data_dir = tmp_path_factory.mktemp("gesher-vetting-e2e")
    gesher = Gesher(data_dir, e2e_db_url)
    gesher("init")
    collection_id = json.loads(gesher("collection", "add", INTEL, "--json").stdout)["id"]
    tokens = {}
    for name, legal in PARTNERS.items():
        added = gesher(
            "partner", "add", name, "--country", "GB", "--kind", "industry", "--legal-name", legal, "--json"
        )
        tokens[name] = json.loads(added.stdout)["token"]
        gesher("partner", "set", name, "--tier", "2", "--reason", "vetted (e2e)")
        gesher("partner", "grant", name, INTEL, "--read")
    admin = gesher(
        "partner", "add", "officer", "--country", "GB", "--kind", "government", "--admin", "--json"
    )
    tokens["officer"] = json.loads(admin.stdout)["token"]
    (data_dir / "policy.yaml").write_text(POLICY)
    gesher("policy", "load", str(data_dir / "policy.yaml"), "--reason", "e2e policy")
    obj = {**indicator("kestrel.example"), "object_marking_refs": [c.TLP2_GREEN]}
    bundle = data_dir / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [obj]}))
    gesher("ingest", str(bundle), "--collection", INTEL)
    with served(gesher, data_dir / "serve.log") as (base, _):
        yield Exchange(base, gesher, data_dir, collection_id, tokens, str(obj["id"]))


def _receives(exchange: Exchange, partner: str) -> bool:
    """True when the partner receives the shared object; False when it is refused with 401."""
    try:
        objects = exchange.collection(partner).get_objects().get("objects", [])
    except requests.HTTPError as refused:
        assert refused.response.status_code == 401, refused.response.text
        assert refused.response.json()["http_status"] == "401"
        return False
    assert [o["id"] for o in objects] == [exchange.object_id]
    return True


def test_a_list_loaded_with_the_cli_cuts_the_partner_off_at_its_next_request(exchange: Exchange) -> None:
    kestrel = exchange.collection("kestrel")  # discovered and pulled before the update
    assert [o["id"] for o in kestrel.get_objects()["objects"]] == [exchange.object_id]
    assert _receives(exchange, "harrier")
    listing = exchange.data_dir / "national-1.csv"
    listing.write_text(exchange.listing("Kestrel Dynamics Ltd"))

    loaded = exchange.gesher(
        "watchlist", "load", str(listing), "--name", "national", "--version", "1",
        "--published", "2025-03-01", "--reason", "national list, first version", "--json",
    )  # fmt: skip

    assert json.loads(loaded.stdout)["cut_off"] == ["kestrel"]
    with pytest.raises(requests.HTTPError) as refused:
        kestrel.get_objects()  # the same client object, its next request: no restart, no cache
    assert refused.value.response.status_code == 401
    assert not _receives(exchange, "kestrel")
    assert _receives(exchange, "harrier")
    history = json.loads(exchange.gesher("vet", "kestrel", "--history", "--json").stdout)
    assert history[-1]["action"] == "listed"


def test_a_list_loaded_over_the_admin_api_cuts_the_partner_off_too(exchange: Exchange) -> None:
    assert _receives(exchange, "osprey") and _receives(exchange, "harrier")
    officer = {"Authorization": f"Bearer {exchange.tokens['officer']}"}
    params = {"filename": "national-2.csv", "reason": "second version", "name": "national", "version": "2"}

    r = requests.post(
        f"{exchange.base}/admin/v1/watchlists",
        params={**params, "published": "2025-04-01"},
        data=exchange.listing("Kestrel Dynamics Ltd", "Osprey Signals Ltd").encode(),
        headers=officer,
        timeout=60,
    )

    assert r.status_code == 201, r.text
    assert r.json()["cut_off"] == ["osprey"]  # kestrel was cut off already
    assert not _receives(exchange, "osprey")
    assert _receives(exchange, "harrier")
    history = requests.get(f"{exchange.base}/admin/v1/partners/osprey/vetting", headers=officer, timeout=60)
    assert [e["action"] for e in history.json()][-1:] == ["listed"]
    assert requests.get(f"{exchange.base}/admin/v1/watchlists", timeout=60).status_code == 401
