"""Resources carry exactly the properties TAXII 2.1 defines for them."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import TAXII, World
from tests.factories import indicator

ROOT = "/taxii2/gesher"


def _post(client: TestClient, world: World, *objects: dict[str, object]) -> dict[str, object]:
    headers = world.headers("writer", **{"Content-Type": TAXII})
    response = client.post(
        f"{ROOT}/collections/{world.intel.id}/objects/", headers=headers, json={"objects": list(objects)}
    )
    assert response.status_code == 202
    return dict(response.json())


def test_manifest_records_are_exactly_id_date_added_version_media_type(
    client: TestClient, world: World
) -> None:
    obj = indicator()
    _post(client, world, obj)
    manifest = client.get(
        f"{ROOT}/collections/{world.intel.id}/manifest/", headers=world.headers("reader")
    ).json()
    (record,) = manifest["objects"]
    assert set(record) == {"id", "date_added", "version", "media_type"}
    assert record["id"] == obj["id"] and record["version"] == obj["modified"]
    assert record["media_type"] == "application/stix+json;version=2.1"


def test_status_and_collection_shapes(client: TestClient, world: World) -> None:
    status = _post(client, world, indicator())
    assert set(status) == {
        "id",
        "status",
        "request_timestamp",
        "total_count",
        "success_count",
        "failure_count",
        "pending_count",
        "successes",
    }
    collection = client.get(f"{ROOT}/collections/{world.intel.id}/", headers=world.headers("reader")).json()
    assert set(collection) == {"id", "title", "description", "can_read", "can_write", "media_types"}
