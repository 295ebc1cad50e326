"""End to end: the real `gesher` CLI prepares a store, the real `gesher serve` (uvicorn) serves it on
127.0.0.1, and the OASIS taxii2-client talks to it over HTTP, on SQLite and on PostgreSQL.

The real public data (Amnesty International spyware indicators, MITRE ATT&CK ICS and Mobile) is ingested
with `gesher ingest`; every object served comes back exactly as ingested (compared as parsed JSON) and
passes the OASIS stix2-validator (options and the one tolerated false positive: tests/e2e/stix_check.py)."""

from __future__ import annotations

import functools
import hashlib
import http.client
import importlib.metadata
import json
import multiprocessing
import os
import socket
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import orjson
import psutil
import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from gesher.stix.gesher_marking import published_objects
from gesher.store.collections import ALERTS_ID, ALERTS_NAME, DEFINITIONS_ID, DEFINITIONS_NAME
from tests.conftest import TAXII
from tests.e2e.conftest import Gesher, served
from tests.e2e.stix_check import errors_of
from tests.factories import indicator

pytestmark = pytest.mark.e2e

STIX_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix"
STIX_MEDIA_TYPE = "application/stix+json;version=2.1"
REAL, SCRATCH = "real-data", "scratch"
T1, T2, T3 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass(frozen=True)
class Exchange:
    base: str
    gesher: Gesher
    collections: dict[str, str]  # name -> id
    tokens: dict[str, str]
    report: list[dict[str, object]]
    logs: Path

    @property
    def discovery(self) -> str:
        return f"{self.base}/taxii2/"

    @property
    def root(self) -> str:
        return f"{self.base}/taxii2/gesher/"

    def basic(self, partner: str = "analyst") -> Server:
        return Server(self.discovery, user=partner, password=self.tokens[partner])

    def bearer(self, partner: str = "analyst") -> Server:
        return Server(self.discovery, auth=BearerAuth(self.tokens[partner]))

    def headers(self, partner: str = "analyst", **extra: str) -> dict[str, str]:
        return {"Accept": TAXII, "Authorization": f"Bearer {self.tokens[partner]}", **extra}


# The analyst is named (need-to-know) for everything up to AMBER at every tier; the bystander for nothing.
ANALYST_POLICY = """
version: 1
rules:
  - name: analyst
    partners: [analyst]
    max_tlp: AMBER
    max_tier: offensive
"""


@pytest.fixture(scope="module")
def exchange(e2e_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exchange]:
    """A store prepared with the CLI (init, collections, partners, grants, ingest) and served."""
    data_dir = tmp_path_factory.mktemp("gesher-e2e")
    gesher = Gesher(data_dir, e2e_db_url)
    assert "store ready" in gesher("init").stdout
    collections = {}
    for name in (REAL, SCRATCH):
        created = json.loads(
            gesher("collection", "add", name, "--json", "--description", f"{name} (e2e)").stdout
        )
        assert created["name"] == name
        collections[name] = created["id"]
    tokens = {}
    for name, country, kind in (("analyst", "GB", "isac"), ("bystander", "DE", "ngo")):
        added = json.loads(
            gesher("partner", "add", name, "--country", country, "--kind", kind, "--json").stdout
        )
        assert (added["name"], added["country"], added["kind"]) == (name, country, kind)
        tokens[name] = added["token"]
    gesher("partner", "grant", "analyst", REAL, "--read")
    gesher("partner", "grant", "analyst", SCRATCH, "--read", "--write")
    gesher("partner", "set", "analyst", "--tier", "1", "--reason", "e2e analyst")
    policy = data_dir / "policy.yaml"
    policy.write_text(ANALYST_POLICY)
    assert "in force" in gesher("policy", "load", str(policy), "--reason", "e2e").stdout
    report = json.loads(gesher("ingest", str(STIX_DATA), "--collection", REAL, "--json").stdout)
    with served(gesher, data_dir / "serve.log") as (base, _):
        yield Exchange(base, gesher, collections, tokens, report, data_dir)


def _collection(server: Server, title: str) -> Collection:
    (root,) = server.api_roots
    (found,) = [c for c in root.collections if c.title == title]
    return found


def _version(obj: dict[str, object]) -> str | None:
    found = obj.get("modified", obj.get("created"))
    return None if found is None else str(found)


@functools.cache
def _source_files() -> tuple[Path, ...]:
    return tuple(sorted(p for p in STIX_DATA.rglob("*") if p.suffix in {".json", ".stix2"}))


@functools.cache
def _source_versions() -> dict[tuple[str, str | None], dict[str, object]]:
    """Every distinct (id, version) of the real data; the data repeats a few objects identically."""
    found: dict[tuple[str, str | None], dict[str, object]] = {}
    for path in _source_files():
        for obj in json.loads(path.read_bytes())["objects"]:
            key = (obj["id"], _version(obj))
            assert found.setdefault(key, obj) == obj, f"{key} appears twice with different content"
    return found


def _all_pages(
    collection: Collection, per_request: int, method: str = "get_objects", **filters: object
) -> list[dict[str, object]]:
    fetch = getattr(collection, method)
    return [
        o for page in as_pages(fetch, per_request=per_request, **filters) for o in page.get("objects", [])
    ]


# --- the CLI ---------------------------------------------------------------------------------------------


def test_cli_ingest_report_accounts_for_every_object(exchange: Exchange) -> None:
    by_file = {Path(str(r["file"])).name: r for r in exchange.report}
    assert set(by_file) == {p.name for p in _source_files()}
    for path in _source_files():
        r = by_file[path.name]
        assert r["objects"] == len(json.loads(path.read_bytes())["objects"])
        assert r["rejected"] == 0 and r["failures"] == []
        assert r["stored"] + r["unchanged"] == r["objects"]  # type: ignore[operator]
    assert sum(int(r["stored"]) for r in exchange.report) == len(_source_versions())  # type: ignore[call-overload]


def test_cli_lists_and_refuses(exchange: Exchange) -> None:
    listed = json.loads(exchange.gesher("collection", "list", "--json").stdout)
    assert {c["name"]: c["id"] for c in listed} == exchange.collections | {
        DEFINITIONS_NAME: DEFINITIONS_ID,
        ALERTS_NAME: ALERTS_ID,
    }
    partners = {p["name"]: p for p in json.loads(exchange.gesher("partner", "list", "--json").stdout)}
    assert set(partners) == {"analyst", "bystander"} and partners["analyst"]["kind"] == "isac"
    refused = exchange.gesher("partner", "add", "analyst", "--country", "GB", "--kind", "isac", ok=False)
    assert "already exists" in refused.stderr + refused.stdout
    refused = exchange.gesher("export", "--collection", REAL, "--partner", "bystander", ok=False)
    assert "no collection" in refused.stderr + refused.stdout


def test_cli_export_is_what_the_partner_is_served(exchange: Exchange) -> None:
    bundle = orjson.loads(exchange.gesher("export", "--collection", REAL, "--partner", "analyst").stdout)
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    served_latest = _all_pages(_collection(exchange.basic(), REAL), 1000)
    key = lambda o: (o["id"], _version(o) or "")  # noqa: E731
    assert sorted(bundle["objects"], key=key) == sorted(served_latest, key=key)


# --- discovery, API root, collections --------------------------------------------------------------------


def test_discovery_and_api_root_over_basic_auth(exchange: Exchange) -> None:
    server = exchange.basic()
    assert server.title == "gesher"
    assert server.default.url == exchange.root
    (root,) = server.api_roots
    assert isinstance(root, ApiRoot) and root.url == exchange.root
    assert root.title == "gesher"
    assert root.versions == [TAXII]
    assert root.max_content_length == 10 * 1024 * 1024


def test_collections_and_their_access_over_bearer(exchange: Exchange) -> None:
    (root,) = exchange.bearer().api_roots
    found = {c.title: c for c in root.collections}
    assert set(found) == {REAL, SCRATCH, DEFINITIONS_NAME, ALERTS_NAME}
    assert (found[DEFINITIONS_NAME].can_read, found[DEFINITIONS_NAME].can_write) == (True, False)
    assert (found[REAL].can_read, found[REAL].can_write) == (True, False)
    assert (found[SCRATCH].can_read, found[SCRATCH].can_write) == (True, True)
    assert found[REAL].id == exchange.collections[REAL]
    assert found[REAL].description == f"{REAL} (e2e)"
    assert found[REAL].media_types == [STIX_MEDIA_TYPE]
    found[REAL].refresh()
    assert found[REAL].can_write is False


def test_a_partner_without_grants_sees_only_the_published_definitions(exchange: Exchange) -> None:
    (root,) = exchange.basic("bystander").api_roots
    definitions, alerts = sorted(root.collections, key=lambda c: c.id != DEFINITIONS_ID)
    assert (definitions.id, definitions.can_read, definitions.can_write) == (DEFINITIONS_ID, True, False)
    assert (alerts.id, alerts.can_read, alerts.can_write) == (ALERTS_ID, True, False)  # issue 7
    published = {o["id"]: o for o in definitions.get_objects()["objects"]}
    assert published == {o["id"]: o for o in published_objects()}  # readable by any tool, unvetted or not
    hidden_id, missing_id = exchange.collections[REAL], str(uuid.uuid4())
    hidden = requests.get(
        f"{exchange.root}collections/{hidden_id}/objects/", headers=exchange.headers("bystander")
    )
    absent = requests.get(
        f"{exchange.root}collections/{missing_id}/objects/", headers=exchange.headers("bystander")
    )
    assert hidden.status_code == absent.status_code == 404
    assert hidden.headers["content-type"] == absent.headers["content-type"] == TAXII
    assert hidden.content.replace(hidden_id.encode(), missing_id.encode()) == absent.content


# --- the real data: round trip and validity --------------------------------------------------------------

_VALIDATED: dict[bytes, list[str]] = {}  # canonical JSON of a served object -> its validator errors
_CLEAN_KEY = f"gesher/e2e/stix2-validator-{importlib.metadata.version('stix2-validator')}/clean"


def _validate(objects: list[dict[str, object]], cache: pytest.Cache | None) -> dict[str, list[str]]:
    """stix2-validator errors of every object, by id (empty when all are valid).

    The validator needs milliseconds per object, so results are remembered by the SHA-256 of the object's
    canonical JSON: within the session (the second database serves the same bytes) and, for objects found
    valid, across sessions in pytest's cache under the validator's version. A cached verdict is for exactly
    the bytes being checked; errors are never cached, so a failure is always re-examined."""
    canonical = [orjson.dumps(o, option=orjson.OPT_SORT_KEYS) for o in objects]
    clean = set(cache.get(_CLEAN_KEY, [])) if cache is not None else set()
    for c in canonical:
        if hashlib.sha256(c).hexdigest() in clean:
            _VALIDATED.setdefault(c, [])
    todo = sorted({c for c in canonical if c not in _VALIDATED})
    if todo:
        workers = max(1, min(os.cpu_count() or 1, 8))
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            for c, (errors, _) in zip(todo, pool.map(errors_of, todo, chunksize=250), strict=True):
                _VALIDATED[c] = errors
        if cache is not None:
            clean |= {hashlib.sha256(c).hexdigest() for c in todo if not _VALIDATED[c]}
            cache.set(_CLEAN_KEY, sorted(clean))
    return {str(o["id"]): _VALIDATED[c] for o, c in zip(objects, canonical, strict=True) if _VALIDATED[c]}


def test_every_version_round_trips_unchanged_and_validates(
    exchange: Exchange, pytestconfig: pytest.Config
) -> None:
    objects = _all_pages(_collection(exchange.bearer(), REAL), 1000, version="all")
    got = {(str(o["id"]), _version(o)): o for o in objects}
    assert len(got) == len(objects), "an object version was served twice"
    expected = _source_versions()
    assert got.keys() == expected.keys()
    assert [k for k, obj in expected.items() if got[k] != obj] == []
    assert _validate(objects, getattr(pytestconfig, "cache", None)) == {}


def test_latest_versions_and_manifest_agree(exchange: Exchange) -> None:
    collection = _collection(exchange.basic(), REAL)
    latest = _all_pages(collection, 1000)
    manifest = _all_pages(collection, 700, method="get_manifest")
    assert len({o["id"] for o in latest}) == len(latest) == len({k for k, _ in _source_versions()})
    assert [(m["id"], m["version"]) for m in manifest] == [
        (o["id"], _version(o) or m["version"]) for o, m in zip(latest, manifest, strict=True)
    ]
    added = [m["date_added"] for m in manifest]
    assert added == sorted(added) and len(set(added)) == len(added)
    assert {m["media_type"] for m in manifest} == {STIX_MEDIA_TYPE}
    for object_id, version in _multi_version_latest().items():
        assert next(o for o in latest if o["id"] == object_id)["modified"] == version


def _multi_version_latest() -> dict[str, str]:
    """For objects the data holds in several versions, the latest `modified` (same-precision strings)."""
    versions: dict[str, list[str]] = {}
    for object_id, version in _source_versions():
        if version is not None:
            versions.setdefault(object_id, []).append(version)
    return {
        i: max(v, key=lambda t: (t[:19], t[20:-1].ljust(9, "0"))) for i, v in versions.items() if len(v) > 1
    }


def test_object_versions_and_get_object_on_real_data(exchange: Exchange) -> None:
    collection = _collection(exchange.bearer(), REAL)
    assert _multi_version_latest(), "the real data should hold objects in several versions"
    for object_id, latest in list(_multi_version_latest().items())[:5]:
        expected = sorted(v for i, v in _source_versions() if i == object_id)
        assert sorted(collection.object_versions(object_id)["versions"]) == expected
        (obj,) = collection.get_object(object_id)["objects"]
        assert obj == _source_versions()[(object_id, latest)]
        assert len(collection.get_object(object_id, version="all")["objects"]) == len(expected)


# --- writing: add_objects, status, versions, delete ------------------------------------------------------


def test_add_objects_reports_status_and_polls(exchange: Exchange) -> None:
    server = exchange.basic()
    collection = _collection(server, SCRATCH)
    good = [indicator(f"good{n}.example") for n in range(3)]
    bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--nope"}
    status = collection.add_objects(
        {"objects": [*good, bad]}, wait_for_completion=True, poll_interval=0.1, timeout=10
    )
    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count, status.pending_count) == (
        4,
        3,
        1,
        0,
    )
    assert [f["id"] for f in status.failures] == ["indicator--nope"]
    assert {s["id"] for s in status.successes} == {o["id"] for o in good}
    status.refresh()  # GET .../status/{id} (taxii2-client leaves off the trailing slash)
    assert (status.status, status.success_count, status.failure_count) == ("complete", 3, 1)
    (root,) = server.api_roots
    polled = root.get_status(status.id)
    assert (polled.id, polled.total_count, polled.success_count) == (status.id, 4, 3)
    foreign = requests.get(f"{exchange.root}status/{status.id}/", headers=exchange.headers("bystander"))
    assert foreign.status_code == 404


def test_versions_get_and_delete(exchange: Exchange) -> None:
    collection = _collection(exchange.bearer(), SCRATCH)
    v1 = indicator("versioned.example", T1)
    v2, v3 = dict(v1, modified=T2, name="v2"), dict(v1, modified=T3, name="v3")
    assert collection.add_objects({"objects": [v1, v3, v2]}).success_count == 3
    object_id = str(v1["id"])
    assert sorted(collection.object_versions(object_id)["versions"]) == [T1, T2, T3]
    assert collection.get_object(object_id)["objects"] == [v3]
    assert collection.get_object(object_id, version="first")["objects"] == [v1]
    assert len(collection.get_object(object_id, version="all")["objects"]) == 3
    collection.delete_object(object_id)  # match[version] defaults to last
    assert sorted(collection.object_versions(object_id)["versions"]) == [T1, T2]
    assert collection.get_object(object_id)["objects"] == [v2]
    collection.delete_object(object_id, version="all")
    with pytest.raises(requests.HTTPError) as gone:
        collection.get_object(object_id)
    assert gone.value.response.status_code == 404
    assert gone.value.response.json()["http_status"] == "404"


def test_small_pages_with_filters_through_as_pages(exchange: Exchange) -> None:
    collection = _collection(exchange.basic(), SCRATCH)
    batch = [indicator(f"paged{n}.example") for n in range(25)]
    assert collection.add_objects({"objects": batch}).success_count == 25
    ids = [str(o["id"]) for o in batch]
    pages = list(as_pages(collection.get_objects, per_request=4, id=ids))
    assert [len(p.get("objects", [])) for p in pages] == [4, 4, 4, 4, 4, 4, 1]
    assert [p["more"] for p in pages] == [True] * 6 + [False]
    assert [o["id"] for p in pages for o in p["objects"]] == ids  # date_added order is the order posted
    manifest = _all_pages(collection, 6, method="get_manifest", id=ids)
    assert [m["id"] for m in manifest] == ids


# --- hostile input over real HTTP ------------------------------------------------------------------------


def _objects_url(exchange: Exchange) -> str:
    return f"{exchange.root}collections/{exchange.collections[SCRATCH]}/objects/"


def _assert_serving(exchange: Exchange) -> None:
    r = requests.get(f"{exchange.root}collections/", headers=exchange.headers(), timeout=10)
    assert r.status_code == 200 and len(r.json()["collections"]) == 4  # with gesher-definitions and alerts


def _raw_request(exchange: Exchange, payload: bytes) -> bytes:
    """Send raw bytes on a fresh connection; return what the server answers until it closes."""
    host, port = exchange.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(payload)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    return received


def _send_and_hang_up(exchange: Exchange, payload: bytes) -> None:
    host, port = exchange.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(payload)


def _scratch_count(exchange: Exchange) -> int:
    r = requests.get(
        f"{_objects_url(exchange)}", headers=exchange.headers(), params={"match[version]": "all"}
    )
    return len(r.json().get("objects", []))


def test_server_keeps_serving_after_hostile_requests(exchange: Exchange) -> None:
    before = _scratch_count(exchange)
    post_headers = exchange.headers(**{"Content-Type": TAXII})
    cases = [
        (b'{"objects": [', 400),
        (b"[" * 100_000, 400),
        (orjson.dumps({"objects": "nope"}), 400),
        (b"x" * (10 * 1024 * 1024 + 1), 413),
    ]
    for body, status in cases:
        r = requests.post(_objects_url(exchange), headers=post_headers, data=body, timeout=30)
        assert r.status_code == status and r.headers["content-type"] == TAXII, r.text
        assert r.json()["http_status"] == str(status)
        _assert_serving(exchange)
    r = requests.get(_objects_url(exchange), headers=exchange.headers(Accept="application/json"), timeout=10)
    assert r.status_code == 406
    r = requests.post(
        _objects_url(exchange), headers=exchange.headers(**{"Content-Type": "application/json"}), data=b"{}"
    )
    assert r.status_code == 415
    assert _scratch_count(exchange) == before
    _assert_serving(exchange)


def test_streamed_oversized_body_over_http_is_413(exchange: Exchange) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(12):
            yield b" " * (1024 * 1024)

    r = requests.post(
        _objects_url(exchange), headers=exchange.headers(**{"Content-Type": TAXII}), data=chunks(), timeout=30
    )
    assert r.status_code == 413 and r.json()["http_status"] == "413"
    _assert_serving(exchange)


def test_raw_protocol_abuse_over_http(exchange: Exchange) -> None:
    before = _scratch_count(exchange)
    path = _objects_url(exchange).removeprefix(exchange.base)
    auth = f"Authorization: Bearer {exchange.tokens['analyst']}\r\n".encode()
    lying = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n".encode()
        + auth
        + b"Content-Length: 12\r\n\r\n"
        + b'{"objects": [{"type": "indicator"}], "then": "more than declared"}'
    )
    answer = _raw_request(exchange, lying)
    # The 12 declared bytes are no JSON and the rest is no request: 400 (gesher's, or uvicorn's when it parses
    # the garbage first), never a 2xx, and the connection is closed.
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert b"HTTP/1.1 2" not in answer
    for garbage in (
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64),
        b"GET / HTTP/9.9\r\n\r\n",
        b"\r\n" * 10,
    ):
        _send_and_hang_up(exchange, garbage)  # whatever happens to this connection, the server survives
        _assert_serving(exchange)
    assert _scratch_count(exchange) == before


# --- several workers: stateless cursors ------------------------------------------------------------------


def _owner(server: psutil.Process, local_port: int) -> int | None:
    """The pid of the server process (supervisor or worker) holding the other end of our connection."""
    for process in [server, *server.children(recursive=True)]:
        for c in process.net_connections(kind="tcp"):
            if c.raddr and c.raddr.port == local_port and c.status == psutil.CONN_ESTABLISHED:
                return process.pid
    return None


def _connections_on_two_workers(
    server: psutil.Process, port: int, headers: dict[str, str]
) -> list[tuple[int, http.client.HTTPConnection]]:
    """Open keep-alive connections until two different worker processes each hold one."""
    on_worker: dict[int, http.client.HTTPConnection] = {}
    for _ in range(100):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/taxii2/gesher/collections/", headers=headers)
        assert conn.getresponse().read()
        owner = _owner(server, conn.sock.getsockname()[1])
        if owner is not None and owner != server.pid and owner not in on_worker:
            on_worker[owner] = conn
        else:
            conn.close()
        if len(on_worker) == 2:
            return list(on_worker.items())
    pytest.fail(f"connections never reached two workers: {sorted(on_worker)}")


def test_two_workers_page_with_each_others_next_tokens(exchange: Exchange) -> None:
    with served(exchange.gesher, exchange.logs / "serve-2-workers.log", "--workers", "2") as (base, process):
        server = psutil.Process(process.pid)
        connections = _connections_on_two_workers(server, int(base.rsplit(":", 1)[1]), exchange.headers())
        first_page = (
            f"/taxii2/gesher/collections/{exchange.collections[REAL]}/objects/?limit=500&match[version]=all"
        )
        path, pages, got = first_page, 0, []
        while True:
            pid, conn = connections[pages % 2]  # alternate workers: each continues the other's cursor
            conn.request("GET", path, headers=exchange.headers())
            response = conn.getresponse()
            page = orjson.loads(response.read())
            assert response.status == 200, page
            assert _owner(server, conn.sock.getsockname()[1]) == pid
            got.extend(page.get("objects", []))
            pages += 1
            if not page["more"]:
                break
            path = f"{first_page}&next={page['next']}"
        for _, conn in connections:
            conn.close()
    assert pages > 2
    keys = [(str(o["id"]), _version(o)) for o in got]
    assert len(keys) == len(set(keys)) == len(_source_versions())
    assert set(keys) == set(_source_versions())
