"""Property-based, end to end: for random sharing policies loaded into a running `gesher serve`, what each
partner receives through the OASIS taxii2-client is exactly what in-process enforcement serves it (the
in-process path is itself checked against an independent oracle in tests/exchange/test_enforcement.py),
on SQLite and PostgreSQL. One server for the module; each example loads a new policy, which the server
must apply from its next request."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taxii2client.v21 import Collection, Server, as_pages

from gesher.exchange import policies
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound
from gesher.partners.service import principal_by_name
from gesher.settings import Settings
from gesher.stix import constants as c
from gesher.taxii.query import TaxiiQuery, Versions
from tests.e2e.conftest import Gesher, served
from tests.factories import gesher_marking, indicator, relationship

pytestmark = pytest.mark.e2e

T = ["2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"]
TLPS = [c.TLP2_CLEAR, c.TLP2_GREEN, c.TLP2_AMBER, c.TLP2_AMBER_STRICT, c.TLP2_RED]
# name: (country, kind, trust tier)
PARTNERS = {
    "cert-a": ("GB", "government", "1"),
    "isac-b": ("DE", "isac", "2"),
    "lab-c": ("FR", "academia", "none"),
    "vendor-d": ("JP", "industry", "3"),
}


def marked_bundle(seed: int = 7) -> list[dict[str, object]]:
    """Indicators over every TLP, four gesher markings (tiers, recipients, releasability, an embargo long
    past), granular markings, two-version objects, an internal address, a victim name and relationships."""
    rng = random.Random(seed)
    markings = [
        gesher_marking("public"),
        gesher_marking("sensitive", releasable_to=["GB", "group:g1"]),
        gesher_marking("defensive", recipients=["cert-a", "isac-b"]),
        gesher_marking("offensive", embargo_until="2020-01-01T00:00:00Z"),
    ]
    objects: list[dict[str, object]] = [*markings]
    for i in range(30):
        refs = [rng.choice(TLPS), *(m["id"] for m in rng.sample(markings, rng.choice([0, 0, 1, 2])))]
        extra: dict[str, object] = {"object_marking_refs": refs, "description": f"seen at site {i}"}
        if i % 5 == 0:
            extra["granular_markings"] = [{"marking_ref": rng.choice(TLPS), "selectors": ["description"]}]
        if i % 7 == 0:
            extra["x_victim_name"] = f"victim {i}"
        value = "10.0.0.9" if i == 11 else f"host{i}.example"
        first = indicator(value, modified=T[0], **extra)
        objects.append(first)
        if i % 4 == 0:
            objects.append({**first, "modified": T[1], "object_marking_refs": [rng.choice(TLPS)]})
    indicators = [o for o in objects if o["type"] == "indicator"]
    for _ in range(6):
        a, b = rng.sample(indicators, 2)
        objects.append(relationship(a["id"], b["id"], [rng.choice(TLPS[:3])]))
    return objects


@dataclass
class Running:
    base: str
    node: Node
    collection_id: str
    tokens: dict[str, str]

    def collection(self, partner: str) -> Collection:
        server = Server(f"{self.base}/taxii2/", user=partner, password=self.tokens[partner])
        (root,) = server.api_roots
        (found,) = [col for col in root.collections if col.id == self.collection_id]
        return found


@pytest.fixture(scope="module")
def running(e2e_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    data_dir = tmp_path_factory.mktemp("gesher-policy-properties")
    gesher = Gesher(data_dir, e2e_db_url)
    gesher("init")
    collection_id = json.loads(gesher("collection", "add", "intel", "--json").stdout)["id"]
    tokens = {}
    for name, (country, kind, tier) in PARTNERS.items():
        tokens[name] = json.loads(
            gesher("partner", "add", name, "--country", country, "--kind", kind, "--json").stdout
        )["token"]
        gesher("partner", "set", name, "--tier", tier, "--reason", "e2e")
        gesher("partner", "grant", name, "intel", "--read")
    bundle = data_dir / "bundle.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": marked_bundle()})
    )
    (report,) = json.loads(gesher("ingest", str(bundle), "--collection", "intel", "--json").stdout)
    assert report["rejected"] == 0, report
    node = Node.open(Settings(data_dir=data_dir, database_url=e2e_db_url))
    try:
        with served(gesher, data_dir / "serve.log") as (base, _):
            yield Running(base, node, collection_id, tokens)
    finally:
        node.db.dispose()


NAMES = sorted(PARTNERS)
SOME_PARTNERS = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)


@st.composite
def policy_text(draw: st.DrawFn) -> str:
    lines = ["version: 1", "groups:", f"  g1: [{', '.join(draw(SOME_PARTNERS))}]"]
    lines += ["profiles:", "  p:", f"    drop_internal_addresses: {str(draw(st.booleans())).lower()}"]
    if draw(st.booleans()):
        lines += ["    drop_properties: [x_victim_name]"]
    lines += ["rules:"]
    for i in range(draw(st.integers(1, 4))):
        tlp = draw(st.sampled_from(["CLEAR", "GREEN", "AMBER"]))
        tier = draw(st.sampled_from(["public", "defensive", "sensitive", "offensive"]))
        lines += [f"  - name: r{i}", f"    max_tlp: {tlp}", f"    max_tier: {tier}"]
        if draw(st.booleans()):
            lines += ["    profile: p"]
        if tlp == "AMBER" or draw(st.booleans()):
            if draw(st.booleans()):
                lines += [f"    partners: [{', '.join(draw(SOME_PARTNERS))}]"]
            else:
                lines += ["    groups: [g1]"]
        else:
            tiers = draw(st.lists(st.sampled_from([1, 2, 3, 4]), min_size=1, max_size=3, unique=True))
            lines += [f"    trust_tiers: [{', '.join(map(str, tiers))}]"]
    if draw(st.booleans()):
        expires = draw(st.sampled_from(["2020-01-01", "2099-01-01"]))
        lines += ["agreements:", "  - name: a1", f"    partners: [{', '.join(draw(SOME_PARTNERS))}]"]
        lines += ["    max_tlp: AMBER", "    max_tier: offensive", f"    expires: {expires}"]
    return "\n".join(lines) + "\n"


def _key(obj: dict[str, object]) -> tuple[str, str]:
    return str(obj["id"]), str(obj.get("modified", obj.get("created")))


def _in_process(running: Running, partner: str, every: bool) -> dict[tuple[str, str], dict[str, object]]:
    with running.node.db.read() as conn:
        out = Outbound(conn, principal_by_name(conn, partner), running.node.clearance)
        q = TaxiiQuery(versions=Versions(latest=not every, every=every))
        page = out.objects(running.collection_id, q, None, 1000)
    assert not page.more
    return {_key(o): o for o in (json.loads(bytes(body)) for _, body, *_ in page.rows)}  # type: ignore[call-overload]


def _over_taxii(collection: Collection, every: bool) -> dict[tuple[str, str], dict[str, object]]:
    filters = {"version": "all"} if every else {}
    objects = [
        o
        for page in as_pages(collection.get_objects, per_request=7, **filters)
        for o in page.get("objects", [])
    ]
    keys = [_key(o) for o in objects]
    assert len(keys) == len(set(keys)), "a version was served twice"
    manifest = [
        m
        for page in as_pages(collection.get_manifest, per_request=5, **filters)
        for m in page.get("objects", [])
    ]
    assert [(m["id"], m["version"]) for m in manifest] == keys
    return dict(zip(keys, objects, strict=True))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=policy_text())
def test_the_running_server_serves_each_partner_exactly_what_enforcement_allows(
    running: Running, text: str
) -> None:
    with running.node.db.write() as conn:
        policies.load(conn, "e2e", text, "random.yaml", "property test")
    for partner in NAMES:
        collection = running.collection(partner)
        for every in (True, False):
            assert _over_taxii(collection, every) == _in_process(running, partner, every), (
                partner,
                every,
                text,
            )
