"""End to end, the disclosure ledger (issue 6 "Done when"): the real `gesher serve` on 127.0.0.1, a partner
pulling with the OASIS taxii2-client. What the ledger recorded for each response is exactly what the client
received (hashed on the client side, from the raw bytes); the partner fetches a receipt over REST and the
real `gesher ledger verify-receipt` accepts it with only the public key (and refuses it with another key
or altered); the operator's `gesher ledger verify` passes, and names the entry a stored byte was changed
in; `gesher ledger checkpoint` prints a signed head. On SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import requests
from sqlalchemy import create_engine, select, update
from taxii2client.v21 import Collection, Server

from gesher.ledger.checkpoint import b64decode, b64encode, generate_signer
from gesher.ledger.entries import decode, served
from gesher.store.tables import ledger_entries
from tests.conftest import TAXII
from tests.e2e.conftest import Gesher
from tests.e2e.conftest import served as serving
from tests.factories import indicator

pytestmark = pytest.mark.e2e

POLICY = """
version: 1
rules:
  - name: vetted-green
    trust_tiers: [1, 2]
    max_tlp: GREEN
    max_tier: defensive
"""
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


@dataclass(frozen=True)
class Exchange:
    base: str
    gesher: Gesher
    data_dir: Path
    collection_id: str
    token: str
    green: list[str]

    def collection(self) -> Collection:
        (root,) = Server(f"{self.base}/taxii2/", user="kestrel", password=self.token).api_roots
        (found,) = [c for c in root.collections if c.id == self.collection_id]
        return found

    def get(self, path: str) -> requests.Response:
        accept = {"Accept": TAXII} if path.startswith("/taxii2/") else {}
        r = requests.get(f"{self.base}{path}", auth=("kestrel", self.token), headers=accept, timeout=30)
        r.raise_for_status()
        return r


@pytest.fixture(scope="module")
def exchange(e2e_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    data_dir = tmp_path_factory.mktemp("gesher-ledger-e2e")
    gesher = Gesher(data_dir, e2e_db_url)
    gesher("init")
    collection_id = json.loads(gesher("collection", "add", "intel", "--json").stdout)["id"]
    token = json.loads(
        gesher("partner", "add", "kestrel", "--country", "GB", "--kind", "industry", "--json").stdout
    )["token"]
    gesher("partner", "set", "kestrel", "--tier", "2", "--reason", "vetted (e2e)")
    gesher("partner", "grant", "kestrel", "intel", "--read")
    (data_dir / "policy.yaml").write_text(POLICY)
    gesher("policy", "load", str(data_dir / "policy.yaml"), "--reason", "e2e policy")
    green = [{**indicator(f"g{i}.example"), "object_marking_refs": [GREEN]} for i in range(30)]
    red = [{**indicator(f"r{i}.example"), "object_marking_refs": [RED]} for i in range(5)]
    bundle = data_dir / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": green + red}))
    gesher("ingest", str(bundle), "--collection", "intel")
    with serving(gesher, data_dir / "serve.log") as (base, _):
        yield Exchange(base, gesher, data_dir, collection_id, token, [str(o["id"]) for o in green])


def test_what_the_ledger_recorded_is_exactly_what_taxii2_client_received(exchange: Exchange) -> None:
    raw: list[requests.Response] = []
    collection = exchange.collection()
    collection._conn.session.hooks["response"].append(lambda r, *a, **k: raw.append(r))
    pages = [collection.get_objects(limit=10)]
    while pages[-1].get("more"):
        pages.append(collection.get_objects(limit=10, next=pages[-1]["next"]))
    responses = [r for r in raw if "/objects/" in r.url]
    assert len(responses) == len(pages) == 3
    received = []
    for response, page in zip(responses, pages, strict=True):
        objects = [orjson.dumps(o) for o in page["objects"]]
        assert b",".join(objects) in response.content  # these are the exact bytes on the wire
        index = int(response.headers["X-Gesher-Ledger-Index"])
        receipt = exchange.get(f"/ledger/v1/entries/{index}/receipt").json()
        recorded = served(decode(b64decode(receipt["entry"], "entry")))
        assert [s.sha256 for s in recorded] == [hashlib.sha256(o).hexdigest() for o in objects]
        received += [s.object_id for s in recorded]
    assert sorted(received) == sorted(exchange.green)  # and nothing RED was served or recorded


def test_the_partner_verifies_its_receipt_with_only_the_public_key(exchange: Exchange) -> None:
    response = exchange.get(
        f"/taxii2/gesher/collections/{exchange.collection_id}/objects/{exchange.green[0]}/"
    )
    index = response.headers["X-Gesher-Ledger-Index"]
    receipt = exchange.data_dir / "receipt.json"
    receipt.write_bytes(exchange.get(f"/ledger/v1/entries/{index}/receipt").content)
    vkey = exchange.get("/ledger/v1/keys").json()["keys"][-1]["vkey"]
    checked = exchange.gesher("ledger", "verify-receipt", str(receipt), "--key", vkey)
    assert f"receipt valid: entry {index} (1 objects to kestrel" in checked.stdout
    other = generate_signer(vkey.split("+")[0]).verifier.vkey
    refused = exchange.gesher("ledger", "verify-receipt", str(receipt), "--key", other, ok=False)
    assert refused.returncode == 1 and "receipt invalid" in refused.stderr
    altered = json.loads(receipt.read_text())
    entry = bytearray(b64decode(altered["entry"], "entry"))
    entry[entry.index(b"kestrel")] = ord("K")
    altered["entry"] = b64encode(bytes(entry))
    receipt.write_text(json.dumps(altered))
    refused = exchange.gesher("ledger", "verify-receipt", str(receipt), "--key", vkey, ok=False)
    assert "receipt invalid (inclusion" in refused.stderr or "receipt invalid (root" in refused.stderr, (
        refused.stderr
    )


def test_the_operator_verifies_the_ledger_and_finds_a_changed_byte(exchange: Exchange) -> None:
    head = exchange.gesher("ledger", "checkpoint").stdout
    assert head.split("\n")[0].startswith("gesher/identity--") and "\n\u2014 " in head
    verified = exchange.gesher("ledger", "verify")
    assert "ledger verified:" in verified.stdout and "disclosure" in verified.stdout
    engine = create_engine(exchange.gesher.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            body = conn.execute(select(ledger_entries.c.body).where(ledger_entries.c.idx == 5)).scalar_one()
            conn.execute(
                update(ledger_entries)
                .where(ledger_entries.c.idx == 5)
                .values(body=body.replace(b"e", b"E", 1))
            )
        failed = exchange.gesher("ledger", "verify", ok=False)
        assert "entry 5 is bad (leaf-hash)" in failed.stderr
        with engine.begin() as conn:
            conn.execute(update(ledger_entries).where(ledger_entries.c.idx == 5).values(body=body))
    finally:
        engine.dispose()
    exchange.gesher("ledger", "verify")
