"""`gesher country show` and `gesher country list`, in process (Typer's runner). Country data ships with the
package, so no data directory or database is needed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from gesher.cli.main import app

TIERS = (
    "# as_of: 2025-06-01\n# source: policy owner, signed\ncountry,tier,note\nIL,A,\nUS,B,\nIR,EMBARGOED,\n"
)


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    """The CLI pointed at a data directory that does not exist: country commands must not need one."""
    runner = CliRunner()
    absent = tmp_path / "no-data-dir"

    def invoke(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(app, ["--data-dir", str(absent), *args])
        assert (result.exit_code == 0) == ok, result.output
        assert not absent.exists()
        return result

    return invoke


def test_show_prints_each_value_with_its_source_and_date(run) -> None:  # type: ignore[no-untyped-def]
    out = run("country", "show", "IL").stdout
    for text in ("Israel (IL / ISR)", "+0.95", "+0.67", "not a signatory", "party", "World Bank WGI"):
        assert text in out
    for as_of in ("2022-12-31", "2024-09-22", "2024-06-20", "2023-04-27"):
        assert as_of in out
    flat = " ".join(out.split())  # rich wraps long lines at the terminal width
    assert "CC BY 4.0" in flat and "perception-based" in flat


def test_show_json_any_case_and_alpha3(run) -> None:  # type: ignore[no-untyped-def]
    found = json.loads(run("country", "show", "isr", "--json").stdout)
    assert found["alpha2"] == "IL" and found["wgi"]["rule_of_law"] == 0.9452
    assert found["joint_statement_joined"] is None and found["budapest_party"] is True
    assert {s["name"] for s in found["sources"]} >= {
        "World Bank WGI",
        "Budapest Convention (ETS 185) parties",
    }
    assert json.loads(run("country", "show", "de", "--json").stdout)["joint_statement_joined"] == "2024-03-18"


@pytest.mark.parametrize("code", ["XX", "ISRA", "uk"])
def test_an_unknown_code_is_a_message_and_a_non_zero_exit(run, code: str) -> None:  # type: ignore[no-untyped-def]
    result = run("country", "show", code, ok=False)
    assert f"unknown country code {code!r}" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_list_by_tier(run) -> None:  # type: ignore[no-untyped-def]
    out = run("country", "list", "--tier", "EMBARGOED").stdout
    for code in ("KP", "IR", "SY", "CU", "RU", "BY"):
        assert f"│ {code} " in out
    assert "6 countries" in out and "illustrative" in out
    tier_a = json.loads(run("country", "list", "--tier", "a", "--json").stdout)
    assert {"IL", "US", "GB"} <= {p["alpha2"] for p in tier_a}
    assert all(p["cyber_export_tier"] == "A" for p in tier_a)
    assert len(json.loads(run("country", "list", "--json").stdout)) == 251
    assert "--tier" in run("country", "list", "--tier", "D", ok=False).output


def test_an_override_directory_replaces_the_tier_list(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    overrides = tmp_path / "overrides"
    overrides.mkdir()
    (overrides / "cyber_export_tiers.csv").write_text(TIERS, encoding="utf-8")
    found = json.loads(run("country", "show", "US", "--json", "--override-dir", str(overrides)).stdout)
    assert found["cyber_export_tier"] == "B"
    assert str(overrides) in found["sources"][-1]["url_or_citation"]
    listed = json.loads(
        run("country", "list", "--tier", "A", "--json", "--override-dir", str(overrides)).stdout
    )
    assert [p["alpha2"] for p in listed] == ["IL"]


def test_a_malformed_override_lists_every_problem_and_exits_non_zero(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "cyber_export_tiers.csv").write_text(TIERS + "XX,A,\nIL,Z,\n", encoding="utf-8")
    result = run("country", "show", "IL", "--override-dir", str(tmp_path), ok=False)
    assert "cyber_export_tiers.csv:7: column 'country': 'XX' is not a known" in result.output
    assert "cyber_export_tiers.csv:8: column 'tier': 'Z' is not one of" in result.output
    assert "country data not loaded: 2 problem(s)" in result.output
    assert "Traceback" not in result.output
