"""Hostile calls on the licensing REST API, in process, on SQLite and PostgreSQL: strangers get 401 and
accounts without a licensing role 403 on every route, before a byte of a body is read (default deny); bad
bodies are 422 and change nothing; odd ids, paths and queries are 404 or 422, never a 500; the admin API
gives and withdraws licensing roles, recorded."""

from __future__ import annotations

import base64
import re

import pytest

from gesher.partners import service
from gesher.store import audit
from tests.api.licensing_rest import BASE, EDR, HARRIER, ITEM, Api, api, assert_error, registered, state

__all__ = ["api"]  # the fixture

# (method, path, body): one call per route, valid but for the caller
ROUTES = [
    ("GET", "/whoami", None),
    ("GET", "/items", None),
    ("POST", "/items", EDR),
    ("GET", f"/items/{ITEM}", None),
    ("GET", "/projects", None),
    ("POST", "/projects", {"item": ITEM}),
    ("GET", "/projects/P-1", None),
    ("POST", "/projects/P-1/reviews", {"gate": "concept"}),
    ("POST", "/projects/P-1/changes/RC-1/confirm", {}),
    ("POST", "/projects/P-1/advance", {}),
    ("POST", "/projects/P-1/suspend", {"reason": "r"}),
    ("POST", "/projects/P-1/resume", {"reason": "r"}),
    ("GET", "/applications", None),
    ("POST", "/applications", {"kind": "marketing", "item": ITEM, "countries": ["GB"]}),
    ("GET", "/applications/A-1", None),
    ("POST", "/applications/A-1/submit", {}),
    ("POST", "/applications/A-1/rescreen", {}),
    ("POST", "/applications/A-1/confirm-classification", {}),
    ("POST", "/applications/A-1/approve", {"reason": "r"}),
    ("POST", "/applications/A-1/deny", {"reason": "r"}),
    ("POST", "/applications/A-1/withdraw", {"reason": "r"}),
    ("GET", "/licences", None),
    ("GET", "/licences/L-1", None),
    ("POST", "/licences/L-1/suspend", {"reason": "r"}),
    ("POST", "/licences/L-1/reinstate", {"reason": "r"}),
    ("POST", "/licences/L-1/revoke", {"reason": "r"}),
    ("POST", "/licences/L-1/reports", {"summary": "s"}),
    ("GET", "/licences/L-1/history", None),
    ("POST", "/licences/L-1/notes", {"text": "t"}),
    ("GET", "/applications/A-1/history", None),
    ("POST", "/applications/A-1/notes", {"text": "t"}),
    ("GET", "/projects/P-1/history", None),
    ("POST", "/projects/P-1/notes", {"text": "t"}),
    ("GET", f"/items/{ITEM}/history", None),
    ("POST", f"/items/{ITEM}/notes", {"text": "t"}),
    ("GET", "/misuse", None),
    ("POST", "/misuse", {"source": "s", "summary": "s"}),
    ("GET", "/misuse/M-1", None),
    ("GET", "/misuse/M-1/history", None),
    ("POST", "/misuse/M-1/investigate", {"finding": "substantiated", "reason": "r"}),
    ("POST", "/misuse/M-1/act", {"reason": "r"}),
    ("GET", "/overview?by=item", None),
]
ROUTE_IDS = [f"{m} {p}" for m, p, _ in ROUTES]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_the_route_list_covers_every_licensing_route(api: Api) -> None:
    """The auth tests below call every route the API documents (a new route must join ROUTES)."""
    paths = api.client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p[len(BASE) :]) for p, ops in paths.items() if p.startswith(BASE) for m in ops}
    for method, template in documented:
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$")
        assert any(m == method and pattern.match(p.split("?")[0]) for m, p, _ in ROUTES), (method, template)
    assert len(documented) == len(ROUTES)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=ROUTE_IDS)
def test_strangers_get_401_and_accounts_without_a_role_403(
    api: Api, method: str, path: str, body: object
) -> None:
    before = state(api.node)
    for authorization in (None, "Bearer not-a-token", basic("kestrel", api.tokens["osprey"]), "Basic !!!"):
        headers = {"Authorization": authorization} if authorization else {}
        r = api.client.request(method, BASE + path, headers=headers, json=body)
        assert_error(r, 401)
        assert r.headers["www-authenticate"].startswith("Basic")
    for who in ("norole", "admin"):
        assert_error(api.call(method, path, who, json=body), 403, "licensing role")
    assert state(api.node) == before


def test_the_caller_is_known_before_the_body_is_read(api: Api) -> None:
    """An oversized body from a stranger or an account without a role is refused as such, not read."""
    huge = b"{" + b" " * (api.node.settings.max_content_length + 10) + b"}"
    headers = {"Content-Type": "application/json"}
    assert_error(api.client.post(f"{BASE}/items", content=huge, headers=headers), 401)
    assert_error(api.call("POST", "/items", "norole", content=huge, headers=headers), 403)
    assert_error(api.call("POST", "/items", "kestrel", content=huge, headers=headers), 413)


def test_withdrawn_roles_and_suspended_accounts_are_refused(api: Api) -> None:
    assert api.call("GET", "/items", "kestrel").status_code == 200
    assert (
        api.call(
            "GET", "/items", "kestrel", headers={"Authorization": basic("kestrel", api.tokens["kestrel"])}
        ).status_code
        == 200
    )
    r = api.client.put("/admin/v1/partners/kestrel/licensing-role", json={"role": "none", "reason": "left"},
                       headers=api.auth("admin"))  # fmt: skip
    assert r.status_code == 200 and r.json()["role"] is None
    assert_error(api.call("GET", "/items", "kestrel"), 403)
    with api.node.db.write() as conn:
        service.set_standing(conn, "test", service.require_partner(conn, "osprey"), "audit", suspended=True)
    assert_error(api.call("GET", "/items", "osprey"), 401)  # a suspended account is a stranger, as on TAXII


# --- bad bodies -------------------------------------------------------------------------------------------

BAD_BODIES = {
    "unknown field": ("/items", {**EDR, "colour": "red"}),
    "no category": ("/items", {"name": "X", "description": "d"}),
    "unknown category": ("/items", {**EDR, "category": "toaster"}),
    "unknown form": ("/items", {**EDR, "forms": ["hologram"]}),
    "a list where a flag goes": ("/items", {**EDR, "avoids_monitoring": ["yes"]}),
    "a control character": ("/items", {**EDR, "name": "Sentinel\x00EDR"}),
    "a name too long": ("/items", {**EDR, "name": "x" * 301}),
    "an empty name": ("/items", {**EDR, "name": "  "}),
    "an array body": ("/items", [EDR]),
    "no item": ("/projects", {}),
    "a gate that is none": ("/projects/P-1/reviews", {"gate": "retired"}),
    "a finding too long": ("/projects/P-1/reviews", {"gate": "concept", "findings": ["x" * 4001]}),
    "a version of zero": ("/projects/P-1/advance", {"expected_version": 0}),
    "a version as text": ("/projects/P-1/advance", {"expected_version": "one"}),
    "an unknown kind": ("/applications", {"kind": "loan", "item": ITEM, "countries": ["GB"]}),
    "no countries": ("/applications", {"kind": "marketing", "item": ITEM, "countries": []}),
    "an unknown country": ("/applications", {"kind": "marketing", "item": ITEM, "countries": ["QQ"]}),
    "an export without an end user": ("/applications", {"kind": "export", "item": ITEM, "countries": ["GB"]}),
    "an export to two countries": ("/applications", {
        "kind": "export", "item": ITEM, "countries": ["GB", "NO"], "end_user": "u", "end_use": "e"}),
    "a marketing application with an end user": ("/applications", {
        "kind": "marketing", "item": ITEM, "countries": ["GB"], "end_user": "u"}),
    "no reason": ("/applications/A-1/deny", {}),
    "a blank reason": ("/applications/A-1/deny", {"reason": "   "}),
    "an unknown condition": ("/applications/A-1/approve", {
        "reason": "r", "conditions": [{"type": "be nice"}]}),
    "a reporting grace as long as its period": ("/applications/A-1/approve", {
        "reason": "r", "conditions": [{"type": "reporting", "every_days": 30, "grace_days": 30}]}),
    "no target class": ("/applications/A-1/approve", {
        "reason": "r", "conditions": [{"type": "prohibited-targets", "classes": []}]}),
    "a validity of zero days": ("/applications/A-1/approve", {"reason": "r", "validity_days": 0}),
    "a report without a summary": ("/licences/L-1/reports", {"received_on": "2025-01-01"}),
    "a report on no date": ("/licences/L-1/reports", {"summary": "s", "received_on": "yesterday"}),
    "an empty note": ("/licences/L-1/notes", {"text": ""}),
    "a note too long": ("/licences/L-1/notes", {"text": "x" * 4001}),
    "an unknown finding": ("/misuse/M-1/investigate", {"finding": "maybe", "reason": "r"}),
    "an unknown action": ("/misuse/M-1/act", {"reason": "r", "actions": [{"type": "bomb"}]}),
    "a partner tier of five": ("/misuse/M-1/act", {
        "reason": "r", "actions": [{"type": "lower-partner-tier", "partner": "p", "to_tier": 5}]}),
    "an unknown target": ("/misuse", {"source": "s", "summary": "s", "targets": ["cats"]}),
    "a NUL in an end user": ("/misuse", {"source": "s", "summary": "s", "end_user": "Bad\x00Actor"}),
    "a NUL in a credibility": ("/misuse", {"source": "s", "summary": "s", "credibility": "\x00"}),
    "a NUL in a note": ("/licences/L-1/notes", {"text": "a\x00b"}),
}  # fmt: skip


@pytest.mark.parametrize(("path", "body"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_are_422_and_change_nothing(api: Api, path: str, body: object) -> None:
    api.post("/items", "kestrel", HARRIER, 201)
    before = state(api.node)
    assert_error(
        api.call("POST", path, "senior" if path.startswith("/misuse") else "kestrel", json=body), 422
    )
    assert state(api.node) == before


def test_bodies_that_are_not_json(api: Api) -> None:
    for content, kind, status in (
        (b"{not json", "application/json", 422),
        (b"\xff\xfe", "application/json", 422),
        (b"name=x", "application/x-www-form-urlencoded", 415),
        (b"<item/>", "text/xml", 415),
    ):
        assert_error(
            api.call("POST", "/items", "kestrel", content=content, headers={"Content-Type": kind}), status
        )
    # an action whose every field is optional takes an empty body
    pid = registered(api)
    assert_error(api.call("POST", f"/projects/{pid}/advance", "kestrel", content=b""), 409)


def test_semantically_invalid_actions_are_refused_not_crashed(api: Api) -> None:
    report = api.post("/misuse", "officer-a", {"source": "s", "summary": "s"}, 201)
    raised = {"reason": "r", "actions": [{"type": "lower-country-tier", "country": "GB", "to_tier": "A"}]}
    assert_error(api.call("POST", f"/misuse/{report['id']}/act", "senior", json=raised), 422, "not lower")
    no_tier = {"reason": "r", "actions": [{"type": "lower-partner-tier", "partner": "kestrel", "to_tier": 3}]}
    assert_error(
        api.call("POST", f"/misuse/{report['id']}/act", "senior", json=no_tier), 422, "no trust tier"
    )
    ghost = {"reason": "r", "actions": [{"type": "lower-partner-tier", "partner": "ghost", "to_tier": 3}]}
    assert_error(api.call("POST", f"/misuse/{report['id']}/act", "senior", json=ghost), 404)


# --- odd paths and queries --------------------------------------------------------------------------------

ODD_IDS = ["%00", "a%0Ab", "x" * 400, "%F0%9F%92%A3", "..%2F..%2Fetc", "' OR 1=1 --", "%25s%25s", " "]


@pytest.mark.parametrize("ident", ODD_IDS)
def test_odd_ids_are_404_never_500(api: Api, ident: str) -> None:
    registered(api)
    for who in ("kestrel", "senior"):
        for path in ("/items/{}", "/projects/{}", "/applications/{}", "/licences/{}", "/projects/{}/history",
                     "/licences/{}/history", "/items/{}/history"):  # fmt: skip
            r = api.client.get(BASE + path.format(ident), headers=api.auth(who))
            assert r.status_code == 404, (path, r.text)
            assert r.headers["content-type"] == "application/json"
        r = api.client.post(f"{BASE}/projects/{ident}/advance", headers=api.auth(who), json={})
        assert r.status_code in (404, 405), r.text
    assert_error(api.client.get(f"{BASE}/misuse/{ident}", headers=api.auth("senior")), 404)


def test_bad_queries_are_422(api: Api) -> None:
    for path in ("/applications?state=pending", "/licences?state=lost", "/overview", "/overview?by=planet",
                 "/overview?by=item&format=pdf"):  # fmt: skip
        assert_error(api.call("GET", path, "senior"), 422)
    assert_error(api.call("GET", "/nowhere", "senior"), 404)
    assert_error(api.call("DELETE", "/items", "senior"), 405)


# --- the admin API for roles ------------------------------------------------------------------------------


def test_administrators_give_and_withdraw_licensing_roles(api: Api) -> None:
    admin = api.auth("admin")
    url = "/admin/v1/partners/norole/licensing-role"
    assert api.client.get(url, headers=admin).json() == {"partner": "norole", "role": None, "history": []}
    r = api.client.put(
        url, json={"role": "vendor", "organisation": "Norole Ltd", "reason": "new vendor"}, headers=admin
    )
    assert r.status_code == 200 and r.json()["role"]["organisation"] == "Norole Ltd"
    assert api.get("/whoami", "norole") == {
        "actor": "partner:norole",
        "role": "vendor",
        "organisation": "Norole Ltd",
    }
    shown = api.client.get(url, headers=admin).json()
    assert [(h["role"], h["actor"]) for h in shown["history"]] == [("vendor", "partner:admin")]
    with api.node.db.read() as conn:
        (event,) = [
            e for e in audit.events(conn, "partner:norole") if e["action"] == "partner.licensing-role"
        ]
    assert event["actor"] == "partner:admin"

    for body, status in (
        ({"role": "vendor", "reason": "r"}, 400),  # a vendor names its organisation
        ({"role": "system", "reason": "r"}, 422),
        ({"role": "officer"}, 422),
        ({"role": "officer", "reason": "r", "extra": 1}, 422),
    ):
        assert_error(api.client.put(url, json=body, headers=admin), status)
    assert len(api.client.get(url, headers=admin).json()["history"]) == 1
    for headers, status in (({}, 401), (api.auth("kestrel"), 403), (api.auth("senior"), 403)):
        assert_error(api.client.get(url, headers=headers), status)
        assert_error(api.client.put(url, json={"role": "officer", "reason": "r"}, headers=headers), status)
    ghost = "/admin/v1/partners/ghost/licensing-role"
    assert_error(api.client.put(ghost, json={"role": "officer", "reason": "r"}, headers=admin), 404)
