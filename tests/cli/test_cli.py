"""The CLI contract of issue 2, in process (Typer's runner) on both stores."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.exchange.node import Node
from gesher.partners.service import authenticate
from gesher.settings import Settings
from gesher.store import audit
from gesher.store.tables import partners
from tests.factories import indicator

DEMO = Path(__file__).resolve().parents[2] / "src" / "gesher" / "demo_data"


@pytest.fixture
def run(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, ["--data-dir", str(tmp_path), "--database-url", db_url, *args])
        assert (result.exit_code == 0) == ok, result.output
        return result.stdout if ok else result.output

    invoke("init")
    return invoke


POLICY_NAMING_BANK = """
version: 1
rules:
  - name: bank-need-to-know
    partners: [bank]
    max_tlp: AMBER
    max_tier: defensive
"""


def test_collection_partner_grant_ingest_export(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    created = json.loads(run("collection", "add", "spyware", "--json"))
    token = json.loads(run("partner", "add", "bank", "--country", "nl", "--kind", "isac", "--json"))["token"]
    assert token.startswith("gsh_") and len(token) > 40
    run("partner", "grant", "bank", "spyware", "--read")
    run("partner", "set", "bank", "--tier", "2", "--sectors", "finance", "--reason", "vetted")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY_NAMING_BANK)
    run("policy", "load", str(policy), "--reason", "bank joins")
    report = json.loads(
        run(
            "ingest",
            str(DEMO / "amnesty_2024-12-16_serbia_novispy_novispy.json.gz"),
            "--collection",
            "spyware",
            "--json",
        )
    )
    assert report[0]["stored"] == 37 and report[0]["rejected"] == 0
    bundle = orjson.loads(run("export", "--collection", created["id"], "--partner", "bank"))
    original = json.loads(
        gzip.decompress((DEMO / "amnesty_2024-12-16_serbia_novispy_novispy.json.gz").read_bytes())
    )
    assert bundle["type"] == "bundle" and bundle["id"].startswith("bundle--")
    assert sorted(bundle["objects"], key=lambda o: o["id"]) == sorted(
        original["objects"], key=lambda o: o["id"]
    )


def test_export_as_partner_without_grant_fails_and_writes_nothing(run) -> None:  # type: ignore[no-untyped-def]
    run("collection", "add", "secret")
    run("partner", "add", "ngo", "--country", "DE", "--kind", "ngo")
    output = run("export", "--collection", "secret", "--partner", "ngo", ok=False)
    assert "no collection" in output and "bundle" not in output


def test_ingest_reports_rejected_objects_and_stores_the_rest(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("collection", "add", "c")
    bad = indicator(pattern="[not a pattern")
    path = tmp_path / "mixed.json"
    path.write_text(
        json.dumps(
            {
                "type": "bundle",
                "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d",
                "objects": [indicator(), bad],
            }
        )
    )
    report = json.loads(run("ingest", str(path), "--collection", "c", "--json"))
    assert report[0]["stored"] == 1 and report[0]["failures"][0]["id"] == bad["id"]


def test_malformed_file_is_rolled_back_whole(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("collection", "add", "c")
    objs = [indicator() for _ in range(1500)]
    text = json.dumps(
        {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": objs}
    )
    path = tmp_path / "truncated.json"
    path.write_text(text[: len(text) - 500])  # valid objects first, then the file breaks
    run("ingest", str(path), "--collection", "c", ok=False)
    bundle = orjson.loads(run("export", "--collection", "c"))
    assert bundle["objects"] == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("partner", "add", "xx", "--country", "XX", "--kind", "isac"), "ISO 3166"),
        (("partner", "add", "xx", "--country", "GB", "--kind", "pirate"), "must be one of"),
        (("partner", "add", "bad name!", "--country", "GB", "--kind", "isac"), "partner name"),
        (("partner", "grant", "nobody", "c"), "no partner"),
        (("ingest", "/nonexistent.json", "--collection", "c"), "no such file"),
        (("export", "--collection", "nope"), "no collection"),
        (("collection", "add", "c"), "already exists"),
    ],
)
def test_bad_input_gets_a_clear_error(run, args: tuple[str, ...], fragment: str) -> None:  # type: ignore[no-untyped-def]
    run("collection", "add", "c")
    assert fragment in run(*args, ok=False)


def test_revoked_token_stops_working(run, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    token = json.loads(run("partner", "add", "pp", "--country", "GB", "--kind", "isac", "--json"))["token"]
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.read() as conn:
            assert authenticate(conn, token, "pp") is not None
        run("partner", "revoke-token", "pp", "--reason", "test")
        with node.db.read() as conn:
            assert authenticate(conn, token, "pp") is None
            assert authenticate(conn, token) is None
    finally:
        node.db.dispose()


def test_management_actions_leave_an_audit_trail_without_secrets(run, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("collection", "add", "c")
    token = json.loads(run("partner", "add", "pp", "--country", "GB", "--kind", "isac", "--json"))["token"]
    run("partner", "grant", "pp", "c", "--read")
    run("partner", "revoke-token", "pp", "--reason", "left the programme")
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.read() as conn:
            trail = audit.events(conn, subject="partner:pp")
    finally:
        node.db.dispose()
    assert [e["action"] for e in trail] == ["partner.create", "token.issue", "grant.set", "token.revoke"]
    assert all(str(e["actor"]).startswith("cli:") for e in trail)
    assert "left the programme" in str(trail[-1]["details"])
    assert not any(token in str(e["details"]) for e in trail)


def test_export_as_a_suspended_partner_releases_nothing(run, db_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run("collection", "add", "c")
    run("partner", "add", "pp", "--country", "GB", "--kind", "isac", "--admin")
    run("partner", "grant", "pp", "c", "--read")
    assert orjson.loads(run("export", "--collection", "c", "--partner", "pp"))["objects"] == []
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.write() as conn:
            conn.execute(update(partners).where(partners.c.name == "pp").values(suspended=True))
    finally:
        node.db.dispose()
    assert "no collection" in run("export", "--collection", "c", "--partner", "pp", ok=False)
