"""Hostile input against the TAXII 2.1 API, in process, on SQLite and PostgreSQL.

Every bad request gets a precise TAXII error resource (title, http_status, description; media type
application/taxii+json;version=2.1), never a 500; nothing is partially stored; the server keeps serving.
What a partner may not see is indistinguishable from what does not exist (DESIGN.md section 3)."""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator

import httpx2 as httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from gesher.api.app import create_app
from gesher.api.taxii import may_hold_long_integer
from gesher.exchange.node import Node
from gesher.partners import service
from gesher.settings import Settings
from gesher.stix.timestamps import now_micros
from gesher.store import partners as partner_store
from gesher.store.collections import ALERTS_ID, DEFINITIONS_ID
from gesher.taxii.cursor import CursorCodec, CursorScope
from gesher.taxii.query import parse_query
from tests.conftest import TAXII, World
from tests.factories import indicator

ROOT = "/taxii2/gesher"
T1, T2, T3 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"
SMALL_LIMIT = 4096


# --- helpers ---------------------------------------------------------------------------------------------


def domain(value: str) -> dict[str, object]:
    """A STIX 2.1 SCO with its deterministic id (UUIDv5 over the value, STIX 2.1 section 2.9)."""
    sco_ns = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
    value_json = orjson.dumps({"value": value}).decode()
    return {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": f"domain-name--{uuid.uuid5(sco_ns, value_json)}",
        "value": value,
    }


def objects_url(collection_id: str) -> str:
    return f"{ROOT}/collections/{collection_id}/objects/"


def post(
    client: TestClient, world: World, who: str, collection_id: str, body: object, **headers: str
) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    sent = {"Content-Type": TAXII, **headers}
    return client.post(objects_url(collection_id), headers=world.headers(who, **sent), content=content)


def add(client: TestClient, world: World, who: str, collection_id: str, *objs: object) -> dict[str, object]:
    r = post(client, world, who, collection_id, {"objects": list(objs)})
    assert r.status_code == 202, r.text
    status: dict[str, object] = r.json()
    assert status["failure_count"] == 0, status
    return status


def taxii_error(r: httpx.Response, status: int) -> dict[str, object]:
    """Assert a TAXII 2.1 error resource (section 3.6.1) with this status, and return it."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body: dict[str, object] = r.json()
    assert body["http_status"] == str(status)
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["description"], str) and body["description"]
    assert set(body) <= {"title", "http_status", "description", "details", "error_id", "error_code"}
    return body


def stored(client: TestClient, world: World, collection_id: str) -> list[dict[str, object]]:
    """Every version in a collection, as the administrator reads it."""
    r = client.get(
        objects_url(collection_id), headers=world.headers("admin"), params={"match[version]": "all"}
    )
    assert r.status_code == 200, r.text
    return list(r.json().get("objects", []))


def assert_serving(client: TestClient, world: World) -> None:
    r = client.get(f"{ROOT}/collections/", headers=world.headers("reader"))
    assert r.status_code == 200
    listed = {c["id"] for c in r.json()["collections"]}
    assert listed == {world.intel.id, world.inbox.id, DEFINITIONS_ID, ALERTS_ID}
    assert client.get(objects_url(world.intel.id), headers=world.headers("reader")).status_code == 200


def same_error(a: httpx.Response, a_id: str, b: httpx.Response, b_id: str) -> None:
    """Two error responses are identical once the identifier each names is swapped for the other."""
    assert (a.status_code, a.headers["content-type"]) == (b.status_code, b.headers["content-type"])
    assert a.content.replace(a_id.encode(), b_id.encode()) == b.content


def without_accept(client: TestClient, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    request = client.build_request(method, url, headers=headers)
    del request.headers["accept"]
    return client.send(request)


@pytest.fixture
def small_client(node: Node, world: World) -> Iterator[TestClient]:
    """The same store served with max_content_length at its minimum, so 413s are cheap to provoke."""
    settings = Settings(
        data_dir=node.settings.data_dir,
        database_url=node.settings.database_url,
        max_content_length=SMALL_LIMIT,
    )
    with TestClient(create_app(settings, Node.open(settings, node.db))) as small:
        yield small


# --- request bodies --------------------------------------------------------------------------------------

MALFORMED = {
    "truncated": b'{"objects": [',
    "not json": b"objects please",
    "single quotes": b"{'objects': []}",
    "empty body": b"",
    "invalid utf-8": b'{"objects": ["\xff\xfe"]}',
    "NaN": b'{"objects": [NaN]}',
    "trailing garbage": b'{"objects": []} {"objects": []}',
    "bom": b'\xef\xbb\xbf{"objects": [{}]}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_is_400_and_stores_nothing(client: TestClient, world: World, body: bytes) -> None:
    taxii_error(post(client, world, "writer", world.intel.id, body), 400)
    assert stored(client, world, world.intel.id) == []
    assert_serving(client, world)


def test_a_number_beyond_any_float_is_valid_json_but_no_stix_object(client: TestClient, world: World) -> None:
    """Parsed exactly (never rounded to a float): the envelope is accepted and the item refused on its own."""
    response = post(client, world, "writer", world.intel.id, b'{"objects": [1' + b"0" * 400 + b"]}")
    assert response.status_code == 202
    assert response.json()["failure_count"] == 1 and response.json()["success_count"] == 0
    assert stored(client, world, world.intel.id) == []
    assert_serving(client, world)


NOT_ENVELOPES = {
    "list": [],
    "string": "objects",
    "null": None,
    "number": 42,
    "empty object": {},
    "wrong key": {"object": [indicator()]},
    "objects is an object": {"objects": {"0": indicator()}},
    "objects is a string": {"objects": "indicator"},
    "objects is null": {"objects": None},
    "bundle without objects": {"type": "bundle", "id": f"bundle--{uuid.uuid4()}"},
}


@pytest.mark.parametrize("body", NOT_ENVELOPES.values(), ids=NOT_ENVELOPES.keys())
def test_body_that_is_not_an_envelope_is_400(client: TestClient, world: World, body: object) -> None:
    taxii_error(post(client, world, "writer", world.intel.id, body), 400)
    assert stored(client, world, world.intel.id) == []
    assert_serving(client, world)


def test_empty_objects_list_is_400(client: TestClient, world: World) -> None:
    body = taxii_error(post(client, world, "writer", world.intel.id, {"objects": []}), 400)
    assert "empty" in str(body["description"])
    assert_serving(client, world)


# --- content negotiation (TAXII 2.1 section 1.6.8) --------------------------------------------------------

BAD_ACCEPT = [
    "*/*",
    "application/json",
    "application/taxii+json;version=2.0",
    "application/stix+json;version=2.1",
    "application/taxii+json;version=2.1;q=0",
    "text/html, application/xml",
    "",
]


@pytest.mark.parametrize("accept", BAD_ACCEPT)
@pytest.mark.parametrize("path", ["/taxii2/", f"{ROOT}/", f"{ROOT}/collections/"])
def test_bad_accept_is_406(client: TestClient, world: World, accept: str, path: str) -> None:
    taxii_error(client.get(path, headers=world.headers("reader", Accept=accept)), 406)


def test_missing_accept_is_406(client: TestClient, world: World) -> None:
    headers = world.headers("reader")
    del headers["Accept"]
    taxii_error(without_accept(client, "GET", objects_url(world.intel.id), headers), 406)
    r = without_accept(client, "POST", objects_url(world.intel.id), {**headers, "Content-Type": TAXII})
    taxii_error(r, 406)


@pytest.mark.parametrize("accept", ["*/*", "application/json", "application/taxii+json;version=2.0"])
def test_post_with_bad_accept_is_406_and_stores_nothing(
    client: TestClient, world: World, accept: str
) -> None:
    taxii_error(post(client, world, "writer", world.intel.id, {"objects": [indicator()]}, Accept=accept), 406)
    assert stored(client, world, world.intel.id) == []


GOOD_ACCEPT = [
    "application/taxii+json;version=2.1",
    "application/taxii+json",
    "application/taxii+json; version=2.1",
    "APPLICATION/TAXII+JSON;VERSION=2.1",
    "application/taxii+json;version=2.1;q=0.5",
    "application/json, application/taxii+json;version=2.1",
    "text/html;q=0.9, application/taxii+json;q=0.1",
    "application/taxii+json;version=2.0, application/taxii+json;version=2.1",
]


@pytest.mark.parametrize("accept", GOOD_ACCEPT)
def test_taxii_21_accept_variants_are_served(client: TestClient, world: World, accept: str) -> None:
    r = client.get(objects_url(world.intel.id), headers=world.headers("reader", Accept=accept))
    assert r.status_code == 200
    assert r.headers["content-type"] == TAXII


BAD_CONTENT_TYPE = [
    "application/json",
    "application/stix+json;version=2.1",
    "application/taxii+json;version=2.0",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
]


@pytest.mark.parametrize("content_type", BAD_CONTENT_TYPE)
def test_bad_content_type_is_415(client: TestClient, world: World, content_type: str) -> None:
    r = post(
        client, world, "writer", world.intel.id, {"objects": [indicator()]}, **{"Content-Type": content_type}
    )
    taxii_error(r, 415)
    assert stored(client, world, world.intel.id) == []
    assert_serving(client, world)


def test_missing_content_type_is_415(client: TestClient, world: World) -> None:
    body = orjson.dumps({"objects": [indicator()]})
    taxii_error(client.post(objects_url(world.intel.id), headers=world.headers("writer"), content=body), 415)
    assert stored(client, world, world.intel.id) == []


@pytest.mark.parametrize(
    "content_type",
    [
        "application/taxii+json",
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1; charset=utf-8",
    ],
)
def test_taxii_21_content_types_are_accepted(client: TestClient, world: World, content_type: str) -> None:
    r = post(
        client, world, "writer", world.intel.id, {"objects": [indicator()]}, **{"Content-Type": content_type}
    )
    assert r.status_code == 202
    assert len(stored(client, world, world.intel.id)) == 1


# --- body size (413) ------------------------------------------------------------------------------------


def _padded_envelope(size: int) -> bytes:
    """A valid one-object envelope padded with JSON whitespace to exactly `size` bytes."""
    body = orjson.dumps({"objects": [indicator()]})
    assert len(body) <= size
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_body_at_the_limit_is_accepted(small_client: TestClient, world: World) -> None:
    r = post(small_client, world, "writer", world.intel.id, _padded_envelope(SMALL_LIMIT))
    assert r.status_code == 202, r.text
    assert len(stored(small_client, world, world.intel.id)) == 1


def test_body_over_the_limit_is_413(small_client: TestClient, world: World) -> None:
    r = post(small_client, world, "writer", world.intel.id, _padded_envelope(SMALL_LIMIT + 1))
    assert str(SMALL_LIMIT) in str(taxii_error(r, 413)["description"])
    assert stored(small_client, world, world.intel.id) == []
    assert_serving(small_client, world)


def test_streamed_body_over_the_limit_is_413(small_client: TestClient, world: World) -> None:
    body = _padded_envelope(SMALL_LIMIT * 3)

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    headers = world.headers("writer", **{"Content-Type": TAXII})
    r = small_client.post(objects_url(world.intel.id), headers=headers, content=chunks())
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in r.request.headers
    taxii_error(r, 413)
    assert stored(small_client, world, world.intel.id) == []
    assert_serving(small_client, world)


def test_streamed_body_within_the_limit_is_accepted(small_client: TestClient, world: World) -> None:
    body = _padded_envelope(SMALL_LIMIT - 10)
    headers = world.headers("writer", **{"Content-Type": TAXII})
    r = small_client.post(
        objects_url(world.intel.id), headers=headers, content=iter([body[:100], body[100:]])
    )
    assert r.status_code == 202, r.text


def test_content_length_understating_the_body_is_413(small_client: TestClient, world: World) -> None:
    headers = world.headers("writer", **{"Content-Type": TAXII, "Content-Length": "100"})
    body = _padded_envelope(SMALL_LIMIT * 2)
    taxii_error(small_client.post(objects_url(world.intel.id), headers=headers, content=body), 413)
    assert stored(small_client, world, world.intel.id) == []
    assert_serving(small_client, world)


def test_content_length_over_the_limit_is_413_whatever_the_body(
    small_client: TestClient, world: World
) -> None:
    headers = world.headers("writer", **{"Content-Type": TAXII, "Content-Length": str(10**12)})
    r = small_client.post(objects_url(world.intel.id), headers=headers, content=_padded_envelope(500))
    taxii_error(r, 413)
    assert stored(small_client, world, world.intel.id) == []


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "0x10", "1 2"])
def test_non_numeric_content_length_is_400(small_client: TestClient, world: World, declared: str) -> None:
    headers = world.headers("writer", **{"Content-Type": TAXII, "Content-Length": declared})
    r = small_client.post(objects_url(world.intel.id), headers=headers, content=_padded_envelope(500))
    assert "Content-Length" in str(taxii_error(r, 400)["description"])
    assert stored(small_client, world, world.intel.id) == []
    assert_serving(small_client, world)


# --- invalid STIX objects inside a valid envelope (TAXII 2.1 section 5.5, status 4.3) ---------------------


def test_invalid_objects_are_reported_and_valid_siblings_stored(client: TestClient, world: World) -> None:
    good1, good2 = indicator("a.example"), indicator("b.example")
    no_id = {k: v for k, v in indicator().items() if k != "id"}
    bad_id = indicator(id="indicator--not-a-uuid")
    bad_time = indicator(modified="yesterday")
    wrong_type = indicator(type="malware")
    r = post(
        client,
        world,
        "writer",
        world.intel.id,
        {"objects": [good1, no_id, bad_id, 42, good2, bad_time, wrong_type]},
    )
    assert r.status_code == 202, r.text
    assert r.headers["content-type"] == TAXII
    status = r.json()
    assert (status["status"], status["total_count"], status["pending_count"]) == ("complete", 7, 0)
    assert (status["success_count"], status["failure_count"]) == (2, 5)
    assert (
        status["total_count"] == status["success_count"] + status["failure_count"] + status["pending_count"]
    )
    assert len(status["failures"]) == 5 and len(status["successes"]) == 2
    assert all(isinstance(f["message"], str) and f["message"] for f in status["failures"])
    failed_ids = {f.get("id") for f in status["failures"]}
    assert failed_ids >= {bad_id["id"], bad_time["id"], wrong_type["id"]}
    assert {s["id"] for s in status["successes"]} == {good1["id"], good2["id"]}
    assert sorted(o["id"] for o in stored(client, world, world.intel.id)) == sorted(
        [good1["id"], good2["id"]]
    )
    assert_serving(client, world)


def test_only_invalid_objects_is_still_202_with_nothing_stored(client: TestClient, world: World) -> None:
    r = post(client, world, "writer", world.intel.id, {"objects": [1, "two", [3], None, {}]})
    assert r.status_code == 202
    status = r.json()
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (5, 0, 5)
    assert "successes" not in status
    assert stored(client, world, world.intel.id) == []


def test_same_object_twice_in_one_post_is_stored_once(client: TestClient, world: World) -> None:
    obj = indicator()
    clash = dict(obj, name="same id and version, other content")
    status = post(client, world, "writer", world.intel.id, {"objects": [obj, obj, clash]}).json()
    assert (status["total_count"], status["success_count"], status["failure_count"]) == (3, 2, 1)
    assert status["failures"][0]["id"] == obj["id"]
    assert stored(client, world, world.intel.id) == [obj]


def test_status_is_pollable_by_the_poster_and_admin_only(client: TestClient, world: World) -> None:
    status = post(client, world, "writer", world.intel.id, {"objects": [indicator(), 42]}).json()
    url = f"{ROOT}/status/{status['id']}/"
    mine = client.get(url, headers=world.headers("writer"))
    assert mine.status_code == 200 and mine.headers["content-type"] == TAXII
    assert mine.json() == status
    assert client.get(url, headers=world.headers("admin")).json() == status
    unknown = str(uuid.uuid4())
    absent = client.get(f"{ROOT}/status/{unknown}/", headers=world.headers("reader"))
    taxii_error(absent, 404)
    for other in ("reader", "outsider"):
        same_error(client.get(url, headers=world.headers(other)), status["id"], absent, unknown)


@pytest.mark.parametrize("status_id", ["x" * 65, "x" * 10_000, "%2e%2e", "'; --", "%F0%9F%99%82", "%FF"])
def test_hostile_status_ids_are_404(client: TestClient, world: World, status_id: str) -> None:
    taxii_error(client.get(f"{ROOT}/status/{status_id}/", headers=world.headers("writer")), 404)
    assert_serving(client, world)


# --- numbers, depth and sizes ----------------------------------------------------------------------------


def _with_raw_property(obj: dict[str, object], raw: bytes) -> bytes:
    """The envelope of `obj` with `"x_raw": <raw>` spliced in as literal JSON text."""
    return orjson.dumps({"objects": [obj]}).replace(b'"name":', b'"x_raw":' + raw + b',"name":', 1)


@pytest.mark.parametrize(
    "raw", [b"18446744073709551616", b"-9223372036854775809", b"1" + b"0" * 30, b"18446744073709551615"]
)
def test_integer_beyond_64_bits_never_500(client: TestClient, world: World, raw: bytes) -> None:
    obj = indicator()
    r = post(client, world, "writer", world.intel.id, _with_raw_property(obj, raw))
    assert r.status_code in (202, 400), r.text
    got = client.get(f"{objects_url(world.intel.id)}{obj['id']}/", headers=world.headers("writer"))
    assert got.status_code in (200, 404)
    assert_serving(client, world)


@pytest.mark.parametrize("raw", [b"18446744073709551617", b"-9223372036854775809"])
def test_integer_beyond_64_bits_is_exact_or_rejected(client: TestClient, world: World, raw: bytes) -> None:
    obj = indicator()
    status = post(client, world, "writer", world.intel.id, _with_raw_property(obj, raw)).json()
    if status["failure_count"] == 1:
        assert status["failures"][0]["id"] == obj["id"]
        return
    got = client.get(f"{objects_url(world.intel.id)}{obj['id']}/", headers=world.headers("writer"))
    assert b'"x_raw":' + raw in got.content


def test_only_digit_runs_where_a_number_can_start_need_the_exact_parser() -> None:
    sha256 = b"{\"pattern\":\"[file:hashes.'SHA-256' = 'a77ea98a927355265288104869685a91ab3f2a62b95eb']\"}"
    assert not may_hold_long_integer(sha256)
    assert not may_hold_long_integer(b'{"name":"build_1234567890123456789012"}')
    for raw in (b"18446744073709551616", b"-9223372036854775809", b"1" + b"0" * 30):
        assert may_hold_long_integer(b'{"x_raw":' + raw + b"}")
        assert may_hold_long_integer(b'{"x_raw": [1,\n ' + raw + b"]}")


def test_largest_64_bit_integers_round_trip(client: TestClient, world: World) -> None:
    obj = indicator()
    add_raw = _with_raw_property(obj, b"[18446744073709551615,-9223372036854775808]")
    assert post(client, world, "writer", world.intel.id, add_raw).json()["success_count"] == 1
    got = client.get(f"{objects_url(world.intel.id)}{obj['id']}/", headers=world.headers("writer"))
    assert b'"x_raw":[18446744073709551615,-9223372036854775808]' in got.content


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_json_nested_beyond_the_parser_limit_is_400(client: TestClient, world: World, depth: int) -> None:
    obj = indicator()
    taxii_error(
        post(client, world, "writer", world.intel.id, _with_raw_property(obj, b"[" * depth + b"]" * depth)),
        400,
    )
    assert stored(client, world, world.intel.id) == []
    assert_serving(client, world)


@pytest.mark.parametrize("depth", [200, 1_000])
def test_deep_but_parseable_nesting_never_500(client: TestClient, world: World, depth: int) -> None:
    obj = indicator()
    nested = b'{"x_a":' * depth + b"1" + b"}" * depth
    r = post(client, world, "writer", world.intel.id, _with_raw_property(obj, nested))
    assert r.status_code in (202, 400), r.text
    if r.status_code == 202 and r.json()["success_count"] == 1:
        got = client.get(f"{objects_url(world.intel.id)}{obj['id']}/", headers=world.headers("writer"))
        assert (
            orjson.loads(got.content)["objects"][0]
            == orjson.loads(_with_raw_property(obj, nested))["objects"][0]
        )
    assert_serving(client, world)


def test_huge_string_property_within_the_limit_round_trips(client: TestClient, world: World) -> None:
    obj = indicator(description="\u2603 \x00 \ud7ff " + "x" * 200_000)
    add(client, world, "writer", world.intel.id, obj)
    got = client.get(f"{objects_url(world.intel.id)}{obj['id']}/", headers=world.headers("writer"))
    assert got.json()["objects"] == [obj]


def test_modified_with_many_fractional_digits_never_500(client: TestClient, world: World) -> None:
    long_time = "2024-01-01T00:00:00." + "1" * 80 + "Z"
    obj = indicator(created=long_time, modified=long_time, valid_from=long_time)
    r = post(client, world, "writer", world.intel.id, {"objects": [obj, indicator()]})
    assert r.status_code == 202, r.text
    assert r.json()["success_count"] == 2
    url = f"{objects_url(world.intel.id)}{obj['id']}/versions/"
    assert client.get(url, headers=world.headers("writer")).json()["versions"] == [long_time]


# --- URL filters (TAXII 2.1 section 3.4) -----------------------------------------------------------------

HOSTILE_FILTERS = {
    "huge id": {"match[id]": "indicator--" + "a" * 60_000},
    "huge type": {"match[type]": "x" * 60_000},
    "huge added_after": {"added_after": "2024" * 15_000},
    "101 ids": {"match[id]": ",".join(f"indicator--{uuid.uuid4()}" for _ in range(101))},
    "empty type value": {"match[type]": "indicator,"},
    "nul type": {"match[type]": "indicator\x00"},
    "unicode type": {"match[type]": "ïndicator"},
    "injection type": {"match[type]": "indicator' OR '1'='1"},
    "injection spec_version": {"match[spec_version]": "2.1'; DROP TABLE stix_objects; --"},
    "limit 0": {"limit": "0"},
    "limit -1": {"limit": "-1"},
    "limit abc": {"limit": "abc"},
    "limit 99999999999": {"limit": "99999999999"},
    "limit 1.5": {"limit": "1.5"},
    "limit empty": {"limit": ""},
    "two limits": {"limit": ["1", "2"]},
    "added_after yesterday": {"added_after": "yesterday"},
    "added_after month 13": {"added_after": "2024-13-01T00:00:00Z"},
    "added_after 30 February": {"added_after": "2024-02-30T00:00:00Z"},
    "added_after without zone": {"added_after": "2024-01-01T00:00:00"},
    "match[version] bogus": {"match[version]": "bogus"},
    "match[version] empty": {"match[version]": ""},
    "match[version] sql": {"match[version]": "last' OR 1=1 --"},
    "next empty": {"next": ""},
    "next huge": {"next": "A" * 5_000},
    "next not base64": {"next": "!!!***"},
    "next unicode": {"next": "\u2603\u2603\u2603"},
    "next nul": {"next": "\x00" * 40},
}


@pytest.mark.parametrize("params", HOSTILE_FILTERS.values(), ids=HOSTILE_FILTERS.keys())
@pytest.mark.parametrize("endpoint", ["objects", "manifest"])
def test_hostile_filters_are_400(
    client: TestClient, world: World, params: dict[str, object], endpoint: str
) -> None:
    url = f"{ROOT}/collections/{world.intel.id}/{endpoint}/"
    taxii_error(client.get(url, headers=world.headers("reader"), params=params), 400)  # type: ignore[arg-type]
    assert_serving(client, world)


@pytest.mark.parametrize("limit", ["\u00b2", "\u2460"])
def test_unicode_digit_limit_is_400(client: TestClient, world: World, limit: str) -> None:
    r = client.get(objects_url(world.intel.id), headers=world.headers("reader"), params={"limit": limit})
    taxii_error(r, 400)


def test_100_ids_are_accepted(client: TestClient, world: World) -> None:
    ids = [f"indicator--{uuid.uuid4()}" for _ in range(100)]
    r = client.get(
        objects_url(world.intel.id), headers=world.headers("reader"), params={"match[id]": ",".join(ids)}
    )
    assert r.status_code == 200
    assert r.json() == {"more": False}


def test_limit_above_the_page_size_is_clamped(client: TestClient, world: World) -> None:
    add(client, world, "writer", world.intel.id, *(indicator(f"{n}.example") for n in range(3)))
    r = client.get(
        objects_url(world.intel.id), headers=world.headers("reader"), params={"limit": "999999999"}
    )
    assert r.status_code == 200
    assert len(r.json()["objects"]) == 3 and r.json()["more"] is False


JUNK_SEGMENTS = [
    "%FF%FE",
    "%F0%9F%99%82",
    "..%2F..%2Fetc",
    "%2e%2e",
    "a" * 10_000,
    "%27%3B%20DROP%20TABLE%20stix_objects%3B--",
    "indicator--%E2%80%AE",
    "%25%25%25",
]


@pytest.mark.parametrize("junk", JUNK_SEGMENTS)
@pytest.mark.parametrize("who", ["reader", "admin"])
def test_junk_collection_ids_are_404(client: TestClient, world: World, junk: str, who: str) -> None:
    for tail in ("", "objects/", "manifest/", f"objects/indicator--{uuid.uuid4()}/"):
        taxii_error(client.get(f"{ROOT}/collections/{junk}/{tail}", headers=world.headers(who)), 404)
    assert_serving(client, world)


@pytest.mark.parametrize("junk", JUNK_SEGMENTS)
def test_junk_object_ids_are_404(client: TestClient, world: World, junk: str) -> None:
    add(client, world, "writer", world.intel.id, indicator())
    base = objects_url(world.intel.id)
    for url in (f"{base}{junk}/", f"{base}{junk}/versions/"):
        taxii_error(client.get(url, headers=world.headers("writer")), 404)
    taxii_error(client.delete(f"{base}{junk}/", headers=world.headers("writer")), 404)
    assert len(stored(client, world, world.intel.id)) == 1
    assert_serving(client, world)


def test_nul_in_collection_id_is_404_for_admin(client: TestClient, world: World) -> None:
    taxii_error(client.get(f"{ROOT}/collections/%00/", headers=world.headers("admin")), 404)


@pytest.mark.parametrize("tail", ["", "versions/"])
def test_nul_in_object_id_is_404(client: TestClient, world: World, tail: str) -> None:
    url = f"{objects_url(world.intel.id)}indicator--%00/{tail}"
    taxii_error(client.get(url, headers=world.headers("reader")), 404)


def test_nul_in_object_id_delete_is_404(client: TestClient, world: World) -> None:
    taxii_error(
        client.delete(f"{objects_url(world.intel.id)}indicator--%00/", headers=world.headers("writer")), 404
    )


def test_nul_in_status_id_is_404(client: TestClient, world: World) -> None:
    taxii_error(client.get(f"{ROOT}/status/%00/", headers=world.headers("reader")), 404)


def test_nul_in_collection_id_is_404_for_a_partner(client: TestClient, world: World) -> None:
    taxii_error(client.get(f"{ROOT}/collections/%00/objects/", headers=world.headers("reader")), 404)


def test_unknown_route_and_method_are_taxii_errors(client: TestClient, world: World) -> None:
    taxii_error(client.get(f"{ROOT}/nothing-here/", headers=world.headers("reader")), 404)
    r = client.put(objects_url(world.intel.id), headers=world.headers("writer"), content=b"{}")
    taxii_error(r, 405)


# --- paging tokens (`next`) ------------------------------------------------------------------------------


def _first_page(
    client: TestClient, world: World, who: str, collection_id: str, endpoint: str = "objects", **params: str
) -> tuple[str, httpx.Response]:
    url = f"{ROOT}/collections/{collection_id}/{endpoint}/"
    r = client.get(url, headers=world.headers(who), params={"limit": "2", **params})
    assert r.status_code == 200 and r.json()["more"] is True, r.text
    return str(r.json()["next"]), r


@pytest.fixture
def pages(client: TestClient, world: World) -> World:
    add(client, world, "admin", world.intel.id, *(indicator(f"i{n}.example") for n in range(5)))
    add(client, world, "admin", world.inbox.id, *(indicator(f"b{n}.example") for n in range(5)))
    return world


def _objects_page(
    client: TestClient, world: World, who: str, collection_id: str, **params: str
) -> httpx.Response:
    return client.get(objects_url(collection_id), headers=world.headers(who), params={"limit": "2", **params})


def test_a_valid_token_continues_where_the_page_ended(client: TestClient, pages: World) -> None:
    token, first = _first_page(client, pages, "reader", pages.intel.id)
    second = _objects_page(client, pages, "reader", pages.intel.id, next=token)
    assert second.status_code == 200
    ids_first = [o["id"] for o in first.json()["objects"]]
    ids_second = [o["id"] for o in second.json()["objects"]]
    assert len(ids_second) == 2 and not set(ids_first) & set(ids_second)
    assert second.headers["X-TAXII-Date-Added-First"] > first.headers["X-TAXII-Date-Added-Last"]


def _flip(token: str, at: int) -> str:
    replacement = "A" if token[at] != "A" else "B"
    return token[:at] + replacement + token[at + 1 :]


def test_tampered_tokens_are_400(client: TestClient, pages: World) -> None:
    token, _ = _first_page(client, pages, "reader", pages.intel.id)
    tampered = [_flip(token, 0), _flip(token, len(token) // 2), _flip(token, len(token) - 2)]
    tampered += [token[:-1], token[:-5], token[:10], token + "AAAA", token[::-1], token.upper()]
    for bad in tampered:
        if bad == token:
            continue
        body = taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=bad), 400)
        assert "next" in str(body["description"])
    assert_serving(client, pages)


def test_a_token_signed_with_another_key_is_400(client: TestClient, pages: World, node: Node) -> None:
    scope = CursorScope(
        pages.intel.id, "objects", _partner_id(node, "reader"), parse_query({}).filter_digest_source()
    )
    forged = CursorCodec(b"not the server key" * 2, 3600).encode(scope, 0, now_micros())
    taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=forged), 400)


def test_another_partners_token_is_400(client: TestClient, pages: World) -> None:
    token, _ = _first_page(client, pages, "writer", pages.intel.id)
    taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=token), 400)


def test_a_token_from_another_collection_is_400(client: TestClient, pages: World) -> None:
    token, _ = _first_page(client, pages, "reader", pages.inbox.id)
    taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=token), 400)


def test_a_token_from_another_endpoint_is_400(client: TestClient, pages: World) -> None:
    objects_token, _ = _first_page(client, pages, "reader", pages.intel.id)
    manifest_token, _ = _first_page(client, pages, "reader", pages.intel.id, endpoint="manifest")
    manifest = f"{ROOT}/collections/{pages.intel.id}/manifest/"
    r = client.get(manifest, headers=pages.headers("reader"), params={"limit": "2", "next": objects_token})
    taxii_error(r, 400)
    taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=manifest_token), 400)


def test_a_token_with_changed_filters_is_400(client: TestClient, pages: World) -> None:
    token, _ = _first_page(client, pages, "reader", pages.intel.id, **{"match[type]": "indicator"})
    for changed in ({}, {"match[type]": "malware"}, {"match[version]": "all"}, {"added_after": T1}):
        taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=token, **changed), 400)
    same = _objects_page(client, pages, "reader", pages.intel.id, next=token, **{"match[type]": "indicator"})
    assert same.status_code == 200


def test_a_token_with_another_limit_is_fine(client: TestClient, pages: World) -> None:
    token, _ = _first_page(client, pages, "reader", pages.intel.id)
    r = client.get(
        objects_url(pages.intel.id), headers=pages.headers("reader"), params={"limit": "10", "next": token}
    )
    assert r.status_code == 200
    assert len(r.json()["objects"]) == 3 and r.json()["more"] is False


def _partner_id(node: Node, name: str) -> int:
    with node.db.read() as conn:
        partner = partner_store.by_name(conn, name)
    assert partner is not None
    return partner.id


def test_an_expired_token_is_400(client: TestClient, pages: World, node: Node) -> None:
    scope = CursorScope(
        pages.intel.id, "objects", _partner_id(node, "reader"), parse_query({}).filter_digest_source()
    )
    ttl_us = node.settings.cursor_ttl_seconds * 1_000_000
    fresh = node.cursors.encode(scope, 0, now_micros())
    assert _objects_page(client, pages, "reader", pages.intel.id, next=fresh).status_code == 200
    stale = node.cursors.encode(scope, 0, now_micros() - ttl_us - 1_000_000)
    body = taxii_error(_objects_page(client, pages, "reader", pages.intel.id, next=stale), 400)
    assert "expired" in str(body["description"])


def test_cursor_ttl_setting_is_honoured(client: TestClient, pages: World, node: Node) -> None:
    """With cursor_ttl_seconds=5 a token issued 6 s ago is refused, a fresh one is taken (5 s of margin
    on a loaded machine); the default TTL still takes the old one."""
    settings = Settings(
        data_dir=node.settings.data_dir, database_url=node.settings.database_url, cursor_ttl_seconds=5
    )
    short = Node.open(settings, node.db)
    scope = CursorScope(
        pages.intel.id, "objects", _partner_id(node, "reader"), parse_query({}).filter_digest_source()
    )
    issued = now_micros() - 6_000_000
    with TestClient(create_app(settings, short)) as short_client:
        token, _ = _first_page(short_client, pages, "reader", pages.intel.id)
        assert _objects_page(short_client, pages, "reader", pages.intel.id, next=token).status_code == 200
        stale = short.cursors.encode(scope, 0, issued)
        body = taxii_error(_objects_page(short_client, pages, "reader", pages.intel.id, next=stale), 400)
        assert "expired" in str(body["description"])
    same_age = node.cursors.encode(scope, 0, issued)
    assert _objects_page(client, pages, "reader", pages.intel.id, next=same_age).status_code == 200


# --- credentials (HTTP Basic is the TAXII 2.1 baseline, section 1.6.6) ------------------------------------


def _basic(user: str | bytes, password: str | bytes) -> str:
    raw = (
        (user.encode() if isinstance(user, str) else user)
        + b":"
        + (password.encode() if isinstance(password, str) else password)
    )
    return "Basic " + base64.b64encode(raw).decode()


def _bad_credentials(world: World) -> dict[str, str | None]:
    token = world.tokens["reader"]
    return {
        "none": None,
        "blank": "   ",
        "digest scheme": f'Digest username="reader", response="{token}"',
        "scheme only": "Basic",
        "malformed base64": "Basic !!!not-base64!!!",
        "base64 without colon": "Basic " + base64.b64encode(b"reader").decode(),
        "non-utf8 basic": _basic(b"\xff\xfe", token),
        "right token, wrong user": _basic("writer", token),
        "right token, unknown user": _basic("nobody", token),
        "right user, no password": _basic("reader", ""),
        "unknown token": f"Bearer gsh_{'0' * 43}",
        "empty bearer": "Bearer ",
        "huge bearer": "Bearer " + "x" * 20_000,
        "token scheme, unknown": "Token nope",
        "bearer with basic payload": "Bearer " + base64.b64encode(f"reader:{token}".encode()).decode(),
    }


def _auth_headers(header: str | None) -> dict[str, str]:
    headers = {"Accept": TAXII}
    if header is not None:
        headers["Authorization"] = header
    return headers


def assert_unauthenticated(r: httpx.Response) -> None:
    taxii_error(r, 401)
    assert r.headers["www-authenticate"].startswith("Basic ")


@pytest.mark.parametrize(
    "case",
    [
        "none", "blank", "digest scheme", "scheme only", "malformed base64", "base64 without colon",
        "non-utf8 basic", "right token, wrong user", "right token, unknown user", "right user, no password",
        "unknown token", "empty bearer", "huge bearer", "token scheme, unknown", "bearer with basic payload",
    ],
)  # fmt: skip
def test_bad_credentials_are_401(client: TestClient, world: World, case: str) -> None:
    headers = _auth_headers(_bad_credentials(world)[case])
    for path in ("/taxii2/", f"{ROOT}/collections/", f"{objects_url(world.intel.id)}", f"{ROOT}/status/x/"):
        assert_unauthenticated(client.get(path, headers=headers))
    assert_unauthenticated(
        client.delete(f"{objects_url(world.intel.id)}indicator--{uuid.uuid4()}/", headers=headers)
    )
    assert_serving(client, world)


def test_unauthenticated_callers_learn_nothing_about_collections(client: TestClient, world: World) -> None:
    unknown = str(uuid.uuid4())
    secret = client.get(f"{ROOT}/collections/{world.secret.id}/", headers=_auth_headers(None))
    absent = client.get(f"{ROOT}/collections/{unknown}/", headers=_auth_headers(None))
    assert_unauthenticated(secret)
    assert secret.content == absent.content


@pytest.mark.parametrize("body", [b"{not json", b'{"objects": []}'])
def test_anonymous_post_is_401_before_the_body_is_judged(
    client: TestClient, world: World, body: bytes
) -> None:
    headers = {"Accept": TAXII, "Content-Type": TAXII}
    assert_unauthenticated(client.post(objects_url(world.intel.id), headers=headers, content=body))


def test_valid_credentials_in_every_accepted_form(client: TestClient, world: World) -> None:
    token = world.tokens["reader"]
    for header in (
        _basic("reader", token),
        f"Bearer {token}",
        f"bearer {token}",
        f"Token {token}",
        f"  Bearer   {token}  ",
    ):
        r = client.get(f"{ROOT}/collections/", headers=_auth_headers(header))
        assert r.status_code == 200, header
    assert (
        client.get(f"{ROOT}/collections/", auth=world.auth("reader"), headers={"Accept": TAXII}).status_code
        == 200
    )


def test_revoked_tokens_are_401_and_new_ones_work(client: TestClient, world: World, node: Node) -> None:
    old = world.tokens["reader"]
    with node.db.write() as conn:
        partner = service.require_partner(conn, "reader")
        assert service.revoke_tokens(conn, "test", partner, "compromised") == 1
        fresh = service.issue_token(conn, "test", partner)
    for header in (f"Bearer {old}", _basic("reader", old)):
        assert_unauthenticated(client.get(f"{ROOT}/collections/", headers=_auth_headers(header)))
    assert client.get(f"{ROOT}/collections/", headers=_auth_headers(f"Bearer {fresh}")).status_code == 200


# --- isolation: hidden is indistinguishable from absent (DESIGN.md section 3) -----------------------------


@pytest.fixture
def secret_object(client: TestClient, world: World) -> dict[str, object]:
    obj = indicator("hidden.example")
    add(client, world, "admin", world.secret.id, obj)
    return obj


def _requests_on(collection_id: str, object_id: str) -> list[tuple[str, str, bytes | None]]:
    base = f"{ROOT}/collections/{collection_id}/"
    envelope = orjson.dumps({"objects": [indicator("planted.example")]})
    return [
        ("GET", base, None),
        ("GET", f"{base}objects/", None),
        ("GET", f"{base}manifest/", None),
        ("GET", f"{base}objects/{object_id}/", None),
        ("GET", f"{base}objects/{object_id}/versions/", None),
        ("POST", f"{base}objects/", envelope),
        ("DELETE", f"{base}objects/{object_id}/", None),
    ]


@pytest.mark.parametrize("who", ["outsider", "reader", "writer"])
def test_hidden_collection_answers_exactly_like_a_missing_one(
    client: TestClient, world: World, secret_object: dict[str, object], who: str
) -> None:
    missing = str(uuid.uuid4())
    object_id = str(secret_object["id"])
    headers = world.headers(who, **{"Content-Type": TAXII})
    hidden_requests = _requests_on(world.secret.id, object_id)
    missing_requests = _requests_on(missing, object_id)
    for (method, hidden_url, body), (_, missing_url, _) in zip(
        hidden_requests, missing_requests, strict=True
    ):
        hidden = client.request(method, hidden_url, headers=headers, content=body)
        absent = client.request(method, missing_url, headers=headers, content=body)
        taxii_error(absent, 404)
        same_error(hidden, world.secret.id, absent, missing)
        assert {k for k in hidden.headers if k.lower().startswith("x-taxii")} == set()
    assert stored(client, world, world.secret.id) == [secret_object]


def test_collection_lists_omit_collections_without_a_grant(client: TestClient, world: World) -> None:
    def listed(who: str) -> dict[str, tuple[bool, bool]]:
        r = client.get(f"{ROOT}/collections/", headers=world.headers(who))
        assert r.status_code == 200
        return {c["id"]: (c["can_read"], c["can_write"]) for c in r.json().get("collections", [])}

    # every partner reads what the exchange publishes: its definitions and its early-warning alerts
    definitions = {DEFINITIONS_ID: (True, False), ALERTS_ID: (True, False)}
    assert listed("outsider") == definitions
    assert listed("reader") == {world.intel.id: (True, False), world.inbox.id: (True, True)} | definitions
    assert listed("writer") == {world.intel.id: (True, True), world.inbox.id: (False, True)} | definitions
    everything = (world.intel.id, world.secret.id, world.inbox.id, DEFINITIONS_ID, ALERTS_ID)
    assert listed("admin") == {cid: (True, True) for cid in everything}


def test_reader_cannot_post_but_can_read(client: TestClient, world: World) -> None:
    add(client, world, "writer", world.intel.id, indicator())
    taxii_error(post(client, world, "reader", world.intel.id, {"objects": [indicator()]}), 403)
    assert len(stored(client, world, world.intel.id)) == 1
    r = client.get(objects_url(world.intel.id), headers=world.headers("reader"))
    assert r.status_code == 200 and len(r.json()["objects"]) == 1


def test_write_only_partner_cannot_read(client: TestClient, world: World) -> None:
    mine = indicator()
    add(client, world, "writer", world.inbox.id, mine)
    info = client.get(f"{ROOT}/collections/{world.inbox.id}/", headers=world.headers("writer")).json()
    assert (info["can_read"], info["can_write"]) == (False, True)
    base = f"{ROOT}/collections/{world.inbox.id}/"
    for url in (
        f"{base}objects/",
        f"{base}manifest/",
        f"{base}objects/{mine['id']}/",
        f"{base}objects/{mine['id']}/versions/",
    ):
        taxii_error(client.get(url, headers=world.headers("writer")), 403)


def test_write_only_delete_of_anothers_object_is_the_404_of_a_missing_one(
    client: TestClient, world: World
) -> None:
    theirs = indicator("reader-only.example")
    add(client, world, "reader", world.inbox.id, theirs)
    missing = f"indicator--{uuid.uuid4()}"
    base = objects_url(world.inbox.id)
    hidden = client.delete(f"{base}{theirs['id']}/", headers=world.headers("writer"))
    absent = client.delete(f"{base}{missing}/", headers=world.headers("writer"))
    taxii_error(absent, 404)
    same_error(hidden, str(theirs["id"]), absent, missing)
    for params in ({"match[version]": "all"}, {"match[version]": "first"}, {"match[version]": T1}):
        hidden = client.delete(f"{base}{theirs['id']}/", headers=world.headers("writer"), params=params)
        same_error(hidden, str(theirs["id"]), absent, missing)
    assert stored(client, world, world.inbox.id) == [theirs]


def test_write_only_partner_deletes_its_own_object(client: TestClient, world: World) -> None:
    mine = indicator()
    add(client, world, "writer", world.inbox.id, mine)
    r = client.delete(f"{objects_url(world.inbox.id)}{mine['id']}/", headers=world.headers("writer"))
    assert r.status_code == 200
    assert stored(client, world, world.inbox.id) == []


def test_partners_delete_only_versions_they_contributed(client: TestClient, world: World) -> None:
    admins, writers = indicator("admin.example"), indicator("writer.example")
    add(client, world, "admin", world.intel.id, admins)
    add(client, world, "writer", world.intel.id, writers)
    base = objects_url(world.intel.id)
    taxii_error(client.delete(f"{base}{admins['id']}/", headers=world.headers("writer")), 403)
    taxii_error(client.delete(f"{base}{writers['id']}/", headers=world.headers("reader")), 403)
    assert len(stored(client, world, world.intel.id)) == 2
    assert client.delete(f"{base}{writers['id']}/", headers=world.headers("writer")).status_code == 200
    assert stored(client, world, world.intel.id) == [admins]


def test_partner_cannot_delete_a_mixed_object_but_admin_can(client: TestClient, world: World) -> None:
    v1 = indicator(modified=T1)
    v2 = dict(v1, modified=T2, name="update by admin")
    add(client, world, "writer", world.intel.id, v1)
    add(client, world, "admin", world.intel.id, v2)
    url = f"{objects_url(world.intel.id)}{v1['id']}/"
    taxii_error(client.delete(url, headers=world.headers("writer"), params={"match[version]": "all"}), 403)
    assert (
        client.delete(url, headers=world.headers("writer"), params={"match[version]": "first"}).status_code
        == 200
    )
    assert stored(client, world, world.intel.id) == [v2]
    assert client.delete(url, headers=world.headers("admin")).status_code == 200
    assert stored(client, world, world.intel.id) == []


def test_write_only_post_does_not_reveal_an_existing_object(client: TestClient, world: World) -> None:
    theirs = indicator("reader-only.example")
    add(client, world, "reader", world.inbox.id, theirs)
    probe = dict(theirs, name="guess")
    fresh = indicator("fresh.example")
    seen = post(client, world, "writer", world.inbox.id, {"objects": [probe]}).json()
    unseen = post(client, world, "writer", world.inbox.id, {"objects": [fresh]}).json()
    assert (seen["success_count"], seen["failure_count"]) == (
        unseen["success_count"],
        unseen["failure_count"],
    )


def test_write_only_post_does_not_reveal_an_existing_sco(client: TestClient, world: World) -> None:
    add(client, world, "reader", world.inbox.id, domain("known.example"))
    seen = post(client, world, "writer", world.inbox.id, {"objects": [domain("known.example")]}).json()
    unseen = post(client, world, "writer", world.inbox.id, {"objects": [domain("fresh.example")]}).json()
    assert set(seen["successes"][0]) == set(unseen["successes"][0])


# --- DELETE semantics (TAXII 2.1 section 5.7) ------------------------------------------------------------


def _versions(client: TestClient, world: World, object_id: str) -> list[str]:
    r = client.get(f"{objects_url(world.intel.id)}{object_id}/versions/", headers=world.headers("writer"))
    assert r.status_code == 200, r.text
    return list(r.json()["versions"])


def _served_version(client: TestClient, world: World, object_id: str, which: str | None = None) -> str:
    params = {"match[version]": which} if which else {}
    r = client.get(
        f"{objects_url(world.intel.id)}{object_id}/", headers=world.headers("writer"), params=params
    )
    assert r.status_code == 200, r.text
    (obj,) = r.json()["objects"]
    return str(obj["modified"])


@pytest.fixture
def three_versions(client: TestClient, world: World) -> str:
    """One object in three versions, posted out of order: flags follow `modified`, not arrival."""
    v1 = indicator(modified=T1)
    v2, v3 = dict(v1, modified=T2, name="v2"), dict(v1, modified=T3, name="v3")
    add(client, world, "writer", world.intel.id, v2, v3, v1)
    assert _versions(client, world, str(v1["id"])) == [T2, T3, T1]  # date_added order
    return str(v1["id"])


def test_delete_defaults_to_the_last_version_and_repairs_the_flags(
    client: TestClient, world: World, three_versions: str
) -> None:
    url = f"{objects_url(world.intel.id)}{three_versions}/"
    assert client.delete(url, headers=world.headers("writer")).status_code == 200
    assert sorted(_versions(client, world, three_versions)) == [T1, T2]
    assert _served_version(client, world, three_versions) == T2
    assert _served_version(client, world, three_versions, "last") == T2
    assert _served_version(client, world, three_versions, "first") == T1
    manifest = client.get(
        f"{ROOT}/collections/{world.intel.id}/manifest/", headers=world.headers("writer")
    ).json()
    assert [(m["id"], m["version"]) for m in manifest["objects"]] == [(three_versions, T2)]


def test_delete_first_repairs_the_first_flag(client: TestClient, world: World, three_versions: str) -> None:
    url = f"{objects_url(world.intel.id)}{three_versions}/"
    r = client.delete(url, headers=world.headers("writer"), params={"match[version]": "first"})
    assert r.status_code == 200
    assert sorted(_versions(client, world, three_versions)) == [T2, T3]
    assert _served_version(client, world, three_versions, "first") == T2
    assert _served_version(client, world, three_versions) == T3


def test_delete_a_middle_version_by_timestamp(client: TestClient, world: World, three_versions: str) -> None:
    url = f"{objects_url(world.intel.id)}{three_versions}/"
    same_instant = "2024-02-01T00:00:00Z"  # T2 written with other precision is the same version
    assert (
        client.delete(
            url, headers=world.headers("writer"), params={"match[version]": same_instant}
        ).status_code
        == 200
    )
    assert sorted(_versions(client, world, three_versions)) == [T1, T3]
    assert (
        _served_version(client, world, three_versions, "first"),
        _served_version(client, world, three_versions),
    ) == (T1, T3)


def test_delete_all_then_everything_is_404(client: TestClient, world: World, three_versions: str) -> None:
    url = f"{objects_url(world.intel.id)}{three_versions}/"
    assert (
        client.delete(url, headers=world.headers("writer"), params={"match[version]": "all"}).status_code
        == 200
    )
    taxii_error(client.get(url, headers=world.headers("writer")), 404)
    taxii_error(client.get(f"{url}versions/", headers=world.headers("writer")), 404)
    taxii_error(client.delete(url, headers=world.headers("writer")), 404)
    assert stored(client, world, world.intel.id) == []


def test_delete_down_to_one_version_leaves_it_first_and_last(
    client: TestClient, world: World, three_versions: str
) -> None:
    url = f"{objects_url(world.intel.id)}{three_versions}/"
    client.delete(url, headers=world.headers("writer"))
    client.delete(url, headers=world.headers("writer"))
    assert _versions(client, world, three_versions) == [T1]
    assert (
        _served_version(client, world, three_versions, "first")
        == _served_version(client, world, three_versions)
        == T1
    )


def test_delete_of_a_version_that_is_not_there_is_404(
    client: TestClient, world: World, three_versions: str
) -> None:
    url = f"{objects_url(world.intel.id)}{three_versions}/"
    taxii_error(
        client.delete(
            url, headers=world.headers("writer"), params={"match[version]": "2030-01-01T00:00:00Z"}
        ),
        404,
    )
    assert len(_versions(client, world, three_versions)) == 3


# --- concurrency ------------------------------------------------------------------------------------------


def test_concurrent_posts_keep_date_added_unique_and_paging_exact(client: TestClient, world: World) -> None:
    batches, per_batch, threads = 4, 25, 2
    barrier = threading.Barrier(threads)
    results: list[int] = []
    errors: list[BaseException] = []
    posted: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for b in range(batches):
                objs = [indicator(f"t{n}-b{b}-o{i}.example") for i in range(per_batch)]
                with lock:
                    posted.extend(str(o["id"]) for o in objs)
                r = post(client, world, "writer", world.intel.id, {"objects": objs})
                results.append(r.status_code if r.status_code != 202 else r.json()["success_count"])
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    running = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join(timeout=120)
    assert not errors
    assert results == [per_batch] * (batches * threads)

    seen: list[tuple[str, str]] = []
    params: dict[str, str] = {"limit": "7"}
    while True:
        r = client.get(
            f"{ROOT}/collections/{world.intel.id}/manifest/", headers=world.headers("reader"), params=params
        )
        assert r.status_code == 200
        page = r.json()
        records = page.get("objects", [])
        seen.extend((m["id"], m["date_added"]) for m in records)
        if records:
            assert r.headers["X-TAXII-Date-Added-First"] == records[0]["date_added"]
            assert r.headers["X-TAXII-Date-Added-Last"] == records[-1]["date_added"]
        if not page["more"]:
            break
        params = {"limit": "7", "next": page["next"]}
    ids = [i for i, _ in seen]
    added = [d for _, d in seen]
    assert sorted(ids) == sorted(posted)
    assert len(set(added)) == len(added) == batches * threads * per_batch
    assert added == sorted(added)
