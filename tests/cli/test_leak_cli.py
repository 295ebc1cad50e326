"""`gesher leak issue|trace` on both stores: the headline of issue 6 ("leak tracing identifies the right
recipient among 50") end to end with the real `gesher serve` and the OASIS taxii2-client, and the exit
codes of `trace` (0 attributed, 1 no canary, 2 unreadable file, 3 the exchange cannot trace)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from taxii2client.v21 import Collection, as_pages
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.exchange.node import Node
from tests.e2e.conftest import Gesher, served
from tests.ledger_service.leak_world import LEAKER, RECIPIENTS, LeakWorld, canary_values, leaked_bundle

PERIOD = "2026-11"
Run = Callable[..., Result]


@pytest.fixture
def run(node: Node, db_url: str, tmp_path: Path) -> Run:
    """The CLI in process, on the store and key files of the `node` fixture."""
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(app, ["--data-dir", str(tmp_path), "--database-url", db_url, *args])
        assert result.exit_code == code, f"{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return invoke


def flat(text: str) -> str:
    """Rich wraps long lines at the runner's width: compare with the whitespace collapsed."""
    return re.sub(r"\s+", " ", text)


@pytest.mark.e2e
def test_a_leak_pulled_with_taxii2_client_from_the_live_server_names_recipient_37(
    node: Node, run: Run, db_url: str, tmp_path: Path
) -> None:
    world = LeakWorld.build(node)
    issued = json.loads(run("leak", "issue", "--collection", "amber", "--period", PERIOD, "--json").stdout)
    assert [i["recipient"] for i in issued["issued"]] == RECIPIENTS and issued["stored"] == 150
    entry_37 = issued["issued"][37]["ledger_entry"]
    own = {i["recipient"]: {c["value"] for c in i["canaries"]} for i in issued["issued"]}
    gesher = Gesher(tmp_path, db_url)
    pulled: dict[str, list[dict[str, object]]] = {}
    with served(gesher, tmp_path / "serve.log") as (base, _):
        url = f"{base}/taxii2/gesher/collections/{world.collection}/"
        for name in RECIPIENTS:
            collection = Collection(url, user=name, password=world.tokens[name])
            pulled[name] = [
                o for page in as_pages(collection.get_objects, per_request=10) for o in page["objects"]
            ]
            assert canary_values(pulled[name]) == own[name]  # its own canaries, none of the 49 others'
        leak = tmp_path / "found-on-a-forum.json"
        leak.write_bytes(orjson.dumps(leaked_bundle(pulled[LEAKER], strip="domain-name", seed=37)))
        done = gesher("leak", "trace", str(leak))
        report = json.loads(gesher("leak", "trace", str(leak), "--json").stdout)
    assert f"holds canaries of 1 recipient(s): {LEAKER}" in done.stdout
    assert f"issued:  ledger entry {entry_37}," in done.stdout
    assert not {name for name in RECIPIENTS if name != LEAKER and name in done.stdout}
    (finding,) = report["recipients"]
    assert finding["recipient"] == LEAKER and finding["confidence"] == 1.0
    assert [i["index"] for i in finding["issued"]] == [entry_37]
    pages = finding["disclosures"]  # the pages taxii2-client fetched, each recorded as it was served
    assert pages and {d["partner"] for d in pages} == {LEAKER}
    hash_canary = issued["issued"][37]["canaries"][1]  # the domain canary was stripped from the leak
    assert hash_canary["kind"] == "sha256"
    assert {o["id"] for d in pages for o in d["objects"]} == {hash_canary["object_id"]}
    assert report["served_all"] == [LEAKER] and report["others"] == []


def test_trace_exit_codes_and_messages(
    node: Node, run: Run, client: TestClient, db_url: str, tmp_path: Path
) -> None:
    world = LeakWorld.build(node, RECIPIENTS[:3])
    run("leak", "issue", "-c", "amber", "--period", PERIOD)
    objects, _ = world.pull(client, RECIPIENTS[1])
    leak = tmp_path / "leak.json"
    leak.write_bytes(orjson.dumps({"objects": objects}))
    assert f"holds canaries of 1 recipient(s): {RECIPIENTS[1]}" in run("leak", "trace", str(leak)).stdout

    clean = tmp_path / "clean.txt"
    clean.write_text("evil.example.com\n8.8.8.8\n" + "a" * 64 + "\n")
    missed = run("leak", "trace", str(clean), code=1)
    assert "no canary found in" in flat(missed.stdout) and "3 issuance(s)" in flat(missed.stdout)
    assert json.loads(run("leak", "trace", str(clean), "--json", code=1).stdout)["recipients"] == []

    unreadable = {
        "garbage.bin": bytes(range(256)) * 4,
        "truncated.json": orjson.dumps({"objects": objects})[:-40],
        "empty.txt": b"",
    }
    for name, data in unreadable.items():
        (tmp_path / name).write_bytes(data)
        failed = run("leak", "trace", str(tmp_path / name), code=2)
        assert "cannot read" in failed.stderr and failed.stdout == ""
    assert "No such file" in flat(run("leak", "trace", str(tmp_path / "absent.json"), code=2).stderr)
    assert "cannot read" in run("leak", "trace", str(tmp_path), code=2).stderr  # a folder

    # a host without the canary key cannot recompute the canaries: it says so, it does not guess; the
    # message is one line whatever the path's length (never broken mid-word at the terminal's width)
    elsewhere = tmp_path / ("elsewhere-" * 12)
    keyless = CliRunner().invoke(
        app,
        ["--data-dir", str(tmp_path), "--database-url", db_url, "leak", "trace", str(leak)],
        env={"GESHER_LEDGER_KEY_DIR": str(elsewhere)},
    )
    assert keyless.exit_code == 3 and keyless.stdout == ""
    key = elsewhere / "canary.key"
    assert (
        keyless.stderr
        == f"error: cannot trace: the ledger key {key} is missing: run `gesher init` on this host\n"
    )


def test_trace_names_every_recipient_whose_canaries_a_pasted_list_holds(
    node: Node, run: Run, tmp_path: Path
) -> None:
    LeakWorld.build(node, RECIPIENTS[:4])
    issued = json.loads(run("leak", "issue", "-c", "amber", "--period", PERIOD, "--json").stdout)
    first, last = issued["issued"][0], issued["issued"][3]
    pasted = tmp_path / "paste.txt"
    pasted.write_text(
        "IOCs from a channel:\n"
        + f"hxxp://{first['canaries'][0]['value'].replace('.', '[.]')}/gate.php\n"
        + f"{last['canaries'][1]['value'].upper()}\n"
    )
    report = json.loads(run("leak", "trace", str(pasted), "--json").stdout)
    assert [r["recipient"] for r in report["recipients"]] == sorted([RECIPIENTS[0], RECIPIENTS[3]])
    for found in report["recipients"]:
        assert found["disclosures"] == []  # listed values, never pulled: no disclosure to show
        assert found["confidence"] == 0.5
    text = flat(run("leak", "trace", str(pasted)).stdout)
    assert "no disclosure of these canaries to this recipient is recorded" in text
    assert f"ledger entry {first['ledger_entry']}" in text and f"ledger entry {last['ledger_entry']}" in text


def test_issue_reports_what_it_did_and_reissuing_records_nothing(node: Node, run: Run) -> None:
    LeakWorld.build(node, RECIPIENTS[:3])
    done = run("leak", "issue", "--collection", "amber", "--period", PERIOD)
    text = flat(done.stdout)
    assert "canaries for 3 recipient(s) in amber for 2026-11 (zone cdn-metrics.example.net)" in text
    assert "9 new object version(s); recorded in ledger entries" in text
    assert "not issued to admin: an administrator" in flat(done.stderr)
    assert "not issued to newcomer: not vetted" in flat(done.stderr)
    again = run("leak", "issue", "--collection", "amber", "--period", PERIOD)
    assert "0 new object version(s); already issued: nothing new recorded" in flat(again.stdout)
    named = run("leak", "issue", "-c", "amber", "--period", PERIOD, "--recipients", "newcomer")
    assert "warning: newcomer does not receive its canaries" in flat(named.stderr)
    assert "not vetted" in flat(named.stderr)
    assert "YYYY-MM" in flat(run("leak", "issue", "-c", "amber", "--period", "11/2026", code=1).stderr)
    assert "no collection" in flat(run("leak", "issue", "-c", "nowhere", code=1).stderr)
    assert "no partner named 'ghost'" in flat(
        run("leak", "issue", "-c", "amber", "--recipients", "ghost", code=1).stderr
    )
