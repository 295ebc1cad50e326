"""`gesher item`, `project`, `licence` and `misuse`, in process on both stores: issue 5's "Done when" typed
at the operator's console, and the refusals, each exiting 1 with its reason and nothing changed."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from gesher.exchange.node import Node
from gesher.settings import Settings
from tests.cli.test_policy_cli import Cli
from tests.licensing_service.helpers import snapshot

VENDOR_ORG = "Kestrel Cyber Ltd"
VENDOR = ("--as", "vendor", "--org", VENDOR_ORG, "--actor", "dana")
OFFICER_A = ("--actor", "officer-a")
OFFICER_B = ("--actor", "officer-b")
ITEM = "Harrier delivery platform"
END_USER = "UK National Crime Agency"
HARRIER = {
    "name": ITEM,
    "vendor": VENDOR_ORG,
    "description": "zero-click exploit delivery and implant command-and-control",
    "category": "intrusion-platform",
    "forms": ["system", "software"],
    "purposes": ["deliver", "communicate"],
    "avoids_monitoring": True,
    "defeats_countermeasures": True,
    "extracts_or_modifies_data": True,
    "modifies_execution_path": True,
}


@pytest.fixture
def cli(db_url: str, tmp_path) -> Cli:  # type: ignore[no-untyped-def]
    run = Cli(db_url, tmp_path)
    run("init")
    run("watchlist", "load", "--shipped", "--reason", "r")
    return run


def js(cli: Cli, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(cli(*args, "--json"))  # type: ignore[no-any-return]


def state_of(cli: Cli) -> tuple[object, ...]:
    """What `licence list` shows and every licensing row: a refusal changes neither."""
    node = Node.open(Settings(data_dir=cli.tmp_path, database_url=cli.args[3]))
    try:
        rows = snapshot(node)
    finally:
        node.db.dispose()
    return cli("licence", "list", "--json"), rows


def refused(cli: Cli, *args: str, says: str) -> None:
    before = state_of(cli)
    message = " ".join(cli(*args, ok=False).split())  # the console wraps long lines
    assert says in message, message
    assert state_of(cli) == before


def registered(cli: Cli) -> str:
    """The offensive item registered from a file, its project at the concept stage; the project id."""
    item = js(cli, "item", "add", "--from-file", str(cli.file("harrier.json", json.dumps(HARRIER))), *VENDOR)
    assert item["tier"] == "offensive" and item["controlled"]
    return str(js(cli, "project", "register", ITEM, *VENDOR)["id"])


def pass_gate(cli: Cli, pid: str, gate: str, advance: bool = True) -> dict:  # type: ignore[type-arg]
    """Officer A reviews the gate with one required change; officer B confirms it; the vendor advances."""
    project = js(cli, "project", "review", pid, "--gate", gate, "--finding", f"{gate} checked",
                 "--require-change", f"fix at {gate}", *OFFICER_A)  # fmt: skip
    change = project["open_changes"][0]["id"]
    project = js(cli, "project", "confirm", pid, change, "--reason", "verified", *OFFICER_B)
    assert not project["open_changes"] and gate in project["gates_passed"]
    return js(cli, "project", "advance", pid, *VENDOR) if advance else project


def licensed(cli: Cli, *args: str) -> dict:  # type: ignore[type-arg]
    """Apply as the vendor, then classification confirmed and two distinct officers approve."""
    app = js(cli, "licence", "apply", *args, *VENDOR)
    assert app["state"] == "classification", app
    js(cli, "licence", "confirm-classification", app["id"], *OFFICER_A)
    first = js(cli, "licence", "approve", app["id"], "--reason", "meets every rule", *OFFICER_A)
    assert first["state"] == "review" and first["licence"] is None
    decided = js(cli, "licence", "approve", app["id"], "--reason", "concur", *OFFICER_B)
    assert decided["state"] == "approved" and decided["decided_by"] == ["cli:officer-a", "cli:officer-b"]
    return decided["licence"]  # type: ignore[no-any-return]


def test_done_when(cli: Cli) -> None:
    cli("partner", "add", "nca", "--country", "GB", "--kind", "government", "--legal-name", END_USER)
    cli("vet", "nca")
    cli("partner", "approve-tier", "nca", "1", "--reason", "allied agency")

    # an offensive tool at the concept stage, its classification explained
    pid = registered(cli)
    shown = cli("item", "show", ITEM)
    assert "offensive" in shown and "4.D.4" in shown and "INTRUSION_TOOLING" in shown
    assert [i["name"] for i in js(cli, "item", "list", "--vendor", VENDOR_ORG)] == [ITEM]

    # a gate with a required change passes only once an officer confirms it
    project = js(cli, "project", "review", pid, "--gate", "concept", "--require-change", "name the customers",
                 "--condition", "government customers only", *OFFICER_A)  # fmt: skip
    assert project["pending_gate"] == "concept" and project["open_changes"][0]["id"] == "RC-1"
    assert "PENDING" in cli("project", "show", pid)
    js(cli, "project", "confirm", pid, "RC-1", "--reason", "customer list seen", *OFFICER_B)
    for gate in ("development", "testing"):
        project = pass_gate(cli, pid, gate)
    assert project["stage"] == "testing"

    # a marketing licence, then the MARKETING gate
    marketing = licensed(cli, "marketing", ITEM, "--country", "GB", "--country", "NO")
    assert marketing["state"] == "active" and marketing["countries"] == ["GB", "NO"]
    assert pass_gate(cli, pid, "marketing")["stage"] == "marketing"

    # an export licence to a vetted tier-A government end user, signed declaration, two approvers
    export_args = ("export", ITEM, "--country", "GB", "--end-user", END_USER, "--end-use",
                   "serious crime under warrant", "--declaration-signed", "--government-end-user",
                   "--marketing-licence", marketing["id"])  # fmt: skip
    export = licensed(cli, *export_args)
    assert export["end_user"] == END_USER and export["marketing_licence"] == marketing["id"]
    assert {c["type"] for c in export["conditions"]} >= {"NoReexport", "GovernmentEndUserOnly"}
    shown = cli("licence", "show", export["id"])
    assert "active" in shown and "no re-export" in shown

    # its reporting duty: a missed report is flagged (the sweep exits 3) until the vendor files one
    late = (date.today() + timedelta(days=120)).isoformat()
    overdue = cli.invoke("licence", "sweep", "--today", late, "--json")
    assert overdue.exit_code == 3, overdue.output
    assert [m["licence"] for m in json.loads(overdue.stdout)["missed"]] == [export["id"]]
    js(cli, "licence", "report", export["id"], "--summary", "two warrants executed", *VENDOR)
    assert js(cli, "licence", "sweep", "--today", late)["missed"] == []

    # refused for a listed end user: screening at submission denies it at once, with the reason
    listed = js(cli, "licence", "apply", *export_args[:4], "--end-user", "Intellexa Limited",
                *export_args[6:], *VENDOR)  # fmt: skip
    assert listed["state"] == "denied"
    assert listed["recommendation"]["verdict"] == "deny"
    assert "Intellexa" in cli("licence", "show", listed["id"])

    # a misuse report suspends the licence at once; once substantiated, the end user's partner tier drops
    report = js(cli, "misuse", "report", "--source", "Amnesty Tech", "--allegation",
                "implant found on a journalist's phone", "--country", "GB", "--end-user", END_USER,
                "--licence", export["id"], "--target", "journalists")  # fmt: skip
    suspend = ("--suspend-licence", export["id"], "--reason", "credible")
    interim = js(cli, "misuse", "act", report["id"], *suspend)
    assert interim["suspended_licences"] == [export["id"]]
    js(cli, "misuse", "investigate", report["id"], "--finding", "substantiated", "--reason", "forensics")
    lowered = js(cli, "misuse", "act", report["id"], "--lower-partner", "nca", "--to-tier", "3",
                 "--reason", "end user misused the tool")  # fmt: skip
    assert lowered["partners_lowered"] == ["nca: 1 -> 3"] and lowered["report"]["state"] == "actioned"
    assert "actioned" in cli("misuse", "show", report["id"])
    assert js(cli, "licence", "show", export["id"])["state"] == "suspended"
    assert js(cli, "licence", "show", marketing["id"])["state"] == "active"
    partner = next(p for p in js(cli, "partner", "list") if p["name"] == "nca")  # type: ignore[attr-defined]
    assert partner["trust_tier"] == 3

    # all of it in the history
    actions = [e["action"] for e in js(cli, "licence", "history", export["id"])]  # type: ignore[index]
    assert actions[0] == "draft" and actions[-4:] == ["issue", "report-missed", "report-received", "suspend"]
    assert actions.count("approve") == 2
    gates = [e for e in js(cli, "licence", "history", pid) if e["action"] == "review-gate"]  # type: ignore[index]
    assert ["required_change", "RC-1: name the customers"] in gates[0]["details"]
    item_history = js(cli, "licence", "history", ITEM)
    assert item_history[0]["action"] == "classify"  # type: ignore[index]
    misuse = [e["action"] for e in js(cli, "licence", "history", report["id"])]  # type: ignore[index]
    assert misuse == ["receive", "interim-action", "investigate", "action"]
    assert "suspend" in cli("licence", "history", export["id"])
    assert js(cli, "licence", "list", "--state", "suspended")["licences"][0]["id"] == export["id"]


def test_refusals_exit_1_with_the_reason_and_change_nothing(cli: Cli) -> None:
    pid = registered(cli)
    js(cli, "project", "review", pid, "--gate", "concept", "--require-change", "x", *OFFICER_A)
    refused(cli, "project", "advance", pid, *VENDOR, says="gate(s) concept, development not passed")
    refused(cli, "project", "review", pid, "--gate", "testing", *OFFICER_A, says="concept")
    js(cli, "project", "confirm", pid, "RC-1", *OFFICER_B)
    refused(cli, "project", "confirm", pid, "RC-1", *OFFICER_B, says="no unconfirmed required change")
    for gate in ("development", "testing"):
        pass_gate(cli, pid, gate)
    app = js(cli, "licence", "apply", "marketing", ITEM, "--country", "GB", *VENDOR)
    js(cli, "licence", "confirm-classification", app["id"], *OFFICER_A)

    # the vendor approving its own application; the same officer twice
    refused(cli, "licence", "approve", app["id"], "--reason", "mine", *VENDOR, says="an officer's decision")
    insider = ("--org", VENDOR_ORG, "--actor", "kestrel-compliance")
    refused(cli, "licence", "approve", app["id"], "--reason", "ok", *insider, says="outside the vendor")
    js(cli, "licence", "approve", app["id"], "--reason", "ok", *OFFICER_A)
    refused(cli, "licence", "approve", app["id"], "--reason", "again", *OFFICER_A,
            says="cli:officer-a already approved")  # fmt: skip
    refused(cli, "licence", "approve", app["id"], "--reason", " ", *OFFICER_B, says="written reason")

    # exporting without a marketing licence; a missing declaration
    export = ("licence", "apply", "export", ITEM, "--country", "GB", "--end-user", END_USER,
              "--end-use", "serious crime", "--government-end-user", *VENDOR)  # fmt: skip
    refused(cli, *export, "--declaration-signed", says="needs a marketing licence before an export licence")
    refused(cli, *export, "--marketing-licence", "ML-X", says="signed declaration is required")

    # who acts, and input the CLI checks
    refused(cli, "licence", "apply", "marketing", ITEM, "--country", "GB", "--as", "vendor",
            says="--as vendor needs --org")  # fmt: skip
    refused(cli, "licence", "apply", "marketing", ITEM, "--country", "GB", *OFFICER_A,
            says="only Kestrel Cyber Ltd files")  # fmt: skip
    refused(cli, "licence", "show", app["id"], "--as", "vendor", "--org", "Osprey Systems",
            says="no application or licence")  # fmt: skip
    refused(cli, "licence", "approve", app["id"], "--reason", "r", "--condition", "teleport", *OFFICER_B,
            says="unknown condition")  # fmt: skip
    refused(cli, "misuse", "show", "M-1", *VENDOR, says="officer's decision")
    refused(cli, "item", "add", "--from-file", str(cli.file("bad.yaml", "name: x\nvendor: y\ncolour: red\n")),
            says="unknown properties colour")  # fmt: skip
    refused(cli, "licence", "list", "--state", "asleep", says="unknown state")

    # and a decision still goes through afterwards, with a typed condition
    done = js(cli, "licence", "approve", app["id"], "--reason", "ok", "--condition", "reporting:90:10",
              "--validity-days", "30", *OFFICER_B)  # fmt: skip
    assert done["state"] == "approved-with-conditions"
    assert done["licence"]["conditions"][0]["every_days"] == 90


def test_item_from_flags_suspend_reinstate_and_withdraw(cli: Cli) -> None:
    edr = js(cli, "item", "add", "Sentinel EDR", "--category", "defensive-tool", "--as", "vendor",
             "--org", "Osprey Systems")  # fmt: skip
    assert edr["tier"] == "defensive" and edr["vendor"] == "Osprey Systems"
    flagged = js(cli, "item", "add", "Probe", "--vendor", "Osprey Systems", "--category", "exploit",
                 "--declared", "avoids_monitoring", "--declared", "modifies_execution_path",
                 "--carve-out", "vulnerability-disclosure")  # fmt: skip
    assert flagged["tier"] == "offensive"
    assert [i["name"] for i in js(cli, "item", "list", *VENDOR)] == []
    refused(cli, "project", "register", "Sentinel EDR", says="only dual-use and offensive items are")

    pid = registered(cli)
    assert js(cli, "project", "suspend", pid, "--reason", "leak inquiry")["state"] == "suspended"
    refused(cli, "project", "advance", pid, *VENDOR, says="suspended")
    assert js(cli, "project", "resume", pid, "--reason", "cleared")["state"] == "concept"
    for gate in ("concept", "development"):
        pass_gate(cli, pid, gate, advance=gate != "concept")
    pass_gate(cli, pid, "testing")
    app = js(cli, "licence", "apply", "marketing", ITEM, "--country", "GB", *VENDOR)
    assert js(cli, "licence", "withdraw", app["id"], "--reason", "not now", *VENDOR)["state"] == "withdrawn"
    licence = licensed(cli, "marketing", ITEM, "--country", "NO")
    assert js(cli, "licence", "suspend", licence["id"], "--reason", "audit")["state"] == "suspended"
    assert js(cli, "licence", "reinstate", licence["id"], "--reason", "audit done")["state"] == "active"
    assert js(cli, "licence", "revoke", licence["id"], "--reason", "ended")["state"] == "revoked"
    refused(cli, "licence", "reinstate", licence["id"], "--reason", "r", says="revoked")
    assert len(js(cli, "licence", "list", "--vendor", VENDOR_ORG)["licences"]) == 1
