"""End to end, the tiered sharing policy: the real `gesher` CLI sets up partners of different trust tiers, a
policy and a bundle with mixed markings; the real `gesher serve` serves it on 127.0.0.1; the OASIS
taxii2-client reads it as each partner, on SQLite and on PostgreSQL.

Each partner receives exactly the (id, version) pairs the policy allows, through every TAXII read
(objects, manifest, object, versions); everything served passes the OASIS stix2-validator; a hidden object
answers exactly like a missing one; and a stricter policy loaded with the CLI applies to the running server
at its next request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import requests
from taxii2client.v21 import Collection, Server, as_pages

from gesher.stix import constants as c
from tests.conftest import TAXII
from tests.e2e.conftest import Gesher, served
from tests.e2e.stix_check import errors_of
from tests.factories import gesher_marking, indicator, malware, relationship

pytestmark = pytest.mark.e2e

T0, T1 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"
INTEL = "intel"

POLICY = """
version: 1
rules:
  - name: vetted-green
    trust_tiers: [1, 2, 3]
    max_tlp: GREEN
    max_tier: defensive
  - name: gb-amber
    partners: [cert-gb]
    max_tlp: AMBER
    max_tier: sensitive
  - name: energy-amber
    partners: [isac-de]
    sectors: [energy]
    max_tlp: AMBER
    max_tier: defensive
"""

STRICTER = """
version: 2
rules:
  - name: gb-green-only
    partners: [cert-gb]
    max_tlp: GREEN
    max_tier: defensive
"""

# name: (country, kind, trust tier, sectors)
PARTNERS = {
    "cert-gb": ("GB", "government", "1", ""),
    "isac-de": ("DE", "isac", "2", "energy"),
    "ngo-fr": ("FR", "ngo", "4", ""),
}


def mixed_bundle() -> dict[str, dict[str, object]]:
    """Every kind of marking, by a short name."""
    public = gesher_marking("public")
    sensitive = gesher_marking("sensitive")
    only_gb = gesher_marking("defensive", releasable_to=["GB"])
    names_gb = gesher_marking("defensive", recipients=["cert-gb"])
    o: dict[str, dict[str, object]] = {
        "md-public": public,
        "md-sensitive": sensitive,
        "md-only-gb": only_gb,
        "md-names-gb": names_gb,
        "clear": {**indicator("clear.example"), "object_marking_refs": [c.TLP2_CLEAR, public["id"]]},
        "white": {**indicator("white.example"), "object_marking_refs": [c.TLP1_WHITE, public["id"]]},
        "granular": {
            **malware(name="partly green", description="who is behind it"),
            "object_marking_refs": [c.TLP2_CLEAR, public["id"]],
            "granular_markings": [{"marking_ref": c.TLP2_GREEN, "selectors": ["description"]}],
        },
        "green": {**indicator("green.example"), "object_marking_refs": [c.TLP2_GREEN]},
        "amber": {**malware(name="amber"), "object_marking_refs": [c.TLP2_AMBER]},
        "amber-only-gb": {**malware(name="amber gb"), "object_marking_refs": [c.TLP2_AMBER, only_gb["id"]]},
        "amber-strict": {**malware(name="strict"), "object_marking_refs": [c.TLP2_AMBER_STRICT]},
        "red-named": {**malware(name="red gb"), "object_marking_refs": [c.TLP2_RED, names_gb["id"]]},
        "red-hidden": {**malware(name="red"), "object_marking_refs": [c.TLP2_RED]},
        "sensitive": {**malware(name="sensitive"), "object_marking_refs": [c.TLP2_GREEN, sensitive["id"]]},
        "versioned": {**indicator("v1.example", T0), "object_marking_refs": [c.TLP2_GREEN]},
    }
    o["versioned-2"] = {**o["versioned"], "modified": T1, "name": "v2"}
    green_id = o["green"]["id"]
    o["rel-to-hidden"] = relationship(green_id, o["red-hidden"]["id"], [c.TLP2_GREEN])
    o["rel-to-amber-gb"] = relationship(green_id, o["amber-only-gb"]["id"], [c.TLP2_GREEN])
    o["rel-to-elsewhere"] = relationship(green_id, f"malware--{uuid.uuid4()}", [c.TLP2_GREEN])
    return o


EVERYONE = {"md-public", "md-sensitive", "clear", "white", "granular"}
EXPECTED = {
    "cert-gb": EVERYONE
    | {
        "md-only-gb",
        "md-names-gb",
        "green",
        "amber",
        "amber-only-gb",
        "red-named",
        "versioned",
        "versioned-2",
    }
    | {"rel-to-amber-gb", "rel-to-elsewhere"},
    "isac-de": EVERYONE | {"green", "amber", "versioned", "versioned-2", "rel-to-elsewhere"},
    "ngo-fr": EVERYONE,
}
EXPECTED_STRICTER = {
    # TLP:RED goes to the recipients an object names whatever the rules grant; its tier (defensive) is
    # still reached by gb-green-only, and it stays released.
    "cert-gb": EVERYONE
    | {"md-only-gb", "md-names-gb", "green", "red-named", "versioned", "versioned-2", "rel-to-elsewhere"},
    "isac-de": EVERYONE,
    "ngo-fr": EVERYONE,
}
# Who receives `granular` with its TLP:GREEN description (the others receive it without).
GRANULAR_WHOLE = {"cert-gb", "isac-de"}
GRANULAR_WHOLE_STRICTER = {"cert-gb"}


@dataclass(frozen=True)
class Exchange:
    base: str
    gesher: Gesher
    data_dir: Path
    collection_id: str
    tokens: dict[str, str]
    objects: dict[str, dict[str, object]]

    def server(self, partner: str) -> Server:
        return Server(f"{self.base}/taxii2/", user=partner, password=self.tokens[partner])

    def collection(self, partner: str) -> Collection:
        (root,) = self.server(partner).api_roots
        (found,) = [col for col in root.collections if col.id == self.collection_id]
        return found

    def key(self, name: str) -> tuple[str, str]:
        obj = self.objects[name]
        return str(obj["id"]), str(obj.get("modified", obj.get("created")))

    def keys(self, names: set[str]) -> set[tuple[str, str]]:
        return {self.key(n) for n in names}

    def load_policy(self, name: str, text: str, reason: str) -> None:
        path = self.data_dir / name
        path.write_text(text)
        assert "in force" in self.gesher("policy", "load", str(path), "--reason", reason).stdout


@pytest.fixture(scope="module")
def exchange(e2e_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    data_dir = tmp_path_factory.mktemp("gesher-policy-e2e")
    gesher = Gesher(data_dir, e2e_db_url)
    gesher("init")
    collection_id = json.loads(gesher("collection", "add", INTEL, "--json").stdout)["id"]
    tokens = {}
    for name, (country, kind, tier, sectors) in PARTNERS.items():
        added = gesher("partner", "add", name, "--country", country, "--kind", kind, "--json").stdout
        tokens[name] = json.loads(added)["token"]
        gesher("partner", "set", name, "--tier", tier, "--sectors", sectors, "--reason", "vetted (e2e)")
        gesher("partner", "grant", name, INTEL, "--read")
    objects = mixed_bundle()
    bundle = data_dir / "mixed.json"
    bundle.write_text(
        json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [*objects.values()]})
    )
    (report,) = json.loads(gesher("ingest", str(bundle), "--collection", INTEL, "--json").stdout)
    assert (report["stored"], report["rejected"]) == (len(objects), 0), report
    red = str(objects["red-named"]["id"])
    gesher("release", "request", red, "--analyst", "alice", "--reason", "cert-gb needs it")
    refused = gesher("release", "approve", red, "--analyst", "alice", "--reason", "self", ok=False)
    assert "second analyst" in refused.stderr + refused.stdout
    gesher("release", "approve", red, "--analyst", "bob", "--reason", "checked")
    ex = Exchange("", gesher, data_dir, collection_id, tokens, objects)
    ex.load_policy("policy.yaml", POLICY, "e2e policy")
    with served(gesher, data_dir / "serve.log") as (base, _):
        yield Exchange(base, gesher, data_dir, collection_id, tokens, objects)


def _pages(
    collection: Collection, method: str, per_request: int, **filters: object
) -> list[dict[str, object]]:
    fetch = getattr(collection, method)
    return [
        o for page in as_pages(fetch, per_request=per_request, **filters) for o in page.get("objects", [])
    ]


def _version(obj: dict[str, object]) -> str:
    return str(obj.get("modified", obj.get("created")))


def _received(exchange: Exchange, partner: str) -> dict[tuple[str, str], dict[str, object]]:
    """Every version the partner receives through objects, in pages of 4, checked against the manifest."""
    collection = exchange.collection(partner)
    objects = _pages(collection, "get_objects", 4, version="all")
    keys = [(str(o["id"]), _version(o)) for o in objects]
    assert len(keys) == len(set(keys)), "a version was served twice"
    manifest = _pages(collection, "get_manifest", 3, version="all")
    assert [(str(m["id"]), str(m["version"])) for m in manifest] == keys
    return dict(zip(keys, objects, strict=True))


def _assert_receives_exactly(
    exchange: Exchange, expected: dict[str, set[str]], granular_whole: set[str] = GRANULAR_WHOLE
) -> None:
    for partner, names in expected.items():
        got = _received(exchange, partner)
        assert set(got) == exchange.keys(names), partner
        for name in names:
            key = exchange.key(name)
            if name == "granular" and partner not in granular_whole:
                original = exchange.objects[name]
                assert got[key] == {
                    k: v for k, v in original.items() if k not in ("description", "granular_markings")
                }
            else:
                assert got[key] == exchange.objects[name], (partner, name)
        latest = {(str(o["id"]), _version(o)) for o in _pages(exchange.collection(partner), "get_objects", 5)}
        assert latest == exchange.keys(names - {"versioned"}), partner


# --- what each partner receives --------------------------------------------------------------------------


def test_each_partner_receives_exactly_what_the_policy_allows(exchange: Exchange) -> None:
    _assert_receives_exactly(exchange, EXPECTED)


def test_get_object_and_versions_agree_with_the_listings(exchange: Exchange) -> None:
    for partner, names in EXPECTED.items():
        collection = exchange.collection(partner)
        for name in names - {"versioned-2"}:
            object_id = str(exchange.objects[name]["id"])
            visible = sorted(v for i, v in exchange.keys(names) if i == object_id)
            assert sorted(collection.object_versions(object_id)["versions"]) == visible, (partner, name)
            (latest,) = collection.get_object(object_id)["objects"]
            assert _version(latest) == visible[-1]
            assert len(collection.get_object(object_id, version="all")["objects"]) == len(visible)


def test_everything_served_passes_the_stix2_validator(exchange: Exchange) -> None:
    found: dict[str, list[str]] = {}
    for partner in PARTNERS:
        for obj in _received(exchange, partner).values():
            errors, tolerated = errors_of(orjson.dumps(obj))
            assert tolerated == 0  # no custom SCO patterns here: nothing to tolerate
            if errors:
                found[f"{partner} {obj['id']}"] = errors
    assert found == {}


def _error(call: object, *args: object) -> requests.Response:
    with pytest.raises(requests.HTTPError) as raised:
        call(*args)  # type: ignore[operator]
    response = raised.value.response
    assert response is not None
    return response


def test_a_hidden_object_raises_the_same_error_as_a_missing_one(exchange: Exchange) -> None:
    for partner, names in EXPECTED.items():
        collection = exchange.collection(partner)
        for name in set(exchange.objects) - names:
            hidden_id = str(exchange.objects[name]["id"])
            missing_id = f"{hidden_id.split('--')[0]}--{uuid.uuid4()}"
            for method in ("get_object", "object_versions"):
                hidden = _error(getattr(collection, method), hidden_id)
                absent = _error(getattr(collection, method), missing_id)
                assert hidden.status_code == absent.status_code == 404, (partner, name, method)
                assert hidden.headers["content-type"] == absent.headers["content-type"] == TAXII
                assert hidden.content.replace(hidden_id.encode(), missing_id.encode()) == absent.content
                assert not [h for h in hidden.headers if h.lower().startswith("x-taxii")]


# --- a policy change reaches the running server ----------------------------------------------------------


def test_a_stricter_policy_applies_at_the_next_request_without_a_restart(exchange: Exchange) -> None:
    """Runs last: it changes the module's server state (and puts the first policy back)."""
    _assert_receives_exactly(exchange, EXPECTED)
    exchange.load_policy("stricter.yaml", STRICTER, "tighten (e2e)")
    try:
        _assert_receives_exactly(exchange, EXPECTED_STRICTER, GRANULAR_WHOLE_STRICTER)
        amber_id = str(exchange.objects["amber"]["id"])
        hidden = _error(exchange.collection("cert-gb").get_object, amber_id)
        assert hidden.status_code == 404
        exchange.gesher("partner", "set", "isac-de", "--suspend", "--reason", "misuse (e2e)")
        r = requests.get(
            f"{exchange.base}/taxii2/",
            auth=("isac-de", exchange.tokens["isac-de"]),
            headers={"Accept": TAXII},
        )
        assert r.status_code == 401
        exchange.gesher("partner", "set", "isac-de", "--reinstate", "--reason", "cleared (e2e)")
        assert set(_received(exchange, "isac-de")) == exchange.keys(EXPECTED_STRICTER["isac-de"])
    finally:
        exchange.load_policy("policy-again.yaml", POLICY.replace("version: 1", "version: 3"), "restore (e2e)")
    _assert_receives_exactly(exchange, EXPECTED)
