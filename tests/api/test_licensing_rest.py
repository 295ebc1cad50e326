"""The licensing REST API (/licensing/v1/) with roles, in process, on SQLite and PostgreSQL (issue 5
"Surfaces" and "Tests: role isolation over REST"): issue 5's "Done when" over REST; a vendor never sees,
lists or acts on another vendor's records (404 exactly like a missing id) nor any officer-only note or field;
vendors cannot decide; illegal transitions are 409 with the rule's code and change nothing."""

from __future__ import annotations

import csv
import io

import pytest

from tests.api.licensing_rest import (
    EDR,
    END_USER,
    ITEM,
    KESTREL,
    LISTED,
    NATIONAL,
    Api,
    api,
    assert_error,
    decided,
    export_body,
    licensed,
    pass_gate,
    registered,
    state,
)

__all__ = ["api"]  # the fixture
SECRET = "the end user's ministry is under sanctions review"
OFFICERS = ("officer-a", "officer-b", "senior")


def load_list(api: Api, text: str, version: str) -> dict[str, object]:
    """The exchange's administrator loads a national list version (admin REST)."""
    params = {"filename": "national.csv", "reason": "order published", "name": "national", "version": version,
              "published": "2025-03-02"}  # fmt: skip
    r = api.client.post("/admin/v1/watchlists", params=params, content=text, headers=api.auth("admin"))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


# --- the workflow -----------------------------------------------------------------------------------------


def test_done_when_over_rest(api: Api) -> None:
    load_list(api, NATIONAL, "1")
    assert api.get("/whoami", "kestrel") == {
        "actor": "partner:kestrel",
        "role": "vendor",
        "organisation": KESTREL,
    }

    # an offensive tool at the concept stage; a gate passes only once its required change is confirmed
    pid = registered(api)
    project = api.post(
        f"/projects/{pid}/reviews", "officer-a", {"gate": "concept", "required_changes": ["x"]}
    )
    assert project["pending_gate"] == "concept" and project["open_changes"][0]["id"] == "RC-1"
    api.refused("POST", f"/projects/{pid}/reviews", "officer-a", "NOT_PENDING_GATE", {"gate": "development"})
    api.post(f"/projects/{pid}/changes/RC-1/confirm", "officer-b", {"reason": "customer list seen"})
    review = {"gate": "development", "required_changes": ["add leak controls"]}
    api.post(f"/projects/{pid}/reviews", "officer-a", review)
    api.refused("POST", f"/projects/{pid}/advance", "kestrel", "GATE_NOT_PASSED")
    api.post(f"/projects/{pid}/changes/RC-2/confirm", "senior", {"reason": "leak controls seen"})
    assert api.post(f"/projects/{pid}/advance", "kestrel")["stage"] == "development"
    assert pass_gate(api, pid, "testing")["stage"] == "testing"

    # a marketing licence, the MARKETING gate, an export licence to a vetted government end user
    marketing = decided(api, {"kind": "marketing", "item": ITEM, "countries": ["GB"]})
    pass_gate(api, pid, "marketing")
    export = decided(api, export_body(marketing["id"]))
    assert export["end_user"] == END_USER and export["marketing_licence"] == marketing["id"]
    assert {c["type"] for c in export["conditions"]} >= {"NoReexport", "GovernmentEndUserOnly"}

    # refused for a listed end user: denied at submission, and the vendor reads why
    listed = api.post("/applications", "kestrel", export_body(marketing["id"], end_user=LISTED), 201)
    assert listed["state"] == "denied" and LISTED in listed["decision_reason"]
    assert "recommendation" not in listed

    # a misuse report suspends the licence: the vendor sees that and why, never the report itself
    allegation = {"source": "Citizen Lab", "summary": "journalist targeted", "licences": [export["id"]]}
    report = api.post("/misuse", "officer-a", {**allegation, "end_user": END_USER}, 201)
    actions = {"actions": [{"type": "suspend-licence", "licence": export["id"]}], "reason": "credible"}
    assert api.post(f"/misuse/{report['id']}/act", "officer-a", actions)["suspended_licences"] == [
        export["id"]
    ]
    assert api.get(f"/licences/{export['id']}", "kestrel")["state"] == "suspended"  # type: ignore[index]
    history = api.get(f"/licences/{export['id']}/history", "kestrel")
    assert [(e["action"], e["actor"]) for e in history] == [
        ("issue", "senior-officer"),
        ("suspend", "officer"),
    ]  # type: ignore[index, union-attr]
    assert history[-1]["reason"] == "credible"  # type: ignore[index]
    assert_error(api.call("GET", f"/misuse/{report['id']}", "kestrel"), 403)
    officer_view = api.get(f"/misuse/{report['id']}/history", "officer-b")
    assert [e["action"] for e in officer_view] == ["receive", "interim-action"]  # type: ignore[union-attr]


# --- isolation --------------------------------------------------------------------------------------------


def kestrel_and_osprey(api: Api) -> tuple[dict[str, str], dict[str, str]]:
    """Kestrel licensed (with an open application); Osprey with a defensive item and an open application."""
    done = licensed(api)
    pending = api.post(
        "/applications", "kestrel", {"kind": "marketing", "item": ITEM, "countries": ["DE"]}, 201
    )
    api.post("/items", "osprey", EDR, 201)
    theirs = api.post(
        "/applications", "osprey", {"kind": "marketing", "item": EDR["name"], "countries": ["NO"]}, 201
    )
    kestrel = {
        "item": ITEM, "project": done.project, "marketing": done.marketing, "export": done.export,
        "application": done.export_application, "pending": pending["id"],
    }  # fmt: skip
    return kestrel, {"item": str(EDR["name"]), "application": theirs["id"]}


def missing_like(
    api: Api, path: str, hidden: str, missing: str, method: str = "GET", body: object = None
) -> None:
    """Another vendor's record answers exactly as a missing one does (same status, title and wording)."""
    kwargs = {"json": body} if method == "POST" else {}
    seen = api.call(method, path.format(hidden), "osprey", **kwargs)
    absent = api.call(method, path.format(missing), "osprey", **kwargs)
    a, b = assert_error(seen, 404), assert_error(absent, 404)
    assert (a["title"], str(a["description"]).replace(hidden, "?")) == (
        b["title"], str(b["description"]).replace(missing, "?")
    )  # fmt: skip


READS = [
    ("item", "/items/{}", "Nothing Such"),
    ("item", "/items/{}/history", "Nothing Such"),
    ("project", "/projects/{}", "P-NONE"),
    ("project", "/projects/{}/history", "P-NONE"),
    ("application", "/applications/{}", "EA-NONE"),
    ("application", "/applications/{}/history", "EA-NONE"),
    ("export", "/licences/{}", "EL-NONE"),
    ("export", "/licences/{}/history", "EL-NONE"),
]
ACTS = [
    ("project", "/projects/{}/advance", {}),
    ("project", "/projects/{}/reviews", {"gate": "export"}),
    ("project", "/projects/{}/changes/RC-1/confirm", {}),
    ("project", "/projects/{}/suspend", {"reason": "r"}),
    ("pending", "/applications/{}/withdraw", {"reason": "mine now"}),
    ("pending", "/applications/{}/submit", {}),
    ("pending", "/applications/{}/deny", {"reason": "r"}),
    ("pending", "/applications/{}/approve", {"reason": "r"}),
    ("pending", "/applications/{}/rescreen", {}),
    ("pending", "/applications/{}/confirm-classification", {}),
    ("export", "/licences/{}/reports", {"summary": "used twice"}),
    ("export", "/licences/{}/suspend", {"reason": "r"}),
    ("export", "/licences/{}/revoke", {"reason": "r"}),
    ("export", "/licences/{}/notes", {"text": "hello"}),
    ("pending", "/applications/{}/notes", {"text": "hello"}),
    ("project", "/projects/{}/notes", {"text": "hello"}),
    ("item", "/items/{}/notes", {"text": "hello"}),
]


def test_another_vendors_records_are_absent(api: Api) -> None:
    kestrel, osprey = kestrel_and_osprey(api)
    for key, path, missing in READS:
        missing_like(api, path, kestrel[key], missing)
    before = state(api.node)
    for key, path, body in ACTS:
        missing_like(api, path, kestrel[key], "NONE-1", "POST", body)
    assert state(api.node) == before

    # lists and the overview hold its own only; filing on another's item is as for a missing item
    mine = {
        "items": {osprey["item"]},
        "applications": {osprey["application"]},
        "projects": set(),
        "licences": set(),
    }
    for listing, expected in mine.items():
        found = api.get(f"/{listing}", "osprey")
        assert {x.get("id", x.get("name")) for x in found} == expected, listing  # type: ignore[union-attr]
    overview = api.get("/overview?by=vendor", "osprey")
    assert [g["key"] for g in overview["groups"]] == ["Osprey Systems"]  # type: ignore[index]
    assert (
        KESTREL
        not in api.client.get("/licensing/v1/overview?by=item&format=csv", headers=api.auth("osprey")).text
    )
    body = {"kind": "marketing", "item": ITEM, "countries": ["NO"]}
    a = assert_error(api.call("POST", "/applications", "osprey", json=body), 404)
    b = assert_error(api.call("POST", "/applications", "osprey", json={**body, "item": "Nothing Such"}), 404)
    assert str(a["description"]).replace(ITEM, "?") == str(b["description"]).replace("Nothing Such", "?")
    # and it registers nothing in another vendor's name
    api.refused(
        "POST", "/items", "osprey", "NOT_YOUR_ORGANISATION", {**EDR, "name": "Fake", "vendor": KESTREL}
    )
    assert state(api.node) == before


def test_misuse_is_officers_business_whatever_the_id(api: Api) -> None:
    report = api.post("/misuse", "officer-a", {"source": "Amnesty Tech", "summary": "alleged"}, 201)
    before = state(api.node)
    for who in ("kestrel", "osprey"):
        for method, path, body in (
            ("GET", "/misuse", None), ("POST", "/misuse", {"source": "me", "summary": "x"}),
            ("GET", f"/misuse/{report['id']}", None), ("GET", "/misuse/M-NONE", None),
            ("GET", f"/misuse/{report['id']}/history", None),
            ("POST", f"/misuse/{report['id']}/investigate", {"finding": "unsubstantiated", "reason": "mine"}),
            ("POST", "/misuse/M-NONE/act", {"reason": "x"}),
        ):  # fmt: skip
            assert_error(api.call(method, path, who, json=body), 403, "officers")
    assert state(api.node) == before
    assert [r["id"] for r in api.get("/misuse", "senior")] == [report["id"]]  # type: ignore[union-attr]


# --- officer-only parts -----------------------------------------------------------------------------------


def vendor_texts(api: Api, kestrel: dict[str, str]) -> str:
    """Every answer Kestrel can read about its own records, as one text."""
    paths = ["/items", "/projects", "/applications", "/licences", "/overview?by=country"]
    paths += [
        f"/items/{ITEM}/history",
        f"/projects/{kestrel['project']}",
        f"/projects/{kestrel['project']}/history",
    ]
    for key in ("application", "pending"):
        paths += [f"/applications/{kestrel[key]}", f"/applications/{kestrel[key]}/history"]
    for key in ("marketing", "export"):
        paths += [f"/licences/{kestrel[key]}", f"/licences/{kestrel[key]}/history"]
    return "\n".join(api.call("GET", p, "kestrel").text for p in paths)


def test_officer_only_notes_and_fields_never_reach_the_vendor(api: Api) -> None:
    kestrel, _ = kestrel_and_osprey(api)
    app_id = kestrel["application"]
    note = api.post(f"/applications/{app_id}/notes", "officer-a", {"text": SECRET}, 201)
    assert dict(note["details"])["visibility"] == "officer-only"
    api.post(f"/projects/{kestrel['project']}/notes", "senior", {"text": SECRET + " (project)"}, 201)
    api.post(
        f"/licences/{kestrel['export']}/notes",
        "officer-b",
        {"text": "send the report", "officer_only": False},
        201,
    )
    api.post(f"/applications/{app_id}/notes", "kestrel", {"text": "EUC sent by courier"}, 201)
    api.refused(
        "POST",
        f"/applications/{app_id}/notes",
        "kestrel",
        "OFFICER_REQUIRED",
        {"text": "x", "officer_only": True},
    )

    seen = vendor_texts(api, kestrel)
    assert SECRET not in seen
    for officer in OFFICERS:
        assert f"partner:{officer}" not in seen  # officers appear by role, never by name
    assert "send the report" in seen and "EUC sent by courier" in seen
    for field in ('"recommendation"', '"approvals"', '"decided_by"', '"registered_by"'):
        assert field not in seen.replace(" ", ""), field
    officer_view = api.get(f"/applications/{app_id}/history", "officer-b")
    assert SECRET in str(officer_view)
    app = api.get(f"/applications/{app_id}", "officer-b")
    assert app["recommendation"]["verdict"] == "approve" and app["decided_by"] == [
        "partner:officer-a",
        "partner:senior",
    ]  # type: ignore[index]


def test_vendors_cannot_decide_even_on_their_own(api: Api) -> None:
    kestrel, _ = kestrel_and_osprey(api)
    pid, pending, export = kestrel["project"], kestrel["pending"], kestrel["export"]
    for path, code, body in (
        (f"/applications/{pending}/confirm-classification", "OFFICER_REQUIRED", {}),
        (f"/applications/{pending}/rescreen", "SCREENER_REQUIRED", {}),
        (f"/applications/{pending}/deny", "OFFICER_REQUIRED", {"reason": "r"}),
        (f"/projects/{pid}/reviews", "OFFICER_REQUIRED", {"gate": "export"}),
        (f"/projects/{pid}/suspend", "OFFICER_REQUIRED", {"reason": "r"}),
        (f"/licences/{export}/suspend", "OFFICER_REQUIRED", {"reason": "r"}),
        (f"/licences/{export}/revoke", "OFFICER_REQUIRED", {"reason": "r"}),
    ):
        api.refused("POST", path, "kestrel", code, body)
    api.post(f"/applications/{pending}/confirm-classification", "officer-a")
    api.refused("POST", f"/applications/{pending}/approve", "kestrel", "OFFICER_REQUIRED", {"reason": "mine"})


# --- illegal transitions ----------------------------------------------------------------------------------


def test_illegal_transitions_are_409_with_the_rule(api: Api) -> None:
    kestrel, _ = kestrel_and_osprey(api)
    pid, pending = kestrel["project"], kestrel["pending"]
    # exporting without a marketing licence, without the declaration
    body = export_body(kestrel["marketing"])
    api.refused(
        "POST", "/applications", "kestrel", "NO_MARKETING_LICENCE", {**body, "marketing_licence": None}
    )
    api.refused(
        "POST", "/applications", "kestrel", "MISSING_DECLARATION", {**body, "declaration_signed": False}
    )
    # a gate not under review, a stage with no gate passed
    api.refused("POST", f"/projects/{pid}/reviews", "officer-a", "NOT_PENDING_GATE", {"gate": "sustainment"})
    api.refused("POST", f"/projects/{pid}/advance", "kestrel", "GATE_NOT_PASSED")
    # the same approver twice; deciding a decided application; a reinstatement of an active licence
    api.post(f"/applications/{pending}/confirm-classification", "officer-a")
    api.post(f"/applications/{pending}/approve", "officer-a", {"reason": "fine"})
    api.refused("POST", f"/applications/{pending}/approve", "officer-a", "SAME_APPROVER", {"reason": "again"})
    api.refused(
        "POST", f"/applications/{kestrel['application']}/deny", "senior", "ALREADY_DECIDED", {"reason": "r"}
    )
    api.refused("POST", f"/licences/{kestrel['export']}/reinstate", "senior", "WRONG_STATE", {"reason": "r"})
    api.refused("POST", f"/projects/{pid}/changes/RC-99/confirm", "officer-b", "NO_OPEN_CHANGE")


def test_a_decision_on_a_stale_version_conflicts(api: Api) -> None:
    kestrel, _ = kestrel_and_osprey(api)
    pending = kestrel["pending"]
    app = api.post(f"/applications/{pending}/confirm-classification", "officer-a")
    before = state(api.node)
    stale = {"reason": "fine", "expected_version": app["version"] - 1}
    assert_error(
        api.call("POST", f"/applications/{pending}/approve", "officer-b", json=stale), 409, "read it again"
    )
    assert state(api.node) == before
    fresh = api.post(
        f"/applications/{pending}/approve", "officer-b", {**stale, "expected_version": app["version"]}
    )
    assert fresh["application"]["approvals"][0]["officer"] == "partner:officer-b"


# --- the overview, and watchlist updates --------------------------------------------------------------------


def test_the_overview_per_country_for_officers_and_vendors(api: Api) -> None:
    load_list(api, NATIONAL, "1")
    kestrel, osprey = kestrel_and_osprey(api)
    refused = api.post("/applications", "kestrel", export_body(kestrel["marketing"], end_user=LISTED), 201)
    everything = api.get("/overview?by=country", "officer-a")
    groups = {g["key"]: g for g in everything["groups"]}  # type: ignore[index]
    assert set(groups) == {"GB", "NO", "DE"}
    assert {x["licence"] for x in groups["GB"]["licensed"]} == {kestrel["marketing"], kestrel["export"]}
    (denial,) = groups["GB"]["refused"]
    assert denial["application"] == refused["id"] and "LISTED_PARTY" in denial["codes"]
    assert {p["application"] for p in groups["NO"]["pending"]} == {osprey["application"]}

    own = {g["key"]: g for g in api.get("/overview?by=country", "kestrel")["groups"]}  # type: ignore[index]
    assert set(own) == {"GB", "NO", "DE"}
    assert own["NO"]["pending"] == [] and own["GB"]["refused"][0]["codes"] == []
    r = api.client.get(
        "/licensing/v1/overview", params={"by": "item", "format": "csv"}, headers=api.auth("kestrel")
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["group"] for row in rows} == {ITEM}


@pytest.mark.parametrize("who", ["officer-a", "kestrel"])
def test_a_watchlist_update_over_rest_refuses_an_open_application(api: Api, who: str) -> None:
    kestrel, _ = kestrel_and_osprey(api)
    app = api.post(
        "/applications", "kestrel", export_body(kestrel["marketing"], end_user="Harbour Analytics"), 201
    )
    assert app["state"] == "classification"
    listing = NATIONAL + "c-2,Company,Harbour Analytics,,,GB,2025-02-01,,National,Order 2\n"
    loaded = load_list(api, listing, "2")
    assert loaded["applications_rescreened"] == [
        {"id": app["id"], "state": "denied", "recommendation": "deny"}
    ]
    seen = api.get(f"/applications/{app['id']}", who)
    assert seen["state"] == "denied" and "Harbour Analytics" in seen["decision_reason"]  # type: ignore[index]
    last = api.get(f"/applications/{app['id']}/history", who)[-1]  # type: ignore[index]
    assert last["action"] == "deny" and "watchlist update: order published" in last["reason"]
