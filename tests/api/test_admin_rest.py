"""The admin REST API (/admin/v1/), in process, on SQLite and PostgreSQL (issue 4).

Only administrators get in (401 with a challenge for strangers, before any body is read; 403 for other
partners); every answer, refusals included, is JSON, and an expected error is never a 500; a refused
watchlist stores nothing; and a watchlist loaded over REST cuts a listed partner off TAXII at its very next
request while the others keep working."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from gesher.exchange.node import Node
from gesher.partners import service
from gesher.screening.loaders import shipped_file
from gesher.settings import Settings
from gesher.stix import constants as c
from gesher.store import vetting as records
from tests.conftest import TAXII, World
from tests.factories import indicator

ADMIN = "/admin/v1"
JSON = "application/json"
LIMIT = 64 * 1024  # this module's max_content_length
HEADER = "id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,citation\n"
V1 = HEADER + "c-evil,Company,Vantablack Intrusion Systems Ltd,,,CY,2024-01-10,,National,Order 1\n"
V2 = V1 + "c-kestrel,Company,Kestrel Dynamics Ltd,,,GB,2025-02-01,,National,Order 2\n"
SHIPPED_BYTES = shipped_file()
NSO = "NSO Group Technologies Ltd"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=db_url, max_content_length=LIMIT)


class Admin:
    """Calls as the exchange's administrator (or as `who`)."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client, self.world = client, world

    def auth(self, who: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.tokens[who]}"}

    def call(self, method: str, path: str, who: str = "admin", **kwargs: object) -> httpx.Response:
        headers = {**self.auth(who), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.request(method, f"{ADMIN}{path}", headers=headers, **kwargs)  # type: ignore[arg-type]

    def load(self, data: bytes | str, filename: str = "national.csv", **params: str) -> httpx.Response:
        query = {"reason": "new list", "name": "national", "published": "2025-03-02", **params}
        return self.call("POST", "/watchlists", content=data, params={"filename": filename, **query})

    def loaded(self, data: bytes | str, version: str, filename: str = "national.csv") -> dict[str, object]:
        r = self.load(data, filename, version=version)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def vet(self, partner: str) -> dict[str, object]:
        r = self.call("POST", f"/partners/{partner}/vet")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def history(self, partner: str) -> list[dict[str, object]]:
        r = self.call("GET", f"/partners/{partner}/vetting")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def every_version(self) -> list[dict[str, object]]:
        return self.call("GET", "/watchlists", params={"all": "true"}).json()  # type: ignore[no-any-return]


@pytest.fixture
def admin(client: TestClient, world: World) -> Admin:
    return Admin(client, world)


def assert_error(r: httpx.Response, status: int, *words: str) -> dict[str, object]:
    """An error resource in JSON with the status and words expected (never a 500, never HTML)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == JSON
    body: dict[str, object] = r.json()
    assert body["http_status"] == str(status) and body["title"]
    for word in words:
        assert word in str(body["description"]), body
    return body


# (method, path, request arguments): one call per endpoint, valid but for the caller
ENDPOINTS = [
    ("POST", "/screen", {"json": {"name": "Kestrel Dynamics"}}),
    ("GET", "/watchlists", {}),
    ("POST", "/watchlists", {"params": {"filename": "n.csv", "reason": "r", "version": "1"}, "content": V1}),
    ("POST", "/partners/reader/vet", {}),
    ("GET", "/partners/reader/vetting", {}),
    ("POST", "/partners/reader/tier", {"json": {"tier": 1, "reason": "vetted"}}),
    ("PUT", "/partners/reader/organisation", {"json": {"legal_name": "Kestrel Dynamics Ltd"}}),
    ("POST", "/partners/reader/owners", {"json": {"name": NSO, "share": 0.5}}),
]
ENDPOINT_IDS = [f"{m} {p}" for m, p, _ in ENDPOINTS]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _nothing_changed(admin: Admin) -> None:
    assert admin.every_version() == []
    assert admin.history("reader") == []


# --- who may call -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "kwargs"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_strangers_get_401_with_a_challenge(
    admin: Admin, world: World, method: str, path: str, kwargs: dict[str, object]
) -> None:
    for authorization in (
        None,
        "Bearer not-a-token",
        _basic("reader", world.tokens["admin"]),  # the admin's token under another name
        "Basic !!!",
        "Digest whatever",
    ):
        headers = {"Authorization": authorization} if authorization else {}
        r = admin.client.request(method, f"{ADMIN}{path}", headers=headers, **kwargs)  # type: ignore[arg-type]
        assert_error(r, 401)
        assert r.headers["www-authenticate"].startswith("Basic")
    _nothing_changed(admin)


@pytest.mark.parametrize(("method", "path", "kwargs"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_partners_that_do_not_administer_the_exchange_get_403(
    admin: Admin, world: World, method: str, path: str, kwargs: dict[str, object]
) -> None:
    for who in ("reader", "writer"):
        assert_error(admin.call(method, path, who=who, **kwargs), 403, "administrators")
    basic = {"Authorization": _basic("admin", world.tokens["admin"])}
    assert admin.call("GET", "/watchlists", headers=basic).status_code == 200  # Basic works too
    _nothing_changed(admin)


def test_the_caller_is_known_before_the_body_is_read(admin: Admin) -> None:
    """A stranger's oversized upload is refused as a stranger (401), not read (413)."""
    url = f"{ADMIN}/watchlists?filename=n.csv&reason=r"
    assert_error(admin.client.post(url, content=b"x" * (LIMIT + 1)), 401)
    assert_error(admin.call("POST", "/watchlists?filename=n.csv&reason=r", content=b"x" * (LIMIT + 1)), 413)


def test_a_suspended_or_revoked_administrator_is_a_stranger(admin: Admin, node: Node) -> None:
    def standing(suspended: bool) -> None:
        with node.db.write() as conn:
            partner = service.require_partner(conn, "admin")
            service.set_standing(conn, "test", partner, "audit", suspended=suspended)

    standing(suspended=True)
    assert_error(admin.call("GET", "/watchlists"), 401)
    standing(suspended=False)
    assert admin.call("GET", "/watchlists").status_code == 200
    with node.db.write() as conn:
        service.revoke_tokens(conn, "test", service.require_partner(conn, "admin"), "rotated")
    assert_error(admin.call("GET", "/watchlists"), 401)


# --- screening --------------------------------------------------------------------------------------------


def test_screening_a_name_answers_and_records_it(admin: Admin, node: Node) -> None:
    admin.loaded(SHIPPED_BYTES, "ignored", filename="spyware_watchlist.json")
    r = admin.call("POST", "/screen", json={"name": "Intelexa SA", "country": "GR", "schema": "Company"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == JSON
    result = r.json()
    assert (result["outcome"], result["query"], result["country"]) == ("match", "Intelexa SA", "GR")
    assert result["candidates"][0]["entry_name"] == "Intellexa S.A."
    assert result["list_versions"]["spyware-fixture"]
    with node.db.read() as conn:
        (recorded,) = records.screenings_of(conn, "query")
    assert (recorded.actor, recorded.query, recorded.outcome) == ("partner:admin", "Intelexa SA", "match")
    assert recorded.lists == result["list_versions"]


def test_screening_without_a_list_is_a_conflict(admin: Admin, node: Node) -> None:
    assert_error(admin.call("POST", "/screen", json={"name": "Intelexa SA"}), 409, "no watchlist is loaded")
    with node.db.read() as conn:
        assert records.screenings_of(conn, "query") == []


BAD_SCREENS = {
    "empty name": {"name": ""},
    "blank name": {"name": "   "},
    "no letters": {"name": "!!! ---"},
    "too long": {"name": "Kestrel " * 40},
    "control characters": {"name": "Kestrel\x00Dynamics"},
    "not a string": {"name": 42},
    "no name": {"country": "GB"},
    "unknown country": {"name": "Kestrel", "country": "XX"},
    "long country": {"name": "Kestrel", "country": "GBR-and-more"},
    "unknown schema": {"name": "Kestrel", "schema": "Spaceship"},
    "unknown field": {"name": "Kestrel", "limit": 5},
    "not an object": ["Kestrel"],
}


@pytest.mark.parametrize("body", BAD_SCREENS.values(), ids=BAD_SCREENS.keys())
def test_a_bad_screening_request_is_422(admin: Admin, node: Node, body: object) -> None:
    admin.loaded(V1, "1")
    assert_error(admin.call("POST", "/screen", json=body), 422)
    with node.db.read() as conn:
        assert records.screenings_of(conn, "query") == []


def test_a_screening_body_must_be_json(admin: Admin) -> None:
    admin.loaded(V1, "1")
    assert_error(admin.call("POST", "/screen", content=b"name=Kestrel"), 422, "body")
    assert_error(admin.call("POST", "/screen", content=b""), 422, "body")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert_error(admin.call("POST", "/screen", content=b"name=Kestrel", headers=form), 415)
    assert_error(admin.call("POST", "/screen", content=b"{" * (LIMIT + 1)), 413)


# --- watchlists -------------------------------------------------------------------------------------------


def test_loading_a_list_answers_like_the_cli(admin: Admin) -> None:
    assert admin.loaded(V1, "1") == {
        "loaded": [{"name": "national", "version": "1", "entries": 1, "confidential": False}],
        "rescreened": 3,  # reader, writer, outsider (not the administrator)
        "cut_off": [],
        "review": [],
        "delisting_review": [],
        "applications_rescreened": [],  # open licence applications whose recommendation changed
    }
    shipped = admin.loaded(SHIPPED_BYTES, "ignored", filename="spyware_watchlist.json")
    assert {w["name"] for w in shipped["loaded"]} == {"spyware-fixture", "us-dos-spyware-visa-212a3c"}  # type: ignore[union-attr]


def test_lists_in_force_and_every_version(admin: Admin) -> None:
    admin.loaded(V1, "1")
    admin.loaded(V2, "2")
    r = admin.call("GET", "/watchlists")
    assert r.status_code == 200 and r.headers["content-type"] == JSON
    (in_force,) = r.json()
    assert (in_force["name"], in_force["version"], in_force["entries"]) == ("national", "2", 2)
    assert (in_force["published"], in_force["loaded_by"]) == ("2025-03-02", "partner:admin")
    assert [w["version"] for w in admin.every_version()] == ["1", "2"]
    assert_error(admin.call("GET", "/watchlists", params={"all": "maybe"}), 422, "all")


def test_a_malformed_file_is_refused_whole_with_its_position(admin: Admin) -> None:
    bad = V1 + "c-two,Company,Osprey Offensive Ltd,,,CY,2024-13-45,,National,Order 1\n"
    body = assert_error(admin.load(bad, version="1"), 422, "national.csv: line 3 (record 2)", "listed_since")
    assert body["details"] == {
        "file": "national.csv",
        "position": "line 3 (record 2)",
        "field": "listed_since",
    }
    assert_error(admin.load(HEADER.replace("name,", "nom,") + "x,Company,X\n", version="1"), 422, "line 1")
    _nothing_changed(admin)


def test_a_file_that_is_not_utf8_is_refused(admin: Admin) -> None:
    latin1 = (V1 + "c-two,Company,Société Générale Offensive,,,FR,,,,\n").encode("latin-1")
    assert_error(admin.load(latin1, version="1"), 422, "not UTF-8 text", f"byte {latin1.index(0xE9)}")
    _nothing_changed(admin)


def test_a_file_with_a_nul_byte_is_refused_with_its_line(admin: Admin) -> None:
    """Python's CSV reader accepts a NUL; PostgreSQL cannot store one (it was a 500 there)."""
    r = admin.load(V1 + "c-two,Company,Osprey\x00Offensive Ltd,,,CY,,,,\n", version="1")
    assert_error(r, 422, "national.csv: line 3", "NUL")
    _nothing_changed(admin)


def test_a_version_loads_once(admin: Admin, world: World) -> None:
    admin.loaded(V1, "1")
    before = (admin.every_version(), admin.history("reader"))
    assert_error(admin.load(V2, version="1"), 409, "version '1' is already loaded")
    assert (admin.every_version(), admin.history("reader")) == before


def test_an_oversized_file_is_413_and_stores_nothing(admin: Admin) -> None:
    big = V1 + "#" * LIMIT
    assert_error(admin.load(big, version="1"), 413, str(LIMIT))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(LIMIT // 1024 + 1):
            yield b"#" * 1024

    r = admin.call(
        "POST", "/watchlists", params={"filename": "n.csv", "reason": "r", "version": "1"}, content=chunks()
    )
    assert_error(r, 413)
    _nothing_changed(admin)


BAD_LOADS = {
    "no file name": {"filename": ""},
    "no reason": {"reason": None},
    "blank reason": {"reason": "   "},
    "reason with a NUL": {"reason": "new\x00list"},
    "not a date": {"published": "yesterday"},
    "unknown format": {"filename": "national.txt"},
    "version too long": {"version": "9" * 101},
    "list name too long": {"name": "n" * 201},
}


@pytest.mark.parametrize("change", BAD_LOADS.values(), ids=BAD_LOADS.keys())
def test_a_bad_load_request_is_422(admin: Admin, change: dict[str, str | None]) -> None:
    params = {"filename": "national.csv", "reason": "r", "name": "national", "version": "1"}
    params |= {"published": "2025-03-02"} | change
    query = {k: v for k, v in params.items() if v is not None}
    assert_error(admin.call("POST", "/watchlists", params=query, content=V1), 422)
    _nothing_changed(admin)


def test_a_list_named_too_long_inside_the_file_is_422(admin: Admin) -> None:
    file = '{"name": "%s", "version": "1", "published": "2025-01-01", "entities": []}' % ("n" * 201)
    assert_error(admin.load(file, filename="national.json"), 422, "field 'name': longer than 200")
    _nothing_changed(admin)


# --- partners ---------------------------------------------------------------------------------------------


PARTNER_ROUTES = [e for e in ENDPOINTS if "/partners/" in e[1]]


@pytest.mark.parametrize(("method", "path", "kwargs"), PARTNER_ROUTES, ids=[e[1] for e in PARTNER_ROUTES])
@pytest.mark.parametrize("name", ["nobody", "x" * 300, "re%00der", "%F0%9F%90%8D", "reader%20"])
def test_an_unknown_partner_is_404(
    admin: Admin, method: str, path: str, kwargs: dict[str, object], name: str
) -> None:
    assert_error(admin.call(method, path.replace("reader", name), **kwargs), 404, "no partner named")


def test_vetting_a_partner_records_an_assessment(admin: Admin) -> None:
    admin.loaded(V1, "1")
    v = admin.vet("reader")
    assert (v["partner"], v["blocking"], v["cut_off"]) == ("reader", False, False)
    assert v["screening"] == {"outcome": "clear", "hits": []}
    assert v["proposed_tier"] in (1, 2, 3, 4) and v["reasons"]
    (event,) = admin.history("reader")
    assert (event["action"], event["actor"], event["proposed_tier"]) == (
        "assessed",
        "partner:admin",
        v["proposed_tier"],
    )
    assert event["details"] == v and str(event["at"]).endswith("Z")


def test_the_administrator_is_not_vetted(admin: Admin) -> None:
    admin.loaded(V1, "1")
    assert_error(admin.call("POST", "/partners/admin/vet"), 400, "administers this exchange")


def test_an_officer_decides_the_tier(admin: Admin, node: Node) -> None:
    def decide(tier: int | None, reason: str = "checked") -> httpx.Response:
        return admin.call("POST", "/partners/reader/tier", json={"tier": tier, "reason": reason})

    assert_error(decide(2), 409, "not been vetted")
    admin.loaded(V1, "1")
    proposed = admin.vet("reader")["proposed_tier"]
    assert isinstance(proposed, int)

    approved = decide(proposed, "as assessed")
    assert approved.status_code == 200, approved.text
    assert (approved.json()["action"], approved.json()["tier"]) == ("approved", proposed)
    overridden = decide(4 if proposed != 4 else 3, "new partner").json()
    assert (overridden["action"], overridden["reason"], overridden["actor"]) == (
        "overridden",
        "new partner",
        "partner:admin",
    )
    assert decide(None, "paused").json()["tier"] is None

    actions = [e["action"] for e in admin.history("reader")]
    assert actions == ["assessed", "approved", "overridden", "overridden"]
    with node.db.read() as conn:
        assert service.require_partner(conn, "reader").trust_tier is None


BAD_TIERS = {
    "zero": {"tier": 0, "reason": "r"},
    "five": {"tier": 5, "reason": "r"},
    "a word": {"tier": "two", "reason": "r"},
    "a fraction": {"tier": 2.5, "reason": "r"},
    "no tier": {"reason": "r"},
    "no reason": {"tier": 2},
    "blank reason": {"tier": 2, "reason": " \t "},
    "reason too long": {"tier": 2, "reason": "r" * 2001},
}


@pytest.mark.parametrize("body", BAD_TIERS.values(), ids=BAD_TIERS.keys())
def test_a_bad_tier_decision_is_422(admin: Admin, body: dict[str, object]) -> None:
    admin.loaded(V1, "1")
    admin.vet("reader")
    assert_error(admin.call("POST", "/partners/reader/tier", json=body), 422)
    assert [e["action"] for e in admin.history("reader")] == ["assessed"]


def test_organisation_records_and_owners(admin: Admin) -> None:
    r = admin.call(
        "PUT",
        "/partners/reader/organisation",
        json={"legal_name": "Kestrel Dynamics Ltd", "aliases": ["KDL"]},
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "legal_name": "Kestrel Dynamics Ltd", "aliases": ["KDL"], "country": "GB", "kind": "government",
        "government_share": 0.0, "sectors": [],
    }  # fmt: skip
    share = admin.call("PUT", "/partners/reader/organisation", json={"government_share": 0.25}).json()
    assert (share["legal_name"], share["aliases"], share["government_share"]) == (
        "Kestrel Dynamics Ltd",
        ["KDL"],
        0.25,
    )
    owner = admin.call(
        "POST", "/partners/reader/owners", json={"name": "Harrier Holdings", "country": "gb", "share": 0.6}
    )
    assert owner.status_code == 201, owner.text
    assert (
        owner.json()["owner"]["legal_name"] == "Harrier Holdings" and owner.json()["owner"]["country"] == "GB"
    )
    admin.loaded(V1, "1")
    owners = admin.vet("reader")["owners"]
    assert owners == [{"name": "Harrier Holdings", "share": 0.6, "via": "", "outcome": "clear"}]


BAD_RECORDS = {
    "empty legal name": ("organisation", {"legal_name": ""}),
    "legal name without letters": ("organisation", {"legal_name": "--- !!!"}),
    "legal name too long": ("organisation", {"legal_name": "L" * 301}),
    "alias with a NUL": ("organisation", {"aliases": ["K\x00DL"]}),
    "aliases not a list": ("organisation", {"aliases": "KDL"}),
    "share above 1": ("organisation", {"government_share": 1.5}),
    "share not a number": ("organisation", {"government_share": "half"}),
    "unknown field": ("organisation", {"country": "FR"}),
    "owner without a name": ("owners", {"share": 0.5}),
    "owner name empty": ("owners", {"name": " "}),
    "owner name absurd": ("owners", {"name": "\u200b\u200b"}),
    "owner share negative": ("owners", {"name": "Harrier Holdings", "share": -0.1}),
    "owner country too long": ("owners", {"name": "Harrier Holdings", "country": "GBR"}),
}


@pytest.mark.parametrize(("route", "body"), BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_bad_organisation_or_owner_is_422(admin: Admin, route: str, body: dict[str, object]) -> None:
    method = "PUT" if route == "organisation" else "POST"
    assert_error(admin.call(method, f"/partners/reader/{route}", json=body), 422)
    admin.loaded(V1, "1")
    assert admin.vet("reader")["owners"] == []


def test_an_owner_country_that_is_no_iso_code_is_refused(admin: Admin) -> None:
    assert_error(
        admin.call("POST", "/partners/reader/owners", json={"name": "Harrier", "country": "XX"}), 400, "ISO"
    )


# --- cut off through TAXII ------------------------------------------------------------------------------


def _pull(client: TestClient, world: World, who: str, auth: str = "bearer") -> int:
    url = f"/taxii2/gesher/collections/{world.intel.id}/objects/"
    if auth == "basic":
        headers = {**world.headers(who), "Authorization": _basic(who, world.tokens[who])}
    else:
        headers = world.headers(who)
    return client.get(url, headers=headers).status_code


def _shared(client: TestClient, world: World) -> None:
    """One TLP:GREEN indicator in `intel`, which reader and writer may read."""
    obj = {**indicator("kestrel.example"), "object_marking_refs": [c.TLP2_GREEN]}
    headers = world.headers("writer", **{"Content-Type": TAXII})
    url = f"/taxii2/gesher/collections/{world.intel.id}/objects/"
    r = client.post(url, headers=headers, content=orjson.dumps({"objects": [obj]}))
    assert r.status_code == 202 and r.json()["success_count"] == 1, r.text
    for who in ("reader", "writer"):
        assert _pull(client, world, who) == 200


def test_a_list_loaded_over_rest_cuts_the_partner_off_taxii_at_once(admin: Admin, world: World) -> None:
    _shared(admin.client, world)
    admin.call("PUT", "/partners/reader/organisation", json={"legal_name": "Kestrel Dynamics Ltd"})
    assert admin.loaded(V1, "1")["cut_off"] == []
    assert _pull(admin.client, world, "reader") == 200

    assert admin.loaded(V2, "2")["cut_off"] == ["reader"]

    assert _pull(admin.client, world, "reader") == 401
    assert _pull(admin.client, world, "reader", auth="basic") == 401
    assert _pull(admin.client, world, "writer") == 200
    assert admin.history("reader")[-1]["action"] == "listed"


def test_a_listed_owner_found_on_vetting_cuts_the_partner_off_taxii(admin: Admin, world: World) -> None:
    _shared(admin.client, world)
    admin.loaded(SHIPPED_BYTES, "ignored", filename="spyware_watchlist.json")
    assert admin.call("POST", "/partners/reader/owners", json={"name": NSO, "share": 0.7}).status_code == 201
    assert _pull(admin.client, world, "reader") == 200  # an owner alone changes nothing until screened

    v = admin.vet("reader")

    assert v["blocking"] and v["cut_off"] and v["proposed_tier"] is None
    assert any(NSO in str(r["text"]) for r in v["reasons"])  # type: ignore[union-attr]
    assert _pull(admin.client, world, "reader") == 401
    assert _pull(admin.client, world, "writer") == 200
    assert_error(
        admin.call("POST", "/partners/reader/tier", json={"tier": 2, "reason": "r"}), 409, "hard denial"
    )


# --- error resources --------------------------------------------------------------------------------------


def test_errors_are_json_here_and_taxii_resources_on_taxii(admin: Admin, world: World) -> None:
    assert_error(admin.call("DELETE", "/watchlists"), 405)
    assert_error(admin.call("GET", "/nothing-here"), 404)
    taxii = admin.client.get("/taxii2/", headers={"Accept": "application/taxii+json;version=2.1"})
    assert taxii.status_code == 401
    assert taxii.headers["content-type"] == "application/taxii+json;version=2.1"
