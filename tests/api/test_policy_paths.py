"""Every path out enforces the tiered sharing policy, in process, on SQLite and PostgreSQL.

DESIGN.md section 3: an object a partner may not see is indistinguishable from one that does not exist
(same 404 byte for byte, counts and `more` computed after filtering, no header pointing at it, and
relationships and sightings that point at it withheld); granular markings redact properties, sanitisation
profiles rewrite or withhold objects, the release gate holds gated items until a second analyst approves
them, and every change (policy, partner standing, time) applies at the next request, without a restart."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from gesher.errors import Conflict
from gesher.exchange import labelling, policies, release
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.policy.sanitise import REDACTED
from gesher.stix import constants as c
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID
from gesher.stix.validate import object_error
from tests.conftest import TAXII, World
from tests.factories import gesher_marking, indicator, malware, relationship

ROOT = "/taxii2/gesher"
T0, T1, T2 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"
GREEN, AMBER, RED = [c.TLP2_GREEN], [c.TLP2_AMBER], [c.TLP2_RED]
INTERNAL_ORIGIN = f"identity--{uuid.uuid4()}"


# --- helpers ---------------------------------------------------------------------------------------------


def identity(name: str, markings: Sequence[str] = GREEN) -> dict[str, object]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": name,
        "identity_class": "organization",
        "object_marking_refs": list(markings),
    }


def sighting(of: str, where: Sequence[str], markings: Sequence[str] = GREEN) -> dict[str, object]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "sighting_of_ref": of,
        "where_sighted_refs": list(where),
        "object_marking_refs": list(markings),
    }


def marked(obj: dict[str, object], markings: Sequence[str]) -> dict[str, object]:
    return {**obj, "object_marking_refs": list(markings)}


def objects_url(collection_id: str) -> str:
    return f"{ROOT}/collections/{collection_id}/objects/"


def post(client: TestClient, world: World, who: str, collection_id: str, *objs: object) -> dict[str, object]:
    r = client.post(
        objects_url(collection_id),
        headers=world.headers(who, **{"Content-Type": TAXII}),
        content=orjson.dumps({"objects": list(objs)}),
    )
    assert r.status_code == 202, r.text
    status: dict[str, object] = r.json()
    return status


def add(client: TestClient, world: World, *objs: object, who: str = "admin") -> None:
    """Store objects in the shared `intel` collection (as the administrator unless told otherwise)."""
    status = post(client, world, who, world.intel.id, *objs)
    assert status["failure_count"] == 0, status


def get(client: TestClient, world: World, who: str, path: str, **params: str) -> httpx.Response:
    return client.get(
        f"{ROOT}/collections/{world.intel.id}/{path}", headers=world.headers(who), params=params
    )


def served(client: TestClient, world: World, who: str, **params: str) -> list[dict[str, object]]:
    """Every object `who` receives from `intel` (all pages)."""
    found: list[dict[str, object]] = []
    while True:
        r = get(client, world, who, "objects/", **params)
        assert r.status_code == 200, r.text
        page = r.json()
        found.extend(page.get("objects", []))
        if who != "admin":
            assert_valid(page.get("objects", []))
        if not page.get("more"):
            return found
        params = {**params, "next": page["next"]}


def served_ids(client: TestClient, world: World, who: str, **params: str) -> set[str]:
    return {str(o["id"]) for o in served(client, world, who, **params)}


def manifest_ids(client: TestClient, world: World, who: str, **params: str) -> set[str]:
    r = get(client, world, who, "manifest/", **params)
    assert r.status_code == 200, r.text
    return {str(m["id"]) for m in r.json().get("objects", [])}


def date_added(client: TestClient, world: World, object_id: str) -> str:
    """The server's date_added of the object's latest version, as the administrator's manifest says."""
    r = get(client, world, "admin", "manifest/", **{"match[id]": object_id})
    (record,) = r.json()["objects"]
    return str(record["date_added"])


def one_object(
    client: TestClient, world: World, who: str, object_id: str, **params: str
) -> dict[str, object]:
    r = get(client, world, who, f"objects/{object_id}/", **params)
    assert r.status_code == 200, r.text
    (obj,) = r.json()["objects"]
    return dict(obj)


def same_as_absent(hidden: httpx.Response, hidden_id: str, absent: httpx.Response, absent_id: str) -> None:
    """The answer about a hidden object is the answer about a missing one, byte for byte, once the id the
    message names (if it names one) is swapped: status, media type, body and every TAXII header."""
    assert hidden.status_code == absent.status_code == 404
    assert hidden.headers["content-type"] == absent.headers["content-type"] == TAXII
    assert {k for k in hidden.headers if k.lower().startswith("x-taxii")} == set()
    assert {k for k in absent.headers if k.lower().startswith("x-taxii")} == set()
    if absent_id.encode() in absent.content:
        assert hidden_id.encode() in hidden.content
        assert hidden.content.replace(hidden_id.encode(), absent_id.encode()) == absent.content
    else:
        assert hidden.content == absent.content
    assert hidden.headers["content-length"] == absent.headers["content-length"]


def assert_hidden(client: TestClient, world: World, who: str, object_id: str) -> None:
    """`who` learns nothing of `object_id` on any read path."""
    missing = f"{object_id.split('--')[0]}--{uuid.uuid4()}"
    for tail in ("", "versions/"):
        for params in ({}, {"match[version]": "all"}):
            hidden = get(client, world, who, f"objects/{object_id}/{tail}", **params)
            absent = get(client, world, who, f"objects/{missing}/{tail}", **params)
            same_as_absent(hidden, object_id, absent, missing)
    assert object_id not in served_ids(client, world, who, **{"match[version]": "all"})
    assert object_id not in manifest_ids(client, world, who, **{"match[version]": "all"})
    r = get(client, world, who, "objects/", **{"match[id]": object_id})
    assert r.status_code == 200 and r.json() == {"more": False}
    assert {k for k in r.headers if k.lower().startswith("x-taxii")} == set()


def use_policy(node: Node, text: str, reason: str = "test") -> None:
    with node.db.write() as conn:
        policies.load(conn, "test", text, "test.yaml", reason)


def set_standing(node: Node, name: str, **changes: object) -> None:
    with node.db.write() as conn:
        partner = service.require_partner(conn, name)
        service.set_standing(conn, "test", partner, "test", **changes)  # type: ignore[arg-type]


def assert_valid(objs: list[dict[str, object]]) -> None:
    assert [(o["id"], object_error(o)) for o in objs if object_error(o) is not None] == []


# --- hidden is indistinguishable from absent -------------------------------------------------------------


def test_a_red_object_not_naming_the_caller_answers_like_a_missing_one(
    client: TestClient, world: World
) -> None:
    red = marked(malware(), RED)
    add(client, world, red)
    assert one_object(client, world, "admin", str(red["id"])) == red
    assert_hidden(client, world, "reader", str(red["id"]))


def test_listings_compute_more_after_filtering(client: TestClient, world: World) -> None:
    visible, hidden = marked(indicator("seen.example"), GREEN), marked(malware(), RED)
    add(client, world, visible)
    add(client, world, hidden)
    for path in ("objects/", "manifest/"):
        r = get(client, world, "reader", path, limit="1")
        assert r.status_code == 200, r.text
        page = r.json()
        assert [o["id"] for o in page["objects"]] == [visible["id"]]
        assert page.get("more") is False and "next" not in page
        assert r.headers["X-TAXII-Date-Added-Last"] == date_added(client, world, str(visible["id"]))


def test_paging_steps_over_hidden_objects_and_headers_never_point_at_them(
    client: TestClient, world: World
) -> None:
    first, second, third = (marked(indicator(f"p{n}.example"), GREEN) for n in range(3))
    hidden = [marked(malware(name=f"h{n}"), RED) for n in range(4)]
    add(client, world, hidden[0])
    add(client, world, first)
    add(client, world, hidden[1], hidden[2])
    add(client, world, second)
    add(client, world, hidden[3])
    add(client, world, third)
    hidden_added = {date_added(client, world, str(h["id"])) for h in hidden}
    for path in ("objects/", "manifest/"):
        params: dict[str, str] = {"limit": "1"}
        got, mores = [], []
        while True:
            r = get(client, world, "reader", path, **params)
            assert r.status_code == 200, r.text
            page = r.json()
            got.extend(o["id"] for o in page["objects"])
            mores.append(page["more"])
            first_added, last_added = (
                r.headers["X-TAXII-Date-Added-First"],
                r.headers["X-TAXII-Date-Added-Last"],
            )
            assert {first_added, last_added}.isdisjoint(hidden_added)
            assert first_added == last_added == date_added(client, world, page["objects"][0]["id"])
            if not page["more"]:
                break
            params = {"limit": "1", "next": page["next"]}
        assert got == [first["id"], second["id"], third["id"]]
        assert mores == [True, True, False]
        r = get(client, world, "reader", path, limit="2")
        assert len(r.json()["objects"]) == 2 and r.json()["more"] is True
        r = get(client, world, "reader", path, limit="3")
        assert len(r.json()["objects"]) == 3 and r.json()["more"] is False


def test_added_after_a_hidden_object_reveals_nothing(client: TestClient, world: World) -> None:
    visible, hidden = marked(indicator("before.example"), GREEN), marked(malware(), RED)
    add(client, world, visible)
    add(client, world, hidden)
    r = get(client, world, "reader", "objects/", added_after=date_added(client, world, str(visible["id"])))
    assert r.status_code == 200 and r.json() == {"more": False}
    assert {k for k in r.headers if k.lower().startswith("x-taxii")} == set()


def test_a_hidden_latest_version_answers_like_an_object_that_never_had_it(
    client: TestClient, world: World
) -> None:
    """Versions carry their own markings. A partner that may see v1 but not v2 must be answered exactly as
    if v2 did not exist: v1 is the latest it can know of, not an empty answer that betrays a newer one."""
    v1 = marked(malware(), GREEN)
    v2 = {**v1, "modified": T1, "object_marking_refs": RED}
    only_v1 = marked(malware(name="control"), GREEN)
    add(client, world, v1, v2, only_v1)
    object_id = str(v1["id"])
    added = {str(m["version"]): str(m["date_added"]) for m in versions_manifest(client, world, object_id)}
    r = get(client, world, "reader", f"objects/{object_id}/versions/", limit="1")
    assert r.status_code == 200 and r.json() == {"more": False, "versions": [T0]}
    assert r.headers["X-TAXII-Date-Added-Last"] == r.headers["X-TAXII-Date-Added-First"] == added[T0]
    assert [
        o["modified"]
        for o in served(client, world, "reader", **{"match[version]": "all"})
        if o["id"] == object_id
    ] == [T0]
    control = get(client, world, "reader", f"objects/{only_v1['id']}/")
    assert control.json() == {"more": False, "objects": [only_v1]}
    # The same request about the object whose v2 is hidden must get the same shape of answer: v1.
    hidden_latest = get(client, world, "reader", f"objects/{object_id}/")
    assert hidden_latest.json() == {"more": False, "objects": [v1]}, hidden_latest.text
    assert object_id in served_ids(client, world, "reader")
    assert object_id in manifest_ids(client, world, "reader")


def test_an_unreleased_latest_version_answers_like_an_object_that_never_had_it(
    client: TestClient, world: World, node: Node
) -> None:
    """The same, when both versions carry the same (gated) label and only v1 is released: release is per
    version, so v1 is the latest the partner may see, and `first` is the first it may see."""
    sensitive = gesher_marking("sensitive")
    v1 = marked(malware(name="gated"), [*GREEN, str(sensitive["id"])])
    v2 = {**v1, "modified": T1, "name": "gated v2"}
    v3 = {**v1, "modified": T2, "name": "gated v3"}
    add(client, world, sensitive, v1, v2, v3)
    object_id = str(v1["id"])
    with node.db.write() as conn:
        for version in (T0, T1):
            release.request(conn, "analyst:a", object_id, "partners", version=version)
        release.approve(conn, "analyst:b", object_id, "checked", version=T1)
    r = get(client, world, "reader", f"objects/{object_id}/versions/")
    assert r.json() == {"more": False, "versions": [T1]}
    assert one_object(client, world, "reader", object_id, **{"match[version]": "all"}) == v2
    latest = get(client, world, "reader", f"objects/{object_id}/")
    first = get(client, world, "reader", f"objects/{object_id}/", **{"match[version]": "first"})
    assert (latest.json(), first.json()) == ({"more": False, "objects": [v2]},) * 2
    assert object_id in served_ids(client, world, "reader")


def versions_manifest(client: TestClient, world: World, object_id: str) -> list[dict[str, object]]:
    r = get(client, world, "admin", "manifest/", **{"match[id]": object_id, "match[version]": "all"})
    return list(r.json()["objects"])


# --- relationships and sightings that point at hidden objects --------------------------------------------


def test_a_relationship_to_a_hidden_object_is_withheld_everywhere(client: TestClient, world: World) -> None:
    source = marked(indicator("src.example"), GREEN)
    hidden_target = marked(malware(), RED)
    foreign_target = f"malware--{uuid.uuid4()}"  # the exchange holds no such object
    withheld = relationship(str(source["id"]), str(hidden_target["id"]))
    kept = relationship(str(source["id"]), foreign_target)
    reverse = {**relationship(str(hidden_target["id"]), str(source["id"])), "relationship_type": "related-to"}
    add(client, world, source, hidden_target, withheld, kept, reverse)
    assert served_ids(client, world, "admin") >= {withheld["id"], kept["id"], reverse["id"]}
    for rel in (withheld, reverse):
        assert_hidden(client, world, "reader", str(rel["id"]))
    assert served_ids(client, world, "reader") == {source["id"], kept["id"]}
    assert manifest_ids(client, world, "reader") == {source["id"], kept["id"]}
    assert one_object(client, world, "reader", str(kept["id"])) == kept
    r = get(client, world, "reader", f"objects/{kept['id']}/versions/")
    assert r.json()["versions"] == [T0]
    # The withheld relationship is the last object: the page that ends on `kept` has no more.
    first = get(client, world, "reader", "objects/", limit="1").json()
    assert [o["id"] for o in first["objects"]] == [source["id"]] and first["more"] is True
    last = get(client, world, "reader", "objects/", limit="1", next=first["next"]).json()
    assert last == {"more": False, "objects": [kept]}
    assert get(client, world, "reader", "objects/", limit="2").json() == {
        "more": False,
        "objects": [source, kept],
    }


def test_a_relationship_is_withheld_while_its_target_is_hidden_and_served_once_visible(
    client: TestClient, world: World, node: Node
) -> None:
    source = marked(indicator("src.example"), GREEN)
    target = marked(malware(), AMBER)
    rel = relationship(str(source["id"]), str(target["id"]))
    add(client, world, source, target, rel)
    assert served_ids(client, world, "reader") == {source["id"], target["id"], rel["id"]}
    use_policy(
        node,
        "version: 2\nrules:\n  - {name: green, partners: [reader], max_tlp: GREEN, max_tier: offensive}\n",
    )
    assert served_ids(client, world, "reader") == {source["id"]}
    assert_hidden(client, world, "reader", str(rel["id"]))


def test_a_sighting_where_sighted_at_a_hidden_identity_is_withheld(client: TestClient, world: World) -> None:
    seen = marked(indicator("sighted.example"), GREEN)
    victim = identity("a victim", RED)
    public = identity("a public sensor")
    hidden_sighting = sighting(str(seen["id"]), [str(public["id"]), str(victim["id"])])
    visible_sighting = sighting(str(seen["id"]), [str(public["id"])])
    add(client, world, seen, victim, public, hidden_sighting, visible_sighting)
    assert served_ids(client, world, "reader") == {seen["id"], public["id"], visible_sighting["id"]}
    assert_hidden(client, world, "reader", str(hidden_sighting["id"]))
    assert_hidden(client, world, "reader", str(victim["id"]))


def test_a_sighting_of_a_hidden_object_is_withheld(client: TestClient, world: World) -> None:
    hidden = marked(indicator("secret.example"), RED)
    sensor = identity("sensor")
    s = sighting(str(hidden["id"]), [str(sensor["id"])])
    add(client, world, hidden, sensor, s)
    assert served_ids(client, world, "reader") == {sensor["id"]}
    assert_hidden(client, world, "reader", str(s["id"]))


# --- granular markings -----------------------------------------------------------------------------------


def _release(node: Node, object_id: str) -> None:
    with node.db.write() as conn:
        release.request(conn, "analyst:a", object_id, "needed by partners")
        release.approve(conn, "analyst:b", object_id, "checked")


def test_a_granular_red_description_reaches_only_the_named_partner(
    client: TestClient, world: World, node: Node
) -> None:
    """The object is sensitive (gated, released) and its gesher marking names `reader`; its description is
    granularly TLP:RED: `reader` receives it whole, `writer` without the description."""
    names_reader = gesher_marking("sensitive", recipients=["reader"])
    obj = {
        **malware(description="the operator behind it"),
        "object_marking_refs": [*GREEN, names_reader["id"]],
        "granular_markings": [{"marking_ref": c.TLP2_RED, "selectors": ["description"]}],
    }
    add(client, world, names_reader, obj)
    _release(node, str(obj["id"]))
    assert one_object(client, world, "reader", str(obj["id"])) == obj
    stripped = one_object(client, world, "writer", str(obj["id"]))
    assert stripped == {k: v for k, v in obj.items() if k not in ("description", "granular_markings")}
    assert_valid([stripped])


def test_granular_red_with_a_granular_marking_naming_the_partner_on_the_same_property(
    client: TestClient, world: World, node: Node
) -> None:
    """The property carries both TLP:RED and a gesher marking naming `reader` (two granular markings on one
    selector, STIX 2.1 section 7.2.3.1: both apply to it together). TLP:RED goes to the recipients the
    markings name, so `reader` receives the description and `writer` does not, exactly as when the same two
    markings are object markings. The object as a whole is sensitive and released, so no further approval
    is missing."""
    sensitive = gesher_marking("sensitive")
    names_reader = gesher_marking("defensive", recipients=["reader"])
    obj = {
        **malware(description="the operator behind it"),
        "object_marking_refs": [*GREEN, sensitive["id"]],
        "granular_markings": [
            {"marking_ref": c.TLP2_RED, "selectors": ["description"]},
            {"marking_ref": names_reader["id"], "selectors": ["description"]},
        ],
    }
    add(client, world, sensitive, names_reader, obj)
    _release(node, str(obj["id"]))
    stripped = one_object(client, world, "writer", str(obj["id"]))
    assert stripped == {k: v for k, v in obj.items() if k not in ("description", "granular_markings")}
    assert_valid([stripped])
    assert one_object(client, world, "reader", str(obj["id"])) == obj


def test_a_granular_marking_on_a_required_property_hides_the_whole_object(
    client: TestClient, world: World
) -> None:
    obj = {
        **marked(indicator("pattern-is-red.example"), GREEN),
        "granular_markings": [{"marking_ref": c.TLP2_RED, "selectors": ["pattern"]}],
    }
    add(client, world, obj)
    assert_hidden(client, world, "reader", str(obj["id"]))


def test_a_granular_green_property_on_an_amber_object_is_served(client: TestClient, world: World) -> None:
    obj = {
        **marked(malware(description="widely known"), AMBER),
        "granular_markings": [{"marking_ref": c.TLP2_GREEN, "selectors": ["description"]}],
    }
    add(client, world, obj)
    assert one_object(client, world, "reader", str(obj["id"])) == obj


# --- sanitisation profiles -------------------------------------------------------------------------------

SANITISING_POLICY = f"""
version: 2
defaults:
  profile: internal
profiles:
  internal:
    protected_originators: [{INTERNAL_ORIGIN}]
    drop_internal_addresses: true
    internal_domains: [corp.example.il]
rules:
  - name: readers
    partners: [reader, writer]
    max_tlp: AMBER
    max_tier: offensive
"""


def test_sanitisation_withholds_rewrites_and_redacts(client: TestClient, world: World, node: Node) -> None:
    use_policy(node, SANITISING_POLICY)
    internal_pattern = marked(
        indicator("x", pattern="[ipv4-addr:value = '10.0.0.1']", name="internal address"), GREEN
    )
    internal_domain = marked(indicator("mail.corp.example.il"), GREEN)
    described = marked(malware(description="beacons to 192.168.1.1 and 8.8.8.8"), GREEN)
    protected = marked(indicator("public.example", created_by_ref=INTERNAL_ORIGIN), GREEN)
    plain = marked(indicator("plain.example"), GREEN)
    origin = {**identity("internal team"), "id": INTERNAL_ORIGIN}
    add(client, world, origin, internal_pattern, internal_domain, described, protected, plain)
    got = {str(o["id"]): o for o in served(client, world, "reader")}
    assert set(got) == {described["id"], protected["id"], plain["id"]}
    assert got[str(described["id"])]["description"] == f"beacons to {REDACTED} and 8.8.8.8"
    assert got[str(protected["id"])]["created_by_ref"] == node.identity
    assert {k: v for k, v in got[str(protected["id"])].items() if k != "created_by_ref"} == {
        k: v for k, v in protected.items() if k != "created_by_ref"
    }
    assert got[str(plain["id"])] == plain
    assert_valid(list(got.values()))
    for withheld in (internal_pattern, internal_domain, origin):
        assert_hidden(client, world, "reader", str(withheld["id"]))
    assert one_object(client, world, "reader", str(described["id"])) == got[str(described["id"])]
    admin_view = {str(o["id"]): o for o in served(client, world, "admin")}
    assert admin_view[str(described["id"])] == described and admin_view[str(protected["id"])] == protected


def test_a_protected_originator_is_named_by_nothing_served(
    client: TestClient, world: World, node: Node
) -> None:
    """The profile protects the originator: its identity is withheld and its created_by_ref rewritten. A
    sighting or relationship naming it (where_sighted_refs, source_ref) must not hand its id out either:
    the identity is hidden from the partner, so what points at it is withheld like what points at any
    hidden object."""
    use_policy(node, SANITISING_POLICY)
    origin = {**identity("internal team"), "id": INTERNAL_ORIGIN}
    seen = marked(indicator("seen.example"), GREEN)
    by_origin = sighting(str(seen["id"]), [INTERNAL_ORIGIN])
    rel = {**relationship(INTERNAL_ORIGIN, str(seen["id"])), "relationship_type": "related-to"}
    add(client, world, origin, seen, by_origin, rel)
    assert_hidden(client, world, "reader", INTERNAL_ORIGIN)
    everything = orjson.dumps(served(client, world, "reader", **{"match[version]": "all"}))
    assert INTERNAL_ORIGIN.encode() not in everything
    assert served_ids(client, world, "reader") == {seen["id"]}


def test_a_relationship_to_an_object_withheld_by_sanitisation_reveals_nothing(
    client: TestClient, world: World, node: Node
) -> None:
    """The target is allowed by the policy but withheld whole by the profile: it is hidden, so a
    relationship pointing at it must not be served either (it would name the withheld object's id)."""
    use_policy(node, SANITISING_POLICY)
    source = marked(malware(), GREEN)
    internal = marked(indicator("x", pattern="[ipv4-addr:value = '10.1.2.3']"), GREEN)
    rel = relationship(str(internal["id"]), str(source["id"]))
    add(client, world, source, internal, rel)
    assert_hidden(client, world, "reader", str(internal["id"]))
    assert served_ids(client, world, "reader") == {source["id"]}


# --- the release gate ------------------------------------------------------------------------------------


def test_a_sensitive_object_is_served_only_after_a_second_analyst_approves(
    client: TestClient, world: World, node: Node
) -> None:
    sensitive = gesher_marking("sensitive")
    v1 = marked(malware(name="gated"), [*GREEN, str(sensitive["id"])])
    add(client, world, sensitive, v1)
    object_id = str(v1["id"])
    assert_hidden(client, world, "reader", object_id)
    with node.db.write() as conn:
        release.request(conn, "analyst:a", object_id, "partners need it")
    assert_hidden(client, world, "reader", object_id)
    with pytest.raises(Conflict, match="second analyst"), node.db.write() as conn:
        release.approve(conn, "analyst:a", object_id, "my own request")
    assert_hidden(client, world, "reader", object_id)
    with node.db.write() as conn:
        release.approve(conn, "analyst:b", object_id, "checked")
    assert one_object(client, world, "reader", object_id) == v1
    assert object_id in manifest_ids(client, world, "reader")
    with node.db.write() as conn:
        release.revoke(conn, "analyst:b", object_id, "withdrawn")
    assert_hidden(client, world, "reader", object_id)
    with node.db.write() as conn:
        release.approve(conn, "analyst:c", object_id, "released again")
    assert one_object(client, world, "reader", object_id) == v1

    v2 = {**v1, "modified": T1, "name": "gated v2"}
    add(client, world, v2)
    all_versions = served(client, world, "reader", **{"match[version]": "all"})
    assert [o for o in all_versions if o["id"] == object_id] == [v1]
    r = get(client, world, "reader", f"objects/{object_id}/versions/")
    assert r.json()["versions"] == [T0]
    with node.db.write() as conn:
        release.request(conn, "analyst:a", object_id, "v2 too")
        release.approve(conn, "analyst:b", object_id, "checked v2")
    assert one_object(client, world, "reader", object_id) == v2
    r = get(client, world, "reader", f"objects/{object_id}/versions/")
    assert r.json()["versions"] == [T0, T1]


def test_approval_without_a_request_is_refused(client: TestClient, world: World, node: Node) -> None:
    sensitive = gesher_marking("sensitive")
    obj = marked(malware(), [str(sensitive["id"])])
    add(client, world, sensitive, obj)
    with pytest.raises(Conflict, match="request it first"), node.db.write() as conn:
        release.approve(conn, "analyst:b", str(obj["id"]), "no request")
    assert_hidden(client, world, "reader", str(obj["id"]))


def test_amber_strict_naming_the_partner_is_gated_too(client: TestClient, world: World, node: Node) -> None:
    names_reader = gesher_marking("defensive", recipients=["reader"])
    obj = marked(malware(), [c.TLP2_AMBER_STRICT, str(names_reader["id"])])
    add(client, world, names_reader, obj)
    assert_hidden(client, world, "reader", str(obj["id"]))
    _release(node, str(obj["id"]))
    assert one_object(client, world, "reader", str(obj["id"])) == obj
    assert_hidden(client, world, "writer", str(obj["id"]))


# --- changes apply at the next request -------------------------------------------------------------------


def test_a_new_policy_applies_at_the_next_request(client: TestClient, world: World, node: Node) -> None:
    amber, green = marked(malware(), AMBER), marked(malware(), GREEN)
    add(client, world, amber, green)
    assert served_ids(client, world, "reader") == {amber["id"], green["id"]}
    use_policy(
        node, "version: 2\nrules:\n  - {name: g, trust_tiers: [1], max_tlp: GREEN, max_tier: defensive}\n"
    )
    assert served_ids(client, world, "reader") == {green["id"]}
    assert_hidden(client, world, "reader", str(amber["id"]))
    use_policy(
        node, "version: 3\nrules:\n  - {name: none, partners: [admin], max_tlp: GREEN, max_tier: public}\n"
    )
    assert served_ids(client, world, "reader") == set()


def test_a_tier_change_and_a_suspension_apply_at_the_next_request(
    client: TestClient, world: World, node: Node
) -> None:
    use_policy(
        node,
        "version: 2\nrules:\n  - {name: close, trust_tiers: [1, 2], max_tlp: GREEN, max_tier: defensive}\n",
    )
    green, clear = marked(malware(), GREEN), marked(malware(name="public"), [c.TLP2_CLEAR])
    public = gesher_marking("public")
    clear["object_marking_refs"] = [c.TLP2_CLEAR, public["id"]]
    add(client, world, public, green, clear)
    assert served_ids(client, world, "reader") >= {green["id"], clear["id"]}
    set_standing(node, "reader", trust_tier=3)
    assert green["id"] not in served_ids(client, world, "reader")
    assert clear["id"] in served_ids(client, world, "reader")
    set_standing(node, "reader", trust_tier=None)
    assert served_ids(client, world, "reader") == {clear["id"], public["id"]}
    set_standing(node, "reader", trust_tier=2)
    assert green["id"] in served_ids(client, world, "reader")
    set_standing(node, "reader", suspended=True)
    r = get(client, world, "reader", "objects/")
    assert r.status_code == 401, r.text
    assert r.json()["http_status"] == "401"
    set_standing(node, "reader", suspended=False)
    assert green["id"] in served_ids(client, world, "reader")


def _expiry_policy(expires: datetime) -> str:
    stamp = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"""
version: 2
rules:
  - name: tier-one-green
    trust_tiers: [1]
    max_tlp: GREEN
    max_tier: defensive
agreements:
  - name: reader-amber
    partners: [reader]
    max_tlp: AMBER
    max_tier: sensitive
    expires: {stamp}
"""


def test_an_expired_agreement_grants_nothing(client: TestClient, world: World, node: Node) -> None:
    amber = marked(malware(), AMBER)
    add(client, world, amber)
    use_policy(node, _expiry_policy(datetime.now(UTC) - timedelta(seconds=2)))
    assert_hidden(client, world, "reader", str(amber["id"]))
    use_policy(node, _expiry_policy(datetime.now(UTC) + timedelta(days=1)))
    assert one_object(client, world, "reader", str(amber["id"])) == amber


def test_an_agreement_expiring_while_served_stops_at_the_next_request(
    client: TestClient, world: World, node: Node
) -> None:
    amber = marked(malware(), AMBER)
    add(client, world, amber)
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    use_policy(node, _expiry_policy(expires))
    assert one_object(client, world, "reader", str(amber["id"])) == amber  # cached until the expiry
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.2)
    assert_hidden(client, world, "reader", str(amber["id"]))


def test_releasability_to_a_group_follows_the_policy_groups(
    client: TestClient, world: World, node: Node
) -> None:
    to_allies = gesher_marking("defensive", releasable_to=["group:allies"])
    obj = marked(malware(), [*GREEN, str(to_allies["id"])])
    add(client, world, to_allies, obj)
    for members in ("[reader]", "[writer]"):
        use_policy(
            node,
            f"version: 2\ngroups:\n  allies: {members}\n"
            "rules:\n  - {name: all, partners: [reader, writer], max_tlp: AMBER, max_tier: offensive}\n",
        )
        receiver, other = ("reader", "writer") if members == "[reader]" else ("writer", "reader")
        assert one_object(client, world, receiver, str(obj["id"])) == obj
        assert_hidden(client, world, other, str(obj["id"]))


def test_an_embargo_holds_until_it_ends(client: TestClient, world: World) -> None:
    ends = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    embargoed = gesher_marking("defensive", embargo_until=ends)
    over = gesher_marking("defensive", embargo_until=T0)
    obj, old = marked(malware(), [*GREEN, str(embargoed["id"])]), marked(malware(), [*GREEN, str(over["id"])])
    add(client, world, embargoed, over, obj, old)
    assert one_object(client, world, "reader", str(old["id"])) == old
    assert_hidden(client, world, "reader", str(obj["id"]))
    time.sleep(max(0.0, (datetime.fromisoformat(ends) - datetime.now(UTC)).total_seconds()) + 0.2)
    assert one_object(client, world, "reader", str(obj["id"])) == obj


def test_originator_control_limits_an_object_to_its_named_recipients(
    client: TestClient, world: World
) -> None:
    controlled = gesher_marking("defensive", recipients=["writer"], originator_controlled=True)
    obj = marked(malware(), [*GREEN, str(controlled["id"])])
    add(client, world, controlled, obj)
    assert one_object(client, world, "writer", str(obj["id"])) == obj
    assert_hidden(client, world, "reader", str(obj["id"]))


def test_a_label_committed_after_a_newer_one_is_still_learnt(
    client: TestClient, world: World, node: Node, db_kind: str
) -> None:
    """On PostgreSQL, writers of different collections run concurrently, so label ids can commit out of
    order: a label with a lower id becomes visible after the process has cached a higher one. Objects
    carrying it must still be served at the next request (the cache must not skip it for good). On SQLite
    writers are serialised and the same steps run one after the other. (The slow writer only labels: a
    whole ingest would also append to the ledger, whose head the second writer then waits for.)"""
    first_md = gesher_marking("defensive", releasable_to=["GB", "IE"])
    second_md = gesher_marking("defensive", releasable_to=["GB", "FR"])
    first = marked(malware(name="first"), [*GREEN, str(first_md["id"])])
    second = marked(malware(name="second"), [*GREEN, str(second_md["id"])])
    with ExitStack() as slow:
        conn = slow.enter_context(node.db.write())
        labeller = labelling.Labeller(conn)
        labeller.learn([first_md, first])
        labeller.label_id(first)
        if db_kind == "sqlite":
            slow.close()
        with node.db.write() as other:
            assert not add_objects(other, world.intel.id, [second_md, second], None).failures
        assert one_object(client, world, "reader", str(second["id"])) == second
    with node.db.write() as conn:
        assert not add_objects(conn, world.inbox.id, [first_md, first], None).failures
    r = client.get(f"{ROOT}/collections/{world.inbox.id}/objects/", headers=world.headers("reader"))
    assert {o["id"] for o in r.json().get("objects", [])} == {first_md["id"], first["id"]}


# --- markings at ingest ----------------------------------------------------------------------------------


def test_an_unknown_marking_definition_fails_the_object_and_stores_nothing(
    client: TestClient, world: World
) -> None:
    unknown = f"marking-definition--{uuid.uuid4()}"
    obj = marked(malware(), [*GREEN, unknown])
    fine = marked(malware(name="fine"), GREEN)
    status = post(client, world, "admin", world.intel.id, obj, fine)
    assert (status["success_count"], status["failure_count"]) == (1, 1)
    (failure,) = status["failures"]  # type: ignore[misc]
    assert failure["id"] == obj["id"] and unknown in failure["message"]
    assert served_ids(client, world, "admin") == {fine["id"]}
    granular = {
        **marked(malware(description="x"), GREEN),
        "granular_markings": [{"marking_ref": unknown, "selectors": ["description"]}],
    }
    status = post(client, world, "admin", world.intel.id, granular)
    assert status["failure_count"] == 1 and unknown in str(status["failures"])
    assert served_ids(client, world, "admin") == {fine["id"]}


def test_a_marking_definition_later_in_the_same_envelope_works(client: TestClient, world: World) -> None:
    names_reader = gesher_marking("defensive", recipients=["reader"], releasable_to=["GB"])
    obj = marked(malware(), [*AMBER, str(names_reader["id"])])
    status = post(client, world, "admin", world.intel.id, obj, names_reader)
    assert (status["success_count"], status["failure_count"]) == (2, 0), status
    assert one_object(client, world, "reader", str(obj["id"])) == obj


def _not_weakened(
    client: TestClient, world: World, status: dict[str, object], obj: dict[str, object]
) -> None:
    """The object was refused, or stored under the strong label: partners receive nothing unreleased."""
    failed = {f.get("id") for f in status.get("failures", [])}  # type: ignore[attr-defined]
    if obj["id"] not in failed:
        assert_hidden(client, world, "writer", str(obj["id"]))
        assert_hidden(client, world, "reader", str(obj["id"]))


def test_a_conflicting_copy_of_a_marking_definition_cannot_weaken_a_label(
    client: TestClient, world: World, node: Node
) -> None:
    strong = gesher_marking("sensitive")
    guarded = marked(malware(name="guarded"), [*GREEN, str(strong["id"])])
    add(client, world, strong, guarded)
    assert_hidden(client, world, "writer", str(guarded["id"]))
    public = {"extension_type": "property-extension", "tier": "public"}
    weak = {**strong, "extensions": {GESHER_MARKING_EXTENSION_ID: public}}
    # Into the collection holding the original: refused as a different object under the same id and version.
    status = post(client, world, "writer", world.intel.id, weak)
    assert status["failure_count"] == 1, status
    # As a "newer version" of the definition in the same collection, and into a write-only collection
    # (reported like any success there: the writer may not learn what is stored) ...
    post(client, world, "writer", world.intel.id, {**weak, "created": T1})
    post(client, world, "writer", world.inbox.id, weak)
    # ... neither the stored object's label nor new objects citing the marking are weakened.
    assert_hidden(client, world, "writer", str(guarded["id"]))
    assert_hidden(client, world, "reader", str(guarded["id"]))
    later = marked(malware(name="later"), [*GREEN, str(strong["id"])])
    _not_weakened(client, world, post(client, world, "admin", world.intel.id, later), later)
    cites_weak = marked(malware(name="with the weak copy"), [*GREEN, str(strong["id"])])
    status = post(client, world, "writer", world.intel.id, weak, cites_weak)
    _not_weakened(client, world, status, cites_weak)
    with node.db.write() as conn:
        relabelled, _ = labelling.relabel(conn)
    assert relabelled == 0
    assert_hidden(client, world, "writer", str(guarded["id"]))
    _release(node, str(guarded["id"]))
    assert one_object(client, world, "reader", str(guarded["id"])) == guarded


def test_a_partner_cannot_serve_other_partners_a_weaker_copy_of_a_marking_definition(
    client: TestClient, world: World
) -> None:
    """Marking definitions are not versioned (STIX 2.1 section 7.2.1: no `modified`); a copy under a held id
    with other content and another `created` is a conflicting copy, not a new version. Partners reading the
    collection must keep receiving the exchange's definition only: a `tier: public` copy served next to it
    (as the "latest version") tells every recipient that objects marked sensitive are public."""
    strong = gesher_marking("sensitive")
    add(client, world, strong)
    public = {"extension_type": "property-extension", "tier": "public"}
    weak = {**strong, "created": T1, "extensions": {GESHER_MARKING_EXTENSION_ID: public}}
    post(client, world, "writer", world.intel.id, weak)
    copies = [
        o for o in served(client, world, "reader", **{"match[version]": "all"}) if o["id"] == strong["id"]
    ]
    assert copies == [strong]
    assert one_object(client, world, "reader", str(strong["id"])) == strong


def test_a_marking_definition_naming_recipients_is_shown_only_to_them(
    client: TestClient, world: World
) -> None:
    """policy/labels.py, definition_label: a gesher marking that names recipients or groups is shown only to
    those it names (naming them to others would reveal who else receives what)."""
    names_reader = gesher_marking("defensive", recipients=["reader"])
    releasable_gb = gesher_marking("defensive", releasable_to=["GB"])
    releasable_de = gesher_marking("defensive", releasable_to=["DE"])
    plain = gesher_marking("sensitive")
    add(client, world, names_reader, releasable_gb, releasable_de, plain)
    assert served_ids(client, world, "reader") == {names_reader["id"], releasable_gb["id"], plain["id"]}
    assert served_ids(client, world, "writer") == {releasable_gb["id"], plain["id"]}
    assert_hidden(client, world, "writer", str(names_reader["id"]))
