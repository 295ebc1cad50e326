"""When an object's versions carry different labels, each partner's first and latest version are among the
versions it may see: a hidden version is as absent as everywhere else, never betrayed by an empty answer."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gesher.exchange.ingest import add_objects
from gesher.stix import constants as c
from tests.conftest import World
from tests.factories import indicator

ROOT = "/taxii2/gesher"
T1, T2, T3 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"


def _store(world: World, *objects: dict[str, object]) -> None:
    with world.node.db.write() as conn:
        result = add_objects(conn, world.intel.id, list(objects), None)
    assert not result.failures, result.failures


def _versions(client: TestClient, world: World, path: str, **params: str) -> tuple[int, list[str]]:
    r = client.get(
        f"{ROOT}/collections/{world.intel.id}/{path}", headers=world.headers("reader"), params=params
    )
    if r.status_code != 200:
        return r.status_code, []
    body = r.json()
    if "versions" in body:
        return 200, body["versions"]
    return 200, [o.get("modified", o.get("version")) for o in body.get("objects", [])]


def test_a_newer_red_version_is_absent_for_a_partner_not_named(client: TestClient, world: World) -> None:
    green = indicator(modified=T1, object_marking_refs=[c.TLP2_GREEN])
    oid = green["id"]
    _store(world, green, {**green, "modified": T2, "object_marking_refs": [c.TLP2_RED]})
    assert _versions(client, world, f"objects/{oid}/") == (200, [T1])  # its own latest
    assert _versions(client, world, f"objects/{oid}/", **{"match[version]": "first"}) == (200, [T1])
    assert _versions(client, world, f"objects/{oid}/", **{"match[version]": "all"}) == (200, [T1])
    assert _versions(client, world, f"objects/{oid}/versions/") == (200, [T1])
    assert _versions(client, world, "objects/", **{"match[id]": oid}) == (200, [T1])
    manifest = client.get(f"{ROOT}/collections/{world.intel.id}/manifest/", headers=world.headers("reader"))
    assert [(o["id"], o["version"]) for o in manifest.json()["objects"]] == [(oid, T1)]
    # The administrator sees the true history.
    admin = client.get(
        f"{ROOT}/collections/{world.intel.id}/objects/{oid}/versions/", headers=world.headers("admin")
    )
    assert admin.json()["versions"] == [T1, T2]


def test_an_older_red_version_is_absent_too(client: TestClient, world: World) -> None:
    red = indicator(modified=T1, object_marking_refs=[c.TLP2_RED])
    oid = red["id"]
    _store(world, red, {**red, "modified": T2, "object_marking_refs": [c.TLP2_GREEN]})
    _store(world, {**red, "modified": T3, "object_marking_refs": [c.TLP2_GREEN]})
    assert _versions(client, world, f"objects/{oid}/", **{"match[version]": "first"}) == (200, [T2])
    assert _versions(client, world, f"objects/{oid}/") == (200, [T3])
    assert _versions(client, world, f"objects/{oid}/versions/") == (200, [T2, T3])


def test_an_object_whose_every_version_is_hidden_is_a_plain_404(client: TestClient, world: World) -> None:
    red = indicator(modified=T1, object_marking_refs=[c.TLP2_RED])
    _store(world, red, {**red, "modified": T2})
    for path in (f"objects/{red['id']}/", f"objects/{red['id']}/versions/"):
        assert _versions(client, world, path) == (404, [])


def test_a_partner_cannot_learn_of_a_hidden_object_by_deleting_it(client: TestClient, world: World) -> None:
    """The writer may delete its own contributions; a hidden object of someone else is a 404, not a 403."""
    red = indicator(modified=T1, object_marking_refs=[c.TLP2_RED])
    visible = indicator(modified=T1, object_marking_refs=[c.TLP2_GREEN])
    _store(world, red, visible)
    url = f"{ROOT}/collections/{world.intel.id}/objects"
    hidden = client.delete(f"{url}/{red['id']}/", headers=world.headers("writer"))
    absent = client.delete(
        f"{url}/indicator--00000000-0000-4000-8000-000000000000/", headers=world.headers("writer")
    )
    assert hidden.status_code == absent.status_code == 404
    assert client.delete(f"{url}/{visible['id']}/", headers=world.headers("writer")).status_code == 403
