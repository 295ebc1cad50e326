"""Operator override files: a file of a shipped name replaces the shipped one whole; a malformed file is
refused with file:line and column, and nothing at all is loaded."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from gesher.errors import ConfigurationError
from gesher.vetting.countries import TIERS, ExportTier, load_country_profiles
from gesher.vetting.datafile import CountryDataError

PREAMBLE = "# as_of: 2025-06-01\n# source: test policy owner, signed 2025-06-01\n"
TIERS_OK = PREAMBLE + "country,tier,note\nIL,A,home\nfr,b,lower case is fine\nCHE,C,alpha-3\nKP,EMBARGOED,\n"
WGI_HEADER = (
    "country,iso3,year,rule_of_law_est,rule_of_law_pct_rank,voice_accountability_est,"
    "political_stability_est,control_corruption_est\n"
)


def _dir(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
    return tmp_path


def _problems(tmp_path: Path, **files: str) -> tuple[str, ...]:
    with pytest.raises(CountryDataError) as raised:
        load_country_profiles(_dir(tmp_path, **files))
    assert isinstance(raised.value, ConfigurationError)
    return raised.value.problems


def test_an_override_tier_file_replaces_the_shipped_list_whole(tmp_path: Path) -> None:
    profiles = load_country_profiles(_dir(tmp_path, cyber_export_tiers=TIERS_OK))
    assert profiles.get("IL").cyber_export_tier == ExportTier.A
    assert profiles.get("FR").cyber_export_tier == ExportTier.B
    assert profiles.get("CH").cyber_export_tier == ExportTier.C
    assert profiles.get("US").cyber_export_tier is None  # tier A when shipped, on no list in the override
    assert profiles.get("RU").cyber_export_tier is None
    assert {p.alpha2 for p in profiles.with_tier(ExportTier.EMBARGOED)} == {"KP"}
    tiers = profiles.get("FR").source(TIERS)
    assert tiers.as_of == date(2025, 6, 1)
    assert str(tmp_path) in tiers.url_or_citation and "test policy owner" in tiers.url_or_citation
    assert profiles.get("FR").cyber_export_note == "lower case is fine"
    # the other files are still the shipped ones, and the shipped profiles are untouched
    assert profiles.get("FR").joint_statement_joined == date(2023, 3, 30)
    assert load_country_profiles().get("US").cyber_export_tier == ExportTier.A


def test_an_empty_override_directory_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("not a data file", encoding="utf-8")
    assert load_country_profiles(tmp_path).get("US").cyber_export_tier == ExportTier.A


def test_every_shipped_file_can_be_overridden(tmp_path: Path) -> None:
    profiles = load_country_profiles(
        _dir(
            tmp_path,
            wgi_2022=PREAMBLE + WGI_HEADER + "Israel,ISR,2023,-0.5,40,-0.7,,0.1\n",
            spyware_joint_statement=PREAMBLE + "iso3,joined,source\nISR,2025-02-01,https://example.org\n",
            budapest_parties=PREAMBLE + "iso3\nCHN\n",
        )
    )
    il = profiles.get("IL")
    assert il.wgi is not None and (il.wgi.rule_of_law, il.wgi.year, il.wgi.political_stability) == (
        -0.5,
        2023,
        None,
    )
    assert il.joint_statement_joined == date(2025, 2, 1)
    assert il.budapest_party is False and profiles.get("CN").budapest_party is True
    assert profiles.get("US").wgi is None and profiles.get("US").joint_statement_joined is None


@pytest.mark.parametrize(
    ("name", "body", "expected"),
    [
        (
            "wgi_2022",
            WGI_HEADER + "Israel,ISR,2022,0.9452,80,zero,-1.2,0.7\n",
            "wgi_2022.csv:4: column 'voice_accountability_est': 'zero' is not a number",
        ),
        (
            "wgi_2022",
            WGI_HEADER + "Israel,ISR,2022,0.9,80,0.6,-1.2,0.7\nSpain,ESP,2022,80.1,80,1,1,1\n",
            "wgi_2022.csv:5: column 'rule_of_law_est': '80.1' is outside -3.0..3.0",
        ),
        (
            "wgi_2022",
            WGI_HEADER + "Israel,ISR,2022,nan,80,0.6,-1.2,0.7\n",
            "wgi_2022.csv:4: column 'rule_of_law_est': 'nan' is outside",
        ),
        (
            "wgi_2022",
            WGI_HEADER + "Israel,ISR,22,0.9,80,0.6,-1.2,0.7\n",
            "wgi_2022.csv:4: column 'year': '22' is not a year",
        ),
        (
            "cyber_export_tiers",
            "country,tier\nIL,A\nXY,B\n",
            "cyber_export_tiers.csv:5: column 'country': 'XY' is not a known ISO 3166-1",
        ),
        (
            "cyber_export_tiers",
            "country,tier\nIL,A\nFR,B\nisr,C\n",
            "cyber_export_tiers.csv:6: IL is already given on line 4",
        ),
        (
            "cyber_export_tiers",
            "country,tier\nIL,A\nFR,D\n",
            "cyber_export_tiers.csv:5: column 'tier': 'D' is not one of A, B, C, EMBARGOED",
        ),
        (
            "cyber_export_tiers",
            "country,level\nIL,A\n",
            "cyber_export_tiers.csv:3: missing column 'tier' (the header has country, level)",
        ),
        (
            "cyber_export_tiers",
            "country,tier,tier\nIL,A,B\n",
            "cyber_export_tiers.csv:3: column 'tier' appears more than once",
        ),
        (
            "cyber_export_tiers",
            "country,tier\nIL,A,extra\n",
            "cyber_export_tiers.csv:4: 3 field(s), the header has 2",
        ),
        ("cyber_export_tiers", "", "cyber_export_tiers.csv:3: no header row"),
        (
            "cyber_export_tiers",
            'country,tier,note\nIL,A,"an unterminated\nquote\n',
            "cyber_export_tiers.csv:4: unexpected end of data",
        ),
        (
            "spyware_joint_statement",
            "iso3,joined,source\nFRA,2023-03-30,https://a.example\nDEU,18/03/2024,same\n",
            "statement.csv:5: column 'joined': '18/03/2024' is not a date (YYYY-MM-DD) or 'pending'",
        ),
        (
            "spyware_joint_statement",
            "iso3,joined,source\nFRA,2023-02-30,same\n",
            "spyware_joint_statement.csv:4: column 'joined': '2023-02-30' is not a date",
        ),
        (
            "budapest_parties",
            "country\nISR\n",
            "budapest_parties.csv:3: missing column 'iso3'",
        ),
    ],
)
def test_malformed_rows_are_named_by_file_line_and_column(
    tmp_path: Path, name: str, body: str, expected: str
) -> None:
    problems = _problems(tmp_path, **{name: PREAMBLE + body})
    assert any(p.startswith(str(tmp_path / f"{name}.csv")) for p in problems)
    assert any(expected in p for p in problems), problems


def test_the_joint_statement_same_needs_a_row_above(tmp_path: Path) -> None:
    body = PREAMBLE + "iso3,joined,source\nFRA,2023-03-30,same\n"
    (problem,) = _problems(tmp_path, spyware_joint_statement=body)
    assert problem.endswith(
        "spyware_joint_statement.csv:4: column 'source': 'same' needs a row above with a source"
    )


def test_line_numbers_count_the_preamble_blank_lines_and_multi_line_cells(tmp_path: Path) -> None:
    body = (
        "# a title line\n"
        "# as_of: 2025-06-01\n"
        "\n"
        "# source: somewhere\n"
        "country,tier,note\n"
        'IL,A,"a note\nover two lines"\n'
        "\n"
        "GB,Z,\n"
    )
    (problem,) = _problems(tmp_path, cyber_export_tiers=body)
    assert (
        problem
        == f"{tmp_path / 'cyber_export_tiers.csv'}:9: column 'tier': 'Z' is not one of A, B, C, EMBARGOED"
    )


@pytest.mark.parametrize(
    ("preamble", "expected"),
    [
        ("# source: x\n", "needs exactly one '# as_of: YYYY-MM-DD' line (found 0)"),
        ("# as_of: 2025-01-01\n# as_of: 2025-02-01\n# source: x\n", "(found 2)"),
        ("# as_of: June 2025\n# source: x\n", "as_of: 'June 2025' is not a date"),
        ("# as_of: 2025-01-01\n", "no '# source: ...' line"),
    ],
)
def test_a_file_must_say_as_of_when_and_from_where(tmp_path: Path, preamble: str, expected: str) -> None:
    (problem,) = _problems(tmp_path, cyber_export_tiers=preamble + "country,tier\nIL,A\n")
    assert expected in problem and "cyber_export_tiers.csv:1:" in problem


def test_every_problem_in_every_file_is_reported_and_nothing_is_loaded(tmp_path: Path) -> None:
    problems = _problems(
        tmp_path,
        cyber_export_tiers=TIERS_OK + "XX,A,\nIL,B,\n",
        wgi_2022=PREAMBLE + WGI_HEADER + "Israel,ISR,2022,high,80,0.6,-1.2,0.7\n",
        budapest_parties=PREAMBLE + "iso3\nISR\n",  # valid, yet not loaded either
    )
    assert len(problems) == 3
    assert {p.rsplit("/", 1)[-1].split(":")[0] for p in problems} == {
        "cyber_export_tiers.csv",
        "wgi_2022.csv",
    }
    assert "3 problem(s)" in str(CountryDataError(problems))
    # the shipped defaults are still what a caller without overrides gets
    assert load_country_profiles().get("IL").budapest_party


def test_a_misspelt_or_unreadable_override_is_an_error_not_ignored(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, cyber_export_tier=TIERS_OK)
    assert "cyber_export_tier.csv: not a country data file" in problem
    (tmp_path / "cyber_export_tier.csv").unlink()
    (tmp_path / "cyber_export_tiers.csv").write_bytes(PREAMBLE.encode() + b"country,tier\nIL,\xff\n")
    with pytest.raises(CountryDataError) as raised:
        load_country_profiles(tmp_path)
    assert raised.value.problems == (f"{tmp_path / 'cyber_export_tiers.csv'}:4: not UTF-8 text",)


def test_a_missing_override_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CountryDataError, match="does not exist"):
        load_country_profiles(tmp_path / "absent")


def test_a_spreadsheet_byte_order_mark_is_harmless(tmp_path: Path) -> None:
    (tmp_path / "cyber_export_tiers.csv").write_bytes(b"\xef\xbb\xbf" + TIERS_OK.encode())
    assert load_country_profiles(tmp_path).get("IL").cyber_export_tier == ExportTier.A


def test_the_code_table_itself_is_checked(tmp_path: Path) -> None:
    body = (
        PREAMBLE + "alpha2,alpha3,name,status\nIL,ISR,Israel,official\nXA,XAA,Made up,official\nil,IS,x,y\n"
    )
    problems = _problems(tmp_path, countries=body)
    assert any(
        "countries.csv:5: column 'alpha2': XA is not an ISO 3166-1 code in force" in p for p in problems
    )
    assert any("countries.csv:6: column 'alpha2': 'il' is not two capital letters" in p for p in problems)


def test_more_than_five_problems_are_summarised() -> None:
    error = CountryDataError([f"f.csv:{n}: bad" for n in range(1, 9)])
    assert "8 problem(s)" in error.description and "(and 3 more)" in error.description
    assert len(error.problems) == 8
