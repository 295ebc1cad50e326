"""`gesher report disclosures` in process (Typer's runner) on both stores, over the impact report scenario:
every format's shape and figures, the period options, and bad input refused with exit code 2."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from gesher.cli.main import app
from tests.conftest import World
from tests.ledger_service.report_scenario import Exchange, build, history, live

MARCH = ("--since", "2025-03-01", "--until", "2025-03-31")


@pytest.fixture
def ex(world: World, client: TestClient) -> Exchange:
    exchange = build(world, client)
    live(exchange)
    history(exchange)
    return exchange


@pytest.fixture
def report(ex: Exchange, db_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Result:
        result = runner.invoke(
            app, ["--data-dir", str(tmp_path), "--database-url", db_url, "report", "disclosures", *args]
        )
        assert result.exit_code == code, result.output
        return result

    return invoke


def test_json_shape_and_figures(report) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(report("--format", "json", *MARCH, "--by", "partner").stdout)
    assert set(document) == {
        "report",
        "period",
        "by",
        "interval",
        "include_admins",
        "summary",
        "groups",
        "volume",
        "exposure",
        "reciprocity",
        "latency",
    }
    assert document["period"]["since"] == "2025-03-01T00:00:00.000000Z"
    assert document["period"]["until"] == "2025-04-01T00:00:00.000000Z"  # the 31st included
    assert (document["by"], document["interval"]) == ("partner", "day")
    assert document["summary"]["responses"] == 3 and document["summary"]["distinct"] == 4
    assert document["groups"] == [
        {"group": "reader", "partners": 1, "responses": 2, "disclosures": 3, "distinct": 2},
        {"group": "il-cert", "partners": 1, "responses": 1, "disclosures": 2, "distinct": 2},
    ]
    assert document["latency"][-1] == {
        "tier": "all",
        "released": 2,
        "known": 2,
        "median_seconds": 57600.0,
        "p90_seconds": 108000.0,
    }
    assert set(document["exposure"][0]) == {
        "country",
        "partners",
        "sensitive",
        "offensive",
        "amber_strict",
        "red",
        "any",
        "disclosures",
        "total",
    }


def test_csv_is_one_figure_per_row(report) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.reader(io.StringIO(report("--format", "csv", "--by", "country").stdout)))
    assert rows[0] == ["section", "period", "group", "metric", "value"]
    assert all(len(row) == 5 for row in rows)
    figures = {(s, p, g, m): v for s, p, g, m, v in rows[1:]}
    # all time: today's live reads plus the March history (reader and il-cert)
    assert figures[("summary", "", "", "responses")] == "8"
    assert figures[("groups", "", "GB", "disclosures")] == str(9 + 3)
    assert figures[("groups", "", "IL", "distinct")] == "4"
    assert figures[("exposure", "", "IL", "red")] == "1"
    assert figures[("exposure", "", "FR", "amber_strict")] == "1"
    assert figures[("reciprocity", "", "writer", "gave")] == "4"  # two POSTed today, two ingested in March
    # from March 2025 to today: more than 62 days, so weeks (from Monday the 3rd)
    assert figures[("report", "", "", "interval")] == "week"
    assert figures[("volume", "2025-03-03", "IL", "disclosures")] == "2"
    assert figures[("volume", "2025-03-10", "GB", "disclosures")] == "2"
    assert figures[("latency", "", "sensitive", "released")] == "1"


def test_table_to_the_terminal_and_to_a_file(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    shown = report(*MARCH, "--by", "tier").stdout
    words = " ".join(shown.split())
    assert "Period: from 2025-03-01 00:00 UTC, before 2025-04-01 00:00 UTC; grouped by trust tier" in words
    for title in (
        "Summary",
        "By trust tier",
        "Volume per day",
        "Exposure",
        "Reciprocity",
        "Time from ingest",
    ):
        assert title in shown
    assert "2 trusted" in shown and "1 closest" in shown
    target = tmp_path / "report.txt"
    report("--output", str(target))
    assert "Exposure of sensitive tiers" in target.read_text()


def test_html_is_a_self_contained_page_with_charts(report, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "report.html"
    result = report("--format", "html", "--output", str(target), "--by", "country")
    assert str(target) in result.stdout
    page = target.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<title>gesher: Disclosures from this exchange</title>" in page
    assert page.count("<svg") == 4  # volume, exposure, reciprocity, time to first release
    for heading in (
        "Summary",
        "Volume over time",
        "Exposure of sensitive material by country",
        "Reciprocity",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert "<figcaption>" in page and "hours from ingest to first release" in page
    # nothing fetched from elsewhere: opens offline
    assert not re.search(r"<script|<link|<img|\bsrc=|href=\"http", page)
    # the numbers: summary table and the exposure table of IL (r is RED and offensive)
    assert "<tr><td>object versions disclosed</td><td>22</td></tr>" in page
    assert (
        "<tr><td>IL</td><td>1</td><td>1</td><td>1</td><td>0</td><td>1</td><td>2</td><td>3</td><td>4</td></tr>"
        in page
    )
    # the chart's own text is text (searchable), axis labels included
    assert "recipient country" in page and "object versions disclosed" in page


def test_html_of_an_empty_period_says_so(report) -> None:  # type: ignore[no-untyped-def]
    page = report("--format", "html", "--since", "2020-01-01", "--until", "2020-01-31").stdout
    assert "Period: from 2020-01-01 00:00 UTC, before 2020-02-01 00:00 UTC" in page
    assert "No object was disclosed to a partner in this period." in page
    assert "<svg" not in page


def test_since_and_until_filter(report) -> None:  # type: ignore[no-untyped-def]
    def responses(*args: str) -> int:
        return int(json.loads(report("--format", "json", *args).stdout)["summary"]["responses"])

    assert responses() == 8
    assert responses(*MARCH) == 3
    assert responses("--until", "2025-03-04") == 2
    assert responses("--since", "2025-03-05", "--until", "2025-12-31") == 1
    assert responses("--since", "2025-03-03T02:00:00Z", "--until", "2025-03-04T06:00:00Z") == 1
    assert responses("--include-admins") == 9


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--by", "nation"), "'nation' is not one of"),
        (("--format", "pdf"), "'pdf' is not one of"),
        (("--since", "yesterday"), "not a date"),
        (("--until", "2025-02-30"), "not a date"),
        (("--since", "2025-03-01T10:00:00"), "no time zone"),
        (("--since", "2025-03-02", "--until", "2025-03-01"), "--until must be after --since"),
        (("--interval", "month"), "'month' is not one of"),
    ],
)
def test_bad_options_exit_2_with_a_clear_message(report, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    result = report(*args, code=2)
    assert message in " ".join(result.output.split())
