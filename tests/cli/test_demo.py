"""`gesher demo` on both stores: real data loads completely, partners get working tokens, re-runs are safe."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import orjson
from typer.testing import CliRunner

from gesher.cli.demo import COLLECTIONS, PARTNERS, demo_files
from gesher.cli.main import app
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound
from gesher.partners.service import authenticate, require_collection
from gesher.settings import Settings
from gesher.taxii.query import TaxiiQuery

DEMO_CERT = "identity--b18c68a3-8f39-4071-9634-0624a3a992c7"


def _unique_ids(prefix: str) -> int:
    """Objects served by default are the latest version of each id; some ids recur across files."""
    return len(
        {
            o["id"]
            for f in demo_files(prefix)
            for o in orjson.loads(gzip.decompress(f.read_bytes()) if f.suffix == ".gz" else f.read_bytes())[
                "objects"
            ]
        }
    )


def _demo(db_url: str, tmp_path: Path) -> str:
    result = CliRunner().invoke(
        app, ["--data-dir", str(tmp_path), "--database-url", db_url, "demo", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _tokens(output: str) -> dict[str, str]:
    return dict(re.findall(r"([a-z-]+): (gsh_[A-Za-z0-9_-]+)", output))


def test_demo_ships_its_data_with_attribution() -> None:
    assert len(demo_files("amnesty_")) == 5 and len(demo_files("mitre_")) == 2
    folder = demo_files("mitre_")[0].parent
    assert (folder / "ATTRIBUTION.md").exists() and (folder / "LICENSE-MITRE-ATTACK.txt").exists()


def test_demo_loads_everything_and_rerunning_rotates_tokens(db_url: str, tmp_path: Path) -> None:
    first = _tokens(_demo(db_url, tmp_path))
    assert set(first) == set(PARTNERS)
    second_output = _demo(db_url, tmp_path)
    second = _tokens(second_output)
    assert "curl" in second_output and "taxii2client" in second_output
    assert "&match[type]=indicator'" in second_output  # printed as pasted, not eaten as markup
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.read() as conn:
            for name in PARTNERS:
                assert authenticate(conn, first[name], name) is None
                assert authenticate(conn, second[name], name) is not None
            allied = authenticate(conn, second["allied-cert"], "allied-cert")
            assert allied is not None
            for name, (_, prefix) in COLLECTIONS.items():
                if name == "national-alerts":
                    continue  # mixed markings: see the test below
                collection = require_collection(conn, name)
                page = Outbound(conn, allied, node.clearance).objects(
                    collection.id, TaxiiQuery(), None, 20_000
                )
                assert len(page.rows) == (_unique_ids(prefix) if prefix else 0), name
            assert set(COLLECTIONS) <= {
                c.name for c, _ in Outbound(conn, allied, node.clearance).collections()
            }
    finally:
        node.db.dispose()


PUBLIC = {"Phishing domain (public)", "gesher: public", "gesher: embargoed until 2030"}
VETTED = PUBLIC | {"Loader C2 address", "Beacon seen from an internal host", "Spear-phishing sender"}
VETTED |= {"Ransomware staging server"}
# What each demo partner receives of the national alerts, by name (the relationship has none), and why:
# allied-cert is tier 1 in the CERT network and named by the offensive marking, whose item was released;
# finance-isac holds an AMBER agreement up to defensive; research-lab is not vetted. Nobody receives the
# embargoed item, the indicator whose pattern is an internal address, the protected originator's identity,
# or the sensitive report still waiting for its second analyst.
EXPECTED = {
    "allied-cert": VETTED
    | {
        "Offensive implant (demo)",
        "gesher: offensive, allied-cert only",
        "gesher: sensitive, CERT network only",
    }
    | {"relationship"},
    "finance-isac": VETTED,
    "research-lab": PUBLIC,
}


def test_each_demo_partner_pulls_exactly_what_the_policy_allows_redacted_as_configured(
    db_url: str, tmp_path: Path
) -> None:
    tokens = _tokens(_demo(db_url, tmp_path))
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.read() as conn:
            alerts = require_collection(conn, "national-alerts")
            for name, expected in EXPECTED.items():
                caller = authenticate(conn, tokens[name], name)
                assert caller is not None
                page = Outbound(conn, caller, node.clearance).objects(alerts.id, TaxiiQuery(), None, 1000)
                served = [orjson.loads(body) for _, body, *_ in page.rows]
                assert {o.get("name", o["type"]) for o in served} == expected, name
                for obj in served:
                    assert obj.get("created_by_ref") != DEMO_CERT  # protected originator replaced
                    assert "x_victim_name" not in obj and "10.20.30.40" not in orjson.dumps(obj).decode()
                    if obj.get("name") == "Spear-phishing sender":
                        assert "description" not in obj  # granularly marked TLP:RED
    finally:
        node.db.dispose()


def test_explain_names_the_redactions_the_demo_partner_gets(db_url: str, tmp_path: Path) -> None:
    _demo(db_url, tmp_path)
    beacon = "indicator--22894011-0efd-4501-b979-a9f1343c89fd"
    args = ["--data-dir", str(tmp_path), "--database-url", db_url, "policy", "explain"]
    result = CliRunner().invoke(app, [*args, "--partner", "finance-isac", "--object", beacon])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "finance-isac receives" in text and "agreement finance-isac-mou-2026" in text
    assert "replaced by [redacted]" in text and "protected originator replaced" in text
