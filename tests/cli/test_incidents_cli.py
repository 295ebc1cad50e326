"""`gesher incidents ...` in process (Typer's runner) on both stores, over the simulated October of
`tests.warning_service.incident_month`: the board, one incident, every change, errors without a
traceback, and the report in each format with its exact figures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from gesher.cli.main import app
from gesher.exchange.node import Node
from tests.warning_service.exchange import Exchange
from tests.warning_service.incident_month import Month, build


@pytest.fixture
def month(node: Node, client: TestClient) -> Month:
    return build(Exchange(node, client))


def flat(result: Result) -> str:
    """The output on one line (the console wraps long messages at 80 columns)."""
    return " ".join(result.output.split())


@pytest.fixture
def gesher(month: Month):  # type: ignore[no-untyped-def]
    settings = month.node.settings
    base = ["--data-dir", str(settings.data_dir), "--database-url", settings.resolved_database_url()]

    def invoke(*args: str, code: int = 0) -> Result:
        result = CliRunner().invoke(app, [*base, *args])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result

    return invoke


def test_the_board_lists_open_and_contained_incidents(gesher) -> None:  # type: ignore[no-untyped-def]
    rows = json.loads(gesher("incidents", "--json").stdout)
    assert [(r["id"], r["state"], r["level"], r["alerts"]) for r in rows] == [
        (1, "contained", 1, 1),
        (3, "contained", 3, 1),
        (4, "open", 1, 1),
        (5, "open", 2, 1),
        (6, "open", 1, 1),
    ]
    assert rows[1]["sectors"] == ["energy", "finance"] and rows[1]["title"].startswith("L3 national on ")
    assert [r["id"] for r in json.loads(gesher("incidents", "--all", "--json").stdout)] == [1, 2, 3, 4, 5, 6]
    october = json.loads(gesher("incidents", "--month", "2026-10", "--json").stdout)
    assert [r["id"] for r in october] == [1, 2, 3, 4, 5]
    table = gesher("incidents").stdout
    assert "Open and contained incidents" in table and "energy," in table and "55.0 d" not in table[:0]


def test_show_prints_history_alerts_and_reach(gesher) -> None:  # type: ignore[no-untyped-def]
    shown = json.loads(gesher("incidents", "show", "2", "--json").stdout)
    assert (shown["state"], shown["level"], shown["sectors"], shown["countries"]) == (
        "closed",
        2,
        ["finance", "unspecified"],
        ["FR", "GB", "IL"],
    )
    assert [(e["action"], e["state"]) for e in shown["events"]] == [
        ("open", "open"),
        ("link", "open"),
        ("link", "open"),
        ("contain", "contained"),
        ("close", "closed"),
    ]
    assert [a["time_to_alert_seconds"] for a in shown["alerts"]] == [3000.0, 9000.0]
    assert (
        shown["first_sighting"] == "2026-10-03T09:30:00.000000Z" and shown["time_to_alert_seconds"] == 3000.0
    )
    text = gesher("incidents", "show", "2").stdout
    assert "History" in text and "finance, unspecified" in text
    assert "no incident 99" in flat(gesher("incidents", "show", "99", code=1))


def test_changes_from_the_command_line(gesher, month: Month) -> None:  # type: ignore[no-untyped-def]
    alert = json.loads(gesher("incidents", "show", "6", "--json").stdout)["alerts"][0]["id"]
    who = ("--actor", "dana")
    opened = gesher("incidents", "open", "--title", "Manual", "--level", "2", "--reason", "a hunch", *who)
    assert "incident 7 opened: L2, 0 alert(s)" in opened.stdout
    refused = flat(gesher("incidents", "link", "7", alert, *who, code=1))
    assert "already belongs to incident 6" in refused
    assert (
        "incident 7 is contained" in gesher("incidents", "contain", "7", "--reason", "blocked", *who).stdout
    )
    assert (
        "incident 7 is closed (version 3)"
        in gesher("incidents", "close", "7", "--reason", "gone", *who).stdout
    )
    illegal = flat(gesher("incidents", "contain", "7", "--reason", "again", *who, code=1))
    assert "cannot contain incident 7: it is closed" in illegal and "allowed actions are reopen" in illegal
    assert "give a reason" in flat(gesher("incidents", "reopen", "7", "--reason", " ", *who, code=1))
    stale = flat(
        gesher("incidents", "reopen", "7", "--reason", "back", "--expect-version", "2", *who, code=1)
    )
    assert "incident 7 was changed by someone else since version 2" in stale
    reopened = gesher("incidents", "reopen", "7", "--reason", "back", "--expect-version", "3", *who).stdout
    assert "incident 7 is open (version 4)" in reopened
    events = json.loads(gesher("incidents", "show", "7", "--json").stdout)["events"]
    assert [(e["actor"], e["action"], e["reason"]) for e in events] == [
        ("dana", "open", "a hunch"),
        ("dana", "contain", "blocked"),
        ("dana", "close", "gone"),
        ("dana", "reopen", "back"),
    ]
    assert "verified" in gesher("ledger", "verify").stdout


def test_the_report_in_every_format(gesher, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(gesher("incidents", "report", "--month", "2026-10", "--format", "json").stdout)
    assert document["period"] == {
        "since": "2026-10-01T00:00:00.000000Z",
        "until": "2026-11-01T00:00:00.000000Z",
    }
    s = document["summary"]
    assert (s["opened"], s["contained"], s["closed"], s["reopened"], s["alerts"]) == (4, 4, 2, 1, 5)
    assert (s["open_at_end"], s["contained_at_end"], s["median_seconds"], s["p90_seconds"]) == (
        2,
        2,
        4200.0,
        9000.0,
    )
    assert [
        (m["month"], m["opened"], m["alerts"], m["l1"], m["l2"], m["l3"]) for m in document["months"]
    ] == [("2026-10", 4, 5, 2, 2, 1)]
    assert [(c["open"], c["contained"]) for c in document["concurrent"]] == [
        (1, 0), (0, 1), (1, 1), (0, 2), (0, 1), (1, 1), (0, 2), (1, 2), (2, 2), (1, 3), (1, 2), (2, 2),
    ]  # fmt: skip
    assert document["concurrent"][2]["at"] == "2026-10-03T10:20:00.000000Z"
    assert [(r["sector"], r["incidents"]) for r in document["sectors"]] == [
        ("unspecified", 3),
        ("finance", 2),
        ("energy", 1),
        ("government", 1),
    ]
    assert [(r["level"], r["median_seconds"]) for r in document["latency"]] == [
        ("L1", 2400.0),
        ("L2", 6600.0),
        ("L3", 5400.0),
        ("all", 4200.0),
    ]
    rows = list(
        csv.reader(io.StringIO(gesher("incidents", "report", "--month", "2026-10", "--format", "csv").stdout))
    )
    assert rows[0] == ["section", "period", "group", "metric", "value"]
    assert ["summary", "", "", "opened", "4"] in rows and ["sectors", "", "finance", "incidents", "2"] in rows
    assert ["latency", "2026-10", "L3", "median_seconds", "5400.0"] in rows
    assert ["concurrent", "2026-10-29T09:00:00.000000Z", "", "open", "2"] in rows
    page = tmp_path / "board.html"
    gesher(
        "incidents",
        "report",
        "--since",
        "2026-09-01",
        "--until",
        "2026-11-30",
        "--format",
        "html",
        "-o",
        str(page),
    )
    html = page.read_text()
    assert html.count("<svg") == 4 and "Concurrent incidents over time" in html and "Sectors hit" in html
    assert "2026-09" in html and "2026-11" in html
    table = gesher("incidents", "report", "--month", "2026-10").stdout
    assert "Per month" in table and "Time from first sighting to alert" in table


def test_bad_periods_are_refused(gesher) -> None:  # type: ignore[no-untyped-def]
    assert "is not a month" in flat(gesher("incidents", "report", "--month", "2026-13", code=1))
    both = flat(gesher("incidents", "report", "--month", "2026-10", "--since", "2026-10-01", code=1))
    assert "not both" in both
    assert "after --since" in flat(
        gesher("incidents", "report", "--since", "2026-10-05", "--until", "2026-10-01", code=1)
    )
    assert "is not a month" in flat(gesher("incidents", "--month", "october", code=1))
