"""`gesher licence overview` and `gesher partner licensing-role`, in process on both stores: the report per
item, vendor or country as a table, JSON and CSV (a vendor sees its own, without the officers' parts), and
licensing roles given, shown and withdrawn by the operator, with bad ones refused."""

from __future__ import annotations

import csv
import io
import json

import pytest

from gesher.exchange.node import Node
from gesher.licensing.conditions import LicenceKind
from gesher.settings import Settings
from tests.cli.test_policy_cli import Cli
from tests.licensing_service.helpers import (
    LISTED,
    VENDOR_ORG,
    export_facts,
    file,
    licensed,
    load_national_list,
)

VENDOR = ("--as", "vendor", "--org", VENDOR_ORG)
OTHER = ("--as", "vendor", "--org", "Osprey Systems")


@pytest.fixture
def cli(db_url: str, tmp_path) -> Cli:  # type: ignore[no-untyped-def]
    run = Cli(db_url, tmp_path)
    run("init")
    return run


@pytest.fixture
def recorded(cli: Cli) -> dict[str, str]:
    """Through the services on the CLI's store: a marketing and an export licence (GB) and a refusal."""
    node = Node.open(Settings(data_dir=cli.tmp_path, database_url=cli.args[3]))
    try:
        load_national_list(node)
        _, marketing, export = licensed(node)
        refused = file(node, LicenceKind.EXPORT, **export_facts(marketing, end_user=LISTED))
    finally:
        node.db.dispose()
    return {"marketing": marketing.id, "export": export.id, "refused": refused.id}


def test_the_overview_by_country_as_json(cli: Cli, recorded: dict[str, str]) -> None:
    data = json.loads(cli("licence", "overview", "--by", "country", "--format", "json"))
    assert data["by"] == "country"
    (gb,) = data["groups"]
    assert gb["key"] == "GB" and gb["in_force"] == 2
    assert {x["licence"] for x in gb["licensed"]} == {recorded["marketing"], recorded["export"]}
    (denial,) = gb["refused"]
    assert denial["application"] == recorded["refused"] and "LISTED_PARTY" in denial["codes"]
    own = json.loads(cli("licence", "overview", "--by", "country", "--format", "json", *VENDOR))
    assert (
        own["groups"][0]["refused"][0]["codes"] == [] and own["groups"][0]["refused"][0]["decided_by"] == []
    )
    assert json.loads(cli("licence", "overview", "--by", "item", "--format", "json", *OTHER))["groups"] == []


def test_the_overview_as_csv_and_table(cli: Cli, recorded: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("licence", "overview", "--by", "vendor", "--format", "csv"))))
    assert {r["group"] for r in rows} == {VENDOR_ORG}
    assert {(r["record"], r["id"]) for r in rows} == {
        ("licence", recorded["marketing"]), ("licence", recorded["export"]), ("refused", recorded["refused"])
    }  # fmt: skip
    table = cli("licence", "overview", "--by", "item")
    assert "Harrier delivery platform: 2 in force, 1 refused, 0 open" in " ".join(table.split())
    assert "--by" in cli("licence", "overview", ok=False)


def test_licensing_roles_at_the_console(cli: Cli) -> None:
    cli("partner", "add", "kestrel", "--country", "GB", "--kind", "industry")
    assert "no licensing role" in cli("partner", "licensing-role", "kestrel")
    cli(
        "partner",
        "licensing-role",
        "kestrel",
        "--role",
        "vendor",
        "--org",
        VENDOR_ORG,
        "--reason",
        "undertaking",
    )
    shown = json.loads(cli("partner", "licensing-role", "kestrel", "--json"))
    assert shown["role"]["role"] == "vendor" and shown["role"]["organisation"] == VENDOR_ORG
    for args, says in (
        (("--role", "vendor", "--reason", "r"), "names its organisation"),
        (("--role", "system", "--reason", "r"), "one of vendor"),
        (("--role", "officer"), "--reason is required"),
    ):
        assert says in " ".join(cli("partner", "licensing-role", "kestrel", *args, ok=False).split())
    assert "no partner" in cli(
        "partner", "licensing-role", "ghost", "--role", "officer", "--reason", "r", ok=False
    )
    cli("partner", "licensing-role", "kestrel", "--role", "none", "--reason", "left")
    shown = json.loads(cli("partner", "licensing-role", "kestrel", "--json"))
    assert shown["role"] is None and [h["role"] for h in shown["history"]] == ["vendor", "none"]
