"""Helpers for the licensing REST API tests: accounts with their licensing roles, calls as one of them, and
issue 5's workflow walked over REST (an offensive item, its gates, a marketing and an export licence)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from gesher.api.app import create_app
from gesher.exchange.node import Node
from gesher.licensing_service import roles
from gesher.partners import service
from gesher.store import tables
from tests.licensing_service.helpers import snapshot

BASE = "/licensing/v1"
JSON = "application/json"
KESTREL = "Kestrel Cyber Ltd"
OSPREY = "Osprey Systems"
AGENCY = "DECA"
ITEM = "Harrier delivery platform"
END_USER = "UK National Crime Agency"
LISTED = "Vantablack Intrusion Systems Ltd"
HARRIER = {
    "name": ITEM,
    "description": "zero-click exploit delivery and implant command-and-control",
    "category": "intrusion-platform",
    "forms": ["system", "software"],
    "purposes": ["deliver", "communicate"],
    "avoids_monitoring": True,
    "defeats_countermeasures": True,
    "extracts_or_modifies_data": True,
    "modifies_execution_path": True,
}
EDR = {"name": "Sentinel EDR", "description": "endpoint detection and response", "category": "defensive-tool"}
# account -> (role, organisation); None: an account without a licensing role
ACCOUNTS: dict[str, tuple[str, str] | None] = {
    "kestrel": ("vendor", KESTREL),
    "osprey": ("vendor", OSPREY),
    "officer-a": ("officer", AGENCY),
    "officer-b": ("officer", AGENCY),
    "senior": ("senior-officer", AGENCY),
    "norole": None,
}
NATIONAL = (
    "id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,citation\n"
    f"c-evil,Company,{LISTED},,,CY,2024-01-10,,National,Order 1\n"
)


@dataclass
class Api:
    """The licensing API as each account calls it (bearer tokens), plus the exchange's administrator."""

    client: TestClient
    node: Node
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, method: str, path: str, who: str, **kwargs: object) -> httpx.Response:
        headers = {**self.auth(who), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return self.client.request(method, f"{BASE}{path}", headers=headers, **kwargs)  # type: ignore[arg-type]

    def ok(self, method: str, path: str, who: str, status: int = 200, **kwargs: object) -> dict:  # type: ignore[type-arg]
        r = self.call(method, path, who, **kwargs)
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == JSON
        return r.json()  # type: ignore[no-any-return]

    def get(self, path: str, who: str) -> object:
        return self.ok("GET", path, who)

    def post(self, path: str, who: str, body: object | None = None, status: int = 200) -> dict:  # type: ignore[type-arg]
        return self.ok("POST", path, who, status, json=body if body is not None else {})

    def refused(self, method: str, path: str, who: str, code: str, body: object | None = None) -> dict:  # type: ignore[type-arg]
        """A 409 naming the rule that refused it, and nothing changed."""
        before = state(self.node)
        r = self.call(method, path, who, json=body if body is not None else {})
        error = assert_error(r, 409)
        assert error["details"]["code"] == code, error  # type: ignore[index]
        assert state(self.node) == before
        return error


def assert_error(r: httpx.Response, status: int, *words: str) -> dict[str, object]:
    """An error resource in JSON with the status expected (never a 500, never HTML)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == JSON
    body: dict[str, object] = r.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    for word in words:
        assert word in str(body["description"]), body
    return body


def state(node: Node) -> tuple[object, ...]:
    """Every licensing row, every screening and every role: a refusal changes none of them."""
    with node.db.read() as conn:
        roles_rows = tuple(sorted(tuple(map(str, r)) for r in conn.execute(select(tables.licensing_roles))))
    return (*snapshot(node), roles_rows)


def accounts(node: Node) -> dict[str, str]:
    """The accounts of ACCOUNTS and an administrator without a licensing role; their tokens."""
    tokens = {}
    with node.db.write() as conn:
        for name, role in {**ACCOUNTS, "admin": None}.items():
            partner, tokens[name] = service.create_partner(
                conn, "test", name, "GB", "industry", name == "admin"
            )
            if role is not None:
                roles.set_role(conn, "cli:op", partner, role[0], role[1], "licensing role for the tests")
    return tokens


@pytest.fixture
def api(node: Node) -> Iterator[Api]:
    with TestClient(create_app(node.settings, node)) as client:
        yield Api(client, node, accounts(node))


# --- issue 5's workflow over REST ---------------------------------------------------------------------------


def registered(api: Api) -> str:
    """Kestrel's offensive item and its project at the concept stage; the project id."""
    item = api.post("/items", "kestrel", HARRIER, 201)
    assert item["tier"] == "offensive" and item["vendor"] == KESTREL
    return str(api.post("/projects", "kestrel", {"item": ITEM}, 201)["id"])


def pass_gate(api: Api, pid: str, gate: str, advance: bool = True) -> dict:  # type: ignore[type-arg]
    """Officer A reviews with one required change, officer B confirms it, the vendor advances."""
    review = {"gate": gate, "findings": [f"{gate} checked"], "required_changes": [f"fix at {gate}"]}
    project = api.post(f"/projects/{pid}/reviews", "officer-a", review)
    change = project["open_changes"][0]["id"]
    project = api.post(
        f"/projects/{pid}/changes/{change}/confirm", "officer-b", {"reason": "verified on site"}
    )
    return api.post(f"/projects/{pid}/advance", "kestrel") if advance else project


def decided(api: Api, body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    """Filed by Kestrel, classification confirmed, approved by officer A and the senior officer."""
    app = api.post("/applications", "kestrel", body, 201)
    assert app["state"] == "classification", app
    aid = app["id"]
    api.post(f"/applications/{aid}/confirm-classification", "officer-a")
    first = api.post(f"/applications/{aid}/approve", "officer-a", {"reason": "meets every rule"})
    assert first["licence"] is None and first["application"]["state"] == "review"
    done = api.post(f"/applications/{aid}/approve", "senior", {"reason": "concur"})
    assert done["application"]["state"] == "approved" and done["licence"]["state"] == "active"
    return done["licence"]  # type: ignore[no-any-return]


def export_body(marketing: str, end_user: str = END_USER) -> dict[str, object]:
    return {
        "kind": "export", "item": ITEM, "countries": ["GB"], "end_user": end_user,
        "end_use": "serious crime under court warrant", "declaration_signed": True,
        "end_user_government": True, "marketing_licence": marketing,
    }  # fmt: skip


@dataclass(frozen=True)
class Licensed:
    project: str
    marketing: str
    export: str
    export_application: str


def licensed(api: Api) -> Licensed:
    """Kestrel's item with its project in MARKETING, a marketing licence (GB, NO) and an export licence."""
    pid = registered(api)
    pass_gate(api, pid, "concept", advance=False)
    for gate in ("development", "testing"):
        pass_gate(api, pid, gate)
    marketing = decided(api, {"kind": "marketing", "item": ITEM, "countries": ["GB", "NO"]})
    pass_gate(api, pid, "marketing")
    export = decided(api, export_body(marketing["id"]))
    return Licensed(pid, marketing["id"], export["id"], export["application"])
