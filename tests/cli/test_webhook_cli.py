"""`gesher webhook ...` (issue 7, "Alerts out") in process on both stores: register, list, key, one delivery
pass to a real receiver on 127.0.0.1, the outbox, removal; clear errors for hostile URLs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gesher.cli.main import app
from gesher.warning_service.webhook_signing import parse_public
from tests.warning_service.webhook_receiver import receiver

POLICY = """
version: 1
rules:
  - name: cli-partners
    partners: [bank, ministry, watcher]
    max_tlp: GREEN
    max_tier: defensive
"""


@pytest.fixture
def run(db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, ["--data-dir", str(tmp_path), "--database-url", db_url, *args])
        assert (result.exit_code == 0) == ok, result.output
        return result.stdout if ok else result.output

    invoke("init")
    for name, sector in (("bank", "finance"), ("ministry", "government"), ("watcher", "telecoms")):
        invoke("partner", "add", name, "--country", "nl", "--kind", "government")
        invoke("partner", "set", name, "--tier", "2", "--sectors", sector, "--reason", "vetted")
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    invoke("policy", "load", str(policy), "--reason", "webhook tests")
    return invoke


def test_register_deliver_list_and_remove(run) -> None:  # type: ignore[no-untyped-def]
    key = run("webhook", "key").strip()
    assert key.startswith("whpk_")
    with receiver(lambda: parse_public(key)) as hooks:
        added = json.loads(
            run("webhook", "add", hooks.url(), "--partner", "watcher", "--min-level", "2", "--json")
        )
        assert added["partner"] == "watcher" and added["min_level"] == 2 and added["public_key"] == key
        listed = json.loads(run("webhook", "list", "--json"))
        assert [(w["id"], w["url"]) for w in listed] == [(added["id"], hooks.url())]
        assert "watcher" in run("webhook", "list")
        # Two sectors see the same value within the hour: an L2 campaign alert.
        run("sighting", "add", "c2.evil.example", "--partner", "bank")
        run("sighting", "add", "c2.evil.example", "--partner", "ministry")
        assert "1 due: 1 delivered" in run("webhook", "deliver")
        assert "0 due" in run("webhook", "deliver")
    (got,) = hooks.received
    assert got.verified and got.payload["level"] == 2 and got.payload["event"] == "alert"
    outbox = json.loads(run("webhook", "deliveries", "--json"))
    assert [(d["state"], d["attempts"]) for d in outbox] == [("delivered", 1)]
    assert outbox[0]["ledger_index"] is not None and outbox[0]["alert_id"] == got.payload["alert"]
    assert json.loads(run("webhook", "deliveries", "--alert", "report--nothing", "--json")) == []
    assert "delivered" in run("webhook", "deliveries")
    assert f"webhook {added['id']} of watcher removed" in run("webhook", "remove", str(added["id"]))
    assert json.loads(run("webhook", "list", "--json")) == []
    assert len(json.loads(run("webhook", "list", "--removed", "--json"))) == 1
    assert "already removed" in run("webhook", "remove", str(added["id"]), ok=False)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://hooks.example.org/a", "must use https"),
        ("https://u:p@hooks.example.org/a", "user name or password"),
        ("https://hooks.example.org/a#x", "fragment"),
        ("file:///etc/passwd", "must use https"),
    ],
)
def test_hostile_urls_are_refused(run, url: str, says: str) -> None:  # type: ignore[no-untyped-def]
    assert says in run("webhook", "add", url, "--partner", "bank", ok=False)
    assert json.loads(run("webhook", "list", "--json")) == []


def test_bad_partner_level_and_id(run) -> None:  # type: ignore[no-untyped-def]
    assert "no partner named 'nobody'" in run(
        "webhook", "add", "https://h.example/", "--partner", "nobody", ok=False
    )
    level = ("--partner", "bank", "--min-level", "4")
    assert "--min-level 4" in run("webhook", "add", "https://h.example/", *level, ok=False)
    assert "no webhook 99" in run("webhook", "remove", "99", ok=False)
