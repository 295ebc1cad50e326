"""`gesher watchlist`, `gesher screen`, `gesher vet` and the vetting commands of `gesher partner`, in process
on both stores: what an officer types, what is refused, and what the store then holds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection

from gesher.exchange.node import Node
from gesher.settings import Settings
from gesher.store import vetting as records
from gesher.store import watchlists as watchlist_store
from tests.cli.test_policy_cli import Cli

LIST_V1 = """id,schema,name,aliases,country,listed_since,removed_on,authority
acme,Company,Acme Offensive Cyber Ltd,Acme Cyber,CY,2026-01-10,,National list
mallory,Person,Mallory Exampleton,,CY,2026-01-10,2026-02-01,National list
"""


@pytest.fixture
def cli(db_url: str, tmp_path) -> Cli:  # type: ignore[no-untyped-def]
    run = Cli(db_url, tmp_path)
    run("init")
    return run


@contextmanager
def _store(cli: Cli) -> Iterator[Connection]:
    node = Node.open(Settings(data_dir=cli.tmp_path, database_url=cli.args[3]))
    try:
        with node.db.read() as conn:
            yield conn
    finally:
        node.db.dispose()


def _load(cli: Cli, text: str, version: str, ok: bool = True) -> str:
    path = cli.file(f"national-{version}.csv", text)
    args = ("--name", "national", "--version", version, "--published", "2026-11-01")
    return cli("watchlist", "load", str(path), *args, "--reason", "test", "--json", ok=ok)


def test_screening_needs_a_list_and_explains_each_candidate(cli: Cli) -> None:
    assert "no watchlist is loaded" in cli("screen", "NSO Group", ok=False)
    cli("watchlist", "load", "--shipped", "--reason", "initial")
    out = json.loads(cli("screen", "N.S.O. Group Technologies Limited", "--country", "IL", "--json"))
    assert out["outcome"] == "match"
    best = out["candidates"][0]
    assert best["entry_name"] == "NSO Group" and best["features"]
    assert set(out["list_versions"]) == {"spyware-fixture", "us-dos-spyware-visa-212a3c"}
    assert "MATCH" in cli("screen", "Intelexa SA")
    # A person nobody lists: the confidential visa list (persons) means it cannot be shown clear.
    assert json.loads(cli("screen", "Jane Doe", "--schema", "Person", "--json"))["outcome"] == "unknown"
    with _store(cli) as conn:
        recorded = records.screenings_of(conn, "query")
    assert len(recorded) == 3 and all(r.lists for r in recorded)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("",), "nothing to compare"),
        (("...",), "nothing to compare"),
        (("x" * 301,), "too long"),
        (("NSO", "--country", "XX"), "ISO 3166"),
        (("NSO", "--schema", "Vessel"), "unknown schema"),
    ],
)
def test_bad_names_and_countries_are_refused_clearly(cli: Cli, args: tuple[str, ...], message: str) -> None:
    cli("watchlist", "load", "--shipped", "--reason", "initial")
    assert message in cli("screen", *args, ok=False)


def test_a_list_version_loads_once_whole_or_not_at_all(cli: Cli) -> None:
    loaded = json.loads(_load(cli, LIST_V1, "1"))
    assert loaded["loaded"] == [{"name": "national", "version": "1", "entries": 2, "confidential": False}]
    assert "already loaded" in _load(cli, LIST_V1, "1", ok=False)
    broken = LIST_V1 + "bad,Vessel,Some Ship,,CY,2026-01-10,,x\n"
    message = _load(cli, broken, "2", ok=False)
    assert "line 4" in message and "schema" in message
    assert "YYYY-MM-DD" in cli(
        "watchlist", "load", "--shipped", "--published", "soon", "--reason", "r", ok=False
    )
    assert "give a watchlist FILE or --shipped" in cli("watchlist", "load", "--reason", "r", ok=False)
    with _store(cli) as conn:
        assert [(w.name, w.version) for w in watchlist_store.history(conn)] == [("national", "1")]


def test_vetting_proposes_an_officer_decides_and_history_grows(cli: Cli) -> None:
    cli(
        "partner",
        "add",
        "uk-cert",
        "--country",
        "GB",
        "--kind",
        "government",
        "--legal-name",
        "UK Cyber CERT",
    )
    assert "run `gesher vet uk-cert` first" in cli(
        "partner", "approve-tier", "uk-cert", "1", "--reason", "r", ok=False
    )
    _load(cli, LIST_V1, "1")
    vetting = json.loads(cli("vet", "uk-cert", "--json"))
    assert vetting["proposed_tier"] == 1 and vetting["composite_risk"] == "LOW"
    assert vetting["screening"]["outcome"] == "clear"
    assert "approved" in cli("partner", "approve-tier", "uk-cert", "1", "--reason", "allied CERT")
    assert "overridden" in cli("partner", "approve-tier", "uk-cert", "2", "--reason", "new agreement pending")
    assert "reason is required" in cli("partner", "approve-tier", "uk-cert", "2", "--reason", " ", ok=False)
    assert "must be 1 (closest allies) to 4" in cli(
        "partner", "approve-tier", "uk-cert", "9", "--reason", "r", ok=False
    )
    history = json.loads(cli("vet", "uk-cert", "--history", "--json"))
    assert [e["action"] for e in history] == ["assessed", "approved", "overridden"]
    assert history[-1]["tier"] == 2 and history[-1]["proposed_tier"] == 1
    partners = json.loads(cli("partner", "list", "--json"))
    assert next(p for p in partners if p["name"] == "uk-cert")["trust_tier"] == 2


def test_a_listed_owner_cuts_the_partner_off_and_no_tier_can_be_approved(cli: Cli) -> None:
    cli(
        "partner", "add", "front", "--country", "CY", "--kind", "industry", "--legal-name", "Blue Harbour Ltd"
    )
    _load(cli, LIST_V1, "1")
    cli("partner", "owner", "front", "Acme Offensive Cyber Limited", "--country", "CY", "--share", "0.6")
    vetting = json.loads(cli("vet", "front", "--json"))
    assert vetting["composite_risk"] == "PROHIBITED" and vetting["proposed_tier"] is None
    assert vetting["cut_off"] and vetting["owners"][0]["outcome"] == "match"
    assert any("Acme Offensive Cyber" in r["text"] for r in vetting["reasons"])
    front = next(p for p in json.loads(cli("partner", "list", "--json")) if p["name"] == "front")
    assert front["suspended"]
    assert "hard denial" in cli("partner", "approve-tier", "front", "3", "--reason", "r", ok=False)
    assert "share" in cli("partner", "owner", "front", "Someone", "--share", "1.5", ok=False)


def test_a_listed_name_cannot_register(cli: Cli) -> None:
    _load(cli, LIST_V1, "1")
    refused = cli(
        "partner", "add", "acme", "--country", "CY", "--kind", "industry", "--alias", "Acme Cyber", ok=False
    )
    assert "not registered" in refused and "Acme Offensive Cyber Ltd" in refused
    assert "acme" not in [p["name"] for p in json.loads(cli("partner", "list", "--json"))]


def test_vet_due_vets_those_never_vetted(cli: Cli) -> None:
    for name in ("one", "two"):
        cli("partner", "add", name, "--country", "DE", "--kind", "isac")
    _load(cli, LIST_V1, "1")
    cli("vet", "one")
    due = json.loads(cli("vet", "--due", "--json"))
    assert [v["partner"] for v in due] == ["two"]
    assert "no partner is due" in cli("vet", "--due")
    assert "name one partner, or give --due" in cli("vet", ok=False)
