"""`gesher policy`, `gesher release` and `gesher partner set`, in process (Typer's runner) on both stores.

What `policy explain` and `policy preview` say a partner receives is checked against what `export
--partner` actually hands that partner: the explanation must come from the enforcement path itself."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import ClassVar

import orjson
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.exchange.node import Node
from gesher.settings import Settings
from gesher.stix import constants as c
from gesher.store.tables import objects
from tests.factories import gesher_marking, indicator, malware

T0 = "2024-01-01T00:00:00.000Z"


class Cli:
    """The CLI against one store; `run` asserts the exit status and returns stdout (or all output when the
    command is expected to fail)."""

    def __init__(self, db_url: str, tmp_path: Path) -> None:
        self.runner = CliRunner()
        self.args = ["--data-dir", str(tmp_path), "--database-url", db_url]
        self.tmp_path = tmp_path

    def invoke(self, *args: str):  # type: ignore[no-untyped-def]
        return self.runner.invoke(app, [*self.args, *args])

    def __call__(self, *args: str, ok: bool = True) -> str:
        result = self.invoke(*args)
        assert (result.exit_code == 0) == ok, result.output
        return str(result.stdout if ok else result.output)

    def file(self, name: str, text: str | bytes) -> Path:
        path = self.tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    run = Cli(db_url, tmp_path)
    run("init")
    return run


POLICY = """
version: 1
rules:
  - name: vetted-green
    trust_tiers: [1, 2, 3]
    max_tlp: GREEN
    max_tier: defensive
  - name: gb-amber
    partners: [cert-gb]
    max_tlp: AMBER
    max_tier: sensitive
"""

STRICTER = """
version: 2
rules:
  - name: gb-only
    partners: [cert-gb]
    max_tlp: GREEN
    max_tier: defensive
"""


# --- policy check ----------------------------------------------------------------------------------------

BROKEN = {
    "several.yaml": (
        """version: 1
rules:
  - name: r1
    max_tlp: PURPLE
    max_tier: defensive
    countries: [UK]
  - name: r1
    max_tlp: RED
    max_tier: secret
    colour: blue
""",
        {(4, 14), (6, 17), (7, 11), (8, 14), (9, 15), (10, 5)},
    ),
    "syntax.yaml": ("version: 1\nrules: [\n", {(3, 1)}),
    "latin1.yaml": (b"version: 1\n# caf\xe9\n", {(2, 6)}),
    "empty.yaml": ("", {(1, 1)}),
    "alias.yaml": ("version: &v 1\nrules: *v\n", {(1, 10), (2, 8)}),
    "references.yaml": (
        """version: 1
profiles:
  strict: {drop_free_text: true}
rules:
  - name: a
    partners: [cert-gb]
    max_tlp: AMBER
    max_tier: defensive
    profile: strcit
agreements:
  - name: b
    partners: [cert-gb]
    max_tlp: GREEN
    max_tier: public
    expires: tomorrow
""",
        {(9, 14), (15, 14)},
    ),
    "amber-by-tier.yaml": (
        "version: 1\nrules:\n  - {name: a, trust_tiers: [1], max_tlp: AMBER, max_tier: public}\n",
        {(3, 42)},
    ),
}


def flat(text: str) -> str:
    """Rich wraps long lines at the terminal width: compare words, not line breaks."""
    return " ".join(text.split())


PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): \S.*$")


def test_check_accepts_a_valid_policy_with_a_summary(cli: Cli) -> None:
    out = flat(cli("policy", "check", str(cli.file("policy.yaml", POLICY))))
    assert (
        "policy.yaml: policy version 1 is valid: 2 rule(s), 0 group(s), 0 agreement(s), 0 profile(s)" in out
    )


@pytest.mark.parametrize("name", BROKEN)
def test_check_prints_every_problem_at_its_line_and_column(cli: Cli, name: str) -> None:
    text, expected = BROKEN[name]
    result = cli.invoke("policy", "check", str(cli.file(name, text)))
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert lines, result.output
    found = set()
    for line in lines:
        match = PROBLEM.match(line)
        assert match is not None, line
        assert match["file"] == name
        found.add((int(match["line"]), int(match["col"])))
    assert found == expected, lines
    assert "is valid" not in result.output


def test_check_of_a_missing_file_fails(cli: Cli) -> None:
    result = cli.invoke("policy", "check", str(cli.tmp_path / "nowhere.yaml"))
    assert result.exit_code == 1
    assert result.stderr.startswith("nowhere.yaml: cannot read")


def test_init_prints_a_policy_that_passes_check(cli: Cli) -> None:
    example = cli("policy", "init")
    assert example.startswith("# gesher sharing policy")
    out = flat(cli("policy", "check", str(cli.file("example.yaml", example))))
    assert "policy version 1 is valid: 3 rule(s), 1 group(s), 1 agreement(s), 2 profile(s)" in out
    cli("policy", "load", str(cli.tmp_path / "example.yaml"), "--reason", "start from the example")
    assert cli("policy", "show") == example


# --- policy load and show --------------------------------------------------------------------------------


def test_show_before_any_load_says_default_deny(cli: Cli) -> None:
    assert "no policy loaded: default deny" in cli("policy", "show")


def test_load_requires_a_reason_and_refuses_invalid_files(cli: Cli) -> None:
    good = cli.file("policy.yaml", POLICY)
    result = cli.invoke("policy", "load", str(good))
    assert result.exit_code == 2 and "--reason" in result.output
    assert "a reason is required" in cli("policy", "load", str(good), "--reason", "  ", ok=False)
    assert "no policy loaded" in cli("policy", "show")
    assert "in force" in cli("policy", "load", str(good), "--reason", "first policy")
    shown = cli("policy", "show")
    assert shown == POLICY
    for name, (text, _) in BROKEN.items():
        output = cli("policy", "load", str(cli.file(name, text)), "--reason", "try", ok=False)
        assert f"{name}:" in output and "Traceback" not in output
        assert cli("policy", "show") == shown
    output = cli("policy", "load", str(cli.tmp_path / "nowhere.yaml"), "--reason", "try", ok=False)
    assert "cannot read" in output
    assert cli("policy", "show") == shown


def test_show_history_lists_every_load_in_order(cli: Cli) -> None:
    cli("policy", "load", str(cli.file("one.yaml", POLICY)), "--reason", "first")
    cli("policy", "load", str(cli.file("bad.yaml", "version: x\n")), "--reason", "broken", ok=False)
    cli("policy", "load", str(cli.file("two.yaml", STRICTER)), "--reason", "tighter")
    assert cli("policy", "show") == STRICTER
    history = cli("policy", "show", "--history")
    rows = [line for line in history.splitlines() if re.search(r"\b(first|tighter|broken)\b", line)]
    assert len(rows) == 2, history
    assert "first" in rows[0] and "tighter" in rows[1]
    assert re.search(r"\b1\b.*\b1\b.*cli:", rows[0]) and re.search(r"\b2\b.*\b2\b.*cli:", rows[1])


# --- explain, preview and export agree -------------------------------------------------------------------


class Exchange:
    """Partners with different standings, a policy, and a bundle of differently marked objects."""

    PARTNERS: ClassVar[dict[str, tuple[str, str, str, bool]]] = {
        # name: (country, kind, tier, read grant)
        "cert-gb": ("GB", "government", "1", True),
        "isac-de": ("DE", "isac", "3", True),
        "ngo-fr": ("FR", "ngo", "none", True),
        "no-grant": ("GB", "government", "1", False),
    }

    def __init__(self, cli: Cli) -> None:
        self.cli = cli
        cli("collection", "add", "intel")
        cli("partner", "add", "boss", "--country", "GB", "--kind", "government", "--admin")
        for name, (country, kind, tier, read) in self.PARTNERS.items():
            cli("partner", "add", name, "--country", country, "--kind", kind)
            cli("partner", "set", name, "--tier", tier, "--reason", "vetted")
            if read:
                cli("partner", "grant", name, "intel", "--read")
        cli("policy", "load", str(cli.file("policy.yaml", POLICY)), "--reason", "start")
        public = gesher_marking("public")
        sensitive = gesher_marking("sensitive")
        names_gb = gesher_marking("defensive", recipients=["cert-gb"])
        self.objects = {
            "clear": {**indicator("clear.example"), "object_marking_refs": [c.TLP2_CLEAR, public["id"]]},
            "green": {**indicator("green.example"), "object_marking_refs": [c.TLP2_GREEN]},
            "amber": {**malware(name="amber"), "object_marking_refs": [c.TLP2_AMBER]},
            "red": {**malware(name="red"), "object_marking_refs": [c.TLP2_RED, names_gb["id"]]},
            "sensitive": {**malware(name="sens"), "object_marking_refs": [c.TLP2_GREEN, sensitive["id"]]},
        }
        bundle = {
            "type": "bundle",
            "id": f"bundle--{uuid.uuid4()}",
            "objects": [public, sensitive, names_gb, *self.objects.values()],
        }
        report = json.loads(
            cli("ingest", str(cli.file("bundle.json", json.dumps(bundle))), "--collection", "intel", "--json")
        )
        assert report[0]["stored"] == 8 and report[0]["rejected"] == 0, report

    def id(self, key: str) -> str:
        return str(self.objects[key]["id"])

    def exported(self, partner: str) -> set[str]:
        result = self.cli.invoke("export", "--collection", "intel", "--partner", partner)
        if result.exit_code != 0:
            assert "no collection" in result.output
            return set()
        return {str(o["id"]) for o in orjson.loads(result.stdout)["objects"]}

    def explain(self, partner: str, key: str) -> dict[str, object]:
        found = json.loads(
            self.cli("policy", "explain", "--partner", partner, "--object", self.id(key), "--json")
        )
        (one,) = found
        return dict(one)

    def preview(self, key: str) -> list[dict[str, object]]:
        return list(json.loads(self.cli("policy", "preview", "--object", self.id(key), "--json")))


@pytest.fixture
def exchange(cli: Cli) -> Exchange:
    return Exchange(cli)


EXPECTED = {
    "cert-gb": {"clear", "green", "amber"},
    "isac-de": {"clear", "green"},
    "ngo-fr": {"clear"},
    "no-grant": set(),
}


def test_export_gives_each_partner_what_the_policy_allows(exchange: Exchange) -> None:
    for partner, keys in EXPECTED.items():
        assert {exchange.id(k) for k in exchange.objects} & exchange.exported(partner) == {
            exchange.id(k) for k in keys
        }, partner


def test_explain_json_says_who_decided_and_why(exchange: Exchange) -> None:
    amber = exchange.explain("cert-gb", "amber")
    assert amber["receives"] is True and amber["allowed_by_policy"] is True
    assert str(amber["decided_by"]) == "rule gb-amber"
    assert amber["served"] == exchange.objects["amber"]
    assert any("TLP:AMBER: need-to-know" in line for line in amber["explanation"])  # type: ignore[attr-defined]

    refused = exchange.explain("isac-de", "amber")
    assert refused["receives"] is False and refused["allowed_by_policy"] is False
    assert refused["decided_by"] is None and refused["served"] is None
    assert any("need-to-know" in line for line in refused["explanation"])  # type: ignore[attr-defined]

    red = exchange.explain("cert-gb", "red")
    assert red["allowed_by_policy"] is True and red["receives"] is False
    assert red["needs_release"] is True and red["released"] is False
    assert any("pending" in line for line in red["explanation"])  # type: ignore[attr-defined]

    unvetted = exchange.explain("ngo-fr", "green")
    assert unvetted["receives"] is False
    assert any("not vetted" in line for line in unvetted["explanation"])  # type: ignore[attr-defined]

    no_grant = exchange.explain("no-grant", "clear")
    assert no_grant["receives"] is False
    assert any("no read grant" in line for line in no_grant["explanation"])  # type: ignore[attr-defined]


def test_explain_text_names_the_verdict_and_the_rule(exchange: Exchange) -> None:
    out = exchange.cli("policy", "explain", "--partner", "cert-gb", "--object", exchange.id("amber"))
    assert f"cert-gb receives {exchange.id('amber')}" in out
    assert "decided by rule gb-amber" in out
    out = exchange.cli("policy", "explain", "--partner", "isac-de", "--object", exchange.id("amber"))
    assert f"isac-de does not receive {exchange.id('amber')}" in out


def test_explain_refuses_unknown_partners_and_objects(exchange: Exchange) -> None:
    assert "no partner" in exchange.cli(
        "policy", "explain", "--partner", "nobody", "--object", exchange.id("amber"), ok=False
    )
    missing = f"malware--{uuid.uuid4()}"
    assert "no object" in exchange.cli(
        "policy", "explain", "--partner", "cert-gb", "--object", missing, ok=False
    )
    assert "no object" in exchange.cli("policy", "preview", "--object", missing, ok=False)


def test_preview_lists_every_partner_consistently_with_export(exchange: Exchange) -> None:
    exports = {partner: exchange.exported(partner) for partner in Exchange.PARTNERS}
    for key in exchange.objects:
        listed = exchange.preview(key)
        assert sorted(str(e["partner"]) for e in listed) == sorted(Exchange.PARTNERS), key
        for e in listed:
            assert e["object_id"] == exchange.id(key)
            assert e["receives"] is (exchange.id(key) in exports[str(e["partner"])]), (key, e)
            assert e["receives"] is (key in EXPECTED[str(e["partner"])]), (key, e)
            if e["receives"]:
                assert e["served"] == exchange.objects[key]


def test_preview_follows_a_new_policy(exchange: Exchange) -> None:
    exchange.cli("policy", "load", str(exchange.cli.file("stricter.yaml", STRICTER)), "--reason", "tighter")
    receives = {str(e["partner"]) for e in exchange.preview("green") if e["receives"]}
    assert receives == {"cert-gb"}
    assert exchange.id("green") not in exchange.exported("isac-de")
    assert exchange.id("amber") not in exchange.exported("cert-gb")


# --- the release gate ------------------------------------------------------------------------------------


def test_release_needs_two_analysts_and_can_be_revoked(exchange: Exchange) -> None:
    cli, red = exchange.cli, exchange.id("red")
    assert red not in exchange.exported("cert-gb")
    assert "requested" in cli("release", "request", red, "--analyst", "alice", "--reason", "for GB")
    output = cli("release", "approve", red, "--analyst", "alice", "--reason", "mine", ok=False)
    assert "second analyst" in output and "Traceback" not in output
    assert red not in exchange.exported("cert-gb")
    assert "released:" in cli("release", "approve", red, "--analyst", "bob", "--reason", "checked")
    assert red in exchange.exported("cert-gb")
    assert {str(e["partner"]) for e in exchange.preview("red") if e["receives"]} == {"cert-gb"}
    assert exchange.explain("cert-gb", "red")["released"] is True
    assert "revoked" in cli("release", "revoke", red, "--analyst", "bob", "--reason", "withdrawn")
    assert red not in exchange.exported("cert-gb")
    assert not any(e["receives"] for e in exchange.preview("red"))


def test_release_commands_refuse_bad_input(exchange: Exchange) -> None:
    cli, sensitive = exchange.cli, exchange.id("sensitive")
    assert "request it first" in cli(
        "release", "approve", sensitive, "--analyst", "bob", "--reason", "x", ok=False
    )
    assert "reason is required" in cli(
        "release", "request", sensitive, "--analyst", "a", "--reason", " ", ok=False
    )
    result = cli.invoke("release", "request", sensitive, "--analyst", "a")
    assert result.exit_code == 2 and "--reason" in result.output
    missing = f"malware--{uuid.uuid4()}"
    assert "no stored version" in cli(
        "release", "request", missing, "--analyst", "a", "--reason", "x", ok=False
    )
    assert "not a STIX timestamp" in cli(
        "release", "request", sensitive, "--analyst", "a", "--reason", "x", "--version", "yesterday", ok=False
    )
    cli("release", "request", sensitive, "--analyst", "a", "--reason", "x", "--version", T0)
    cli("release", "approve", sensitive, "--analyst", "b", "--reason", "y", "--collection", "intel")
    assert sensitive in exchange.exported("cert-gb")
    assert sensitive not in exchange.exported("isac-de")  # vetted-green reaches tier defensive only


# --- partner set -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["0", "5", "abc", "1.5", "-1", ""])
def test_partner_set_refuses_bad_tiers(cli: Cli, tier: str) -> None:
    cli("partner", "add", "pp", "--country", "GB", "--kind", "isac")
    cli("partner", "set", "pp", "--tier", "2", "--reason", "vetted")
    output = cli("partner", "set", "pp", "--tier", tier, "--reason", "typo", ok=False)
    assert "trust tier" in output and "Traceback" not in output
    (listed,) = json.loads(cli("partner", "list", "--json"))
    assert listed["trust_tier"] == 2


def test_partner_set_accepts_none_sectors_and_suspension(cli: Cli) -> None:
    cli("partner", "add", "pp", "--country", "GB", "--kind", "isac")
    assert "trust tier 4" in cli(
        "partner", "set", "pp", "--tier", "4", "--sectors", "energy,finance", "--reason", "r"
    )
    out = cli("partner", "set", "pp", "--tier", "None", "--reason", "unvetted again")
    assert "trust tier none" in out
    (listed,) = json.loads(cli("partner", "list", "--json"))
    assert listed["trust_tier"] is None and listed["sectors"] == "energy,finance"
    assert "suspended" in cli("partner", "set", "pp", "--suspend", "--reason", "misuse")
    assert "active" in cli("partner", "set", "pp", "--reinstate", "--reason", "cleared")
    assert "reason is required" in cli("partner", "set", "pp", "--tier", "1", "--reason", "", ok=False)
    assert "sector" in cli("partner", "set", "pp", "--sectors", "Energy Grid", "--reason", "r", ok=False)
    assert "no partner" in cli("partner", "set", "nobody", "--tier", "1", "--reason", "r", ok=False)


def test_a_tier_change_applies_to_the_next_export(exchange: Exchange) -> None:
    assert exchange.id("green") in exchange.exported("isac-de")
    exchange.cli("partner", "set", "isac-de", "--tier", "4", "--reason", "downgraded")
    assert exchange.id("green") not in exchange.exported("isac-de")
    assert exchange.id("clear") in exchange.exported("isac-de")
    exchange.cli("partner", "set", "isac-de", "--suspend", "--reason", "misuse")
    assert exchange.exported("isac-de") == set()
    assert not any(e["receives"] for e in exchange.preview("clear") if e["partner"] == "isac-de")


# --- relabel ---------------------------------------------------------------------------------------------


def test_relabel_prints_a_count_and_serves_what_it_labelled(
    exchange: Exchange, db_url: str, tmp_path: Path
) -> None:
    assert exchange.cli("policy", "relabel").strip() == "0 version(s) labelled"
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.write() as conn:  # versions stored before labels existed carry none
            conn.execute(
                update(objects).where(objects.c.object_id == exchange.id("green")).values(label_id=None)
            )
    finally:
        node.db.dispose()
    assert exchange.id("green") not in exchange.exported("isac-de")
    assert any("no access label" in line for line in exchange.explain("isac-de", "green")["explanation"])  # type: ignore[attr-defined]
    assert exchange.cli("policy", "relabel").strip() == "1 version(s) labelled"
    assert exchange.id("green") in exchange.exported("isac-de")
    assert exchange.cli("policy", "relabel").strip() == "0 version(s) labelled"


def test_an_export_for_a_partner_is_a_ledger_disclosure_of_exactly_its_bytes(exchange: Exchange) -> None:
    bundle = orjson.loads(exchange.cli("export", "--collection", "intel", "--partner", "cert-gb"))
    size = int(exchange.cli("ledger", "checkpoint").split("\n")[1])
    entry = json.loads(exchange.cli("ledger", "show", str(size - 1)))
    assert entry["kind"] == "disclosure" and entry["partner"] == "cert-gb"
    assert entry["endpoint"].startswith("gesher export --collection ") and entry["actor"].startswith("cli:")
    recorded = {oid: sha for oid, _, sha, _ in entry["objects"]}
    assert recorded == {str(o["id"]): hashlib.sha256(orjson.dumps(o)).hexdigest() for o in bundle["objects"]}
