"""Country profiles from the shipped data: every file loads, codes resolve in any form, every value is shown
with its source and date."""

from __future__ import annotations

import csv
from datetime import date
from importlib.resources import files
from pathlib import Path

import pytest

from gesher.errors import GesherError
from gesher.policy.countries import ISO_3166
from gesher.vetting import loaders
from gesher.vetting.countries import (
    BUDAPEST,
    JOINT_STATEMENT,
    TIERS,
    WGI,
    CountryProfiles,
    ExportTier,
    UnknownCountryError,
    load_country_profiles,
    profile_as_json,
    profile_lines,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "vetting"
DATA = files("gesher.vetting") / "data"


@pytest.fixture(scope="module")
def profiles() -> CountryProfiles:
    return load_country_profiles()


def _shipped(name: str) -> loaders.DataFile:
    problems: list[str] = []
    found = loaders.read_all({name: loaders.RawFile(name, (DATA / name).read_bytes(), False)}, problems)
    assert not problems
    return found[name]


def test_every_shipped_file_has_an_as_of_date_and_a_source() -> None:
    for name in loaders.DATA_FILES:
        data = _shipped(name)
        assert data.as_of <= date(2026, 12, 31), name
        assert data.sources, name
    sources_md = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    for name in loaders.DATA_FILES:
        assert f"`{name}`" in sources_md
    assert "CC BY 4.0" in sources_md and "perception-based" in sources_md
    verify = "verify against the coe treaty office chart before production use"
    assert verify in " ".join(sources_md.lower().split())
    assert verify in (DATA / loaders.BUDAPEST_FILE).read_text(encoding="utf-8").lower()


def test_the_wgi_copy_keeps_all_214_rows_and_their_columns() -> None:
    wgi = _shipped(loaders.WGI_FILE)
    assert len(wgi.rows) == 214
    assert wgi.header == (
        "country",
        "iso3",
        "year",
        "rule_of_law_est",
        "rule_of_law_pct_rank",
        "voice_accountability_est",
        "political_stability_est",
        "control_corruption_est",
    )


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared is not beside the project")
def test_the_shipped_copies_match_the_shared_data() -> None:
    with (SHARED / "wgi_2022_subset.csv").open(encoding="utf-8") as f:
        shared = list(csv.DictReader(f))
    assert [r.values for r in _shipped(loaders.WGI_FILE).rows] == shared
    with (SHARED / "spyware_joint_statement_signatories.csv").open(encoding="utf-8") as f:
        signatories = {r["iso3"]: r["joined"] for r in csv.DictReader(f)}
    shipped = {r.values["iso3"]: r.values["joined"] for r in _shipped(loaders.JOINT_STATEMENT_FILE).rows}
    assert shipped.keys() == signatories.keys()
    assert {k: v for k, v in shipped.items() if v != "pending"} == {
        k: v for k, v in signatories.items() if k != "LVA"
    }


def test_the_code_table_covers_exactly_iso_3166_plus_two_wgi_codes(profiles: CountryProfiles) -> None:
    official = {p.alpha2 for p in profiles if p.code_status == "official"}
    assert official == ISO_3166
    assert {(p.alpha2, p.code_status) for p in profiles if p.code_status != "official"} == {
        ("XK", "user-assigned"),
        ("AN", "withdrawn"),
    }


def test_israel_shows_its_wgi_values_and_joint_statement_status_as_in_the_data(
    profiles: CountryProfiles,
) -> None:
    il = profiles.get("IL")
    assert (il.alpha2, il.alpha3, il.name) == ("IL", "ISR", "Israel")
    assert il.wgi is not None
    assert (il.wgi.rule_of_law, il.wgi.voice_accountability, il.wgi.year) == (0.9452, 0.6743, 2022)
    assert (il.wgi.political_stability, il.wgi.control_of_corruption) == (-1.2853, 0.781)
    assert il.joint_statement_joined is None and not il.joint_statement_pending
    assert il.budapest_party
    assert il.cyber_export_tier == ExportTier.A
    lines = profile_lines(il)
    assert "WGI 2022 rule of law: +0.95 (World Bank WGI, as of 2022-12-31)" in lines
    assert any(line.startswith("Joint Statement on commercial spyware: not a signatory (") for line in lines)
    assert any("CC BY 4.0" in line for line in lines)


def test_joint_statement_signatories_carry_their_join_date_and_row_source(profiles: CountryProfiles) -> None:
    signed = {p.alpha3: p.joint_statement_joined for p in profiles if p.joint_statement_joined}
    assert len(signed) == 21
    assert signed["USA"] == signed["GBR"] == date(2023, 3, 30)
    assert signed["JPN"] == signed["KOR"] == date(2024, 3, 18)
    assert signed["NLD"] == date(2024, 9, 22)
    assert "digitalpolicyalert.org" in profiles.get("DE").source(JOINT_STATEMENT).url_or_citation  # "same"
    latvia = profiles.get("lv")
    assert latvia.joint_statement_joined is None and latvia.joint_statement_pending
    assert "not counted as a signatory" in "\n".join(profile_lines(latvia))


def test_budapest_and_tiers(profiles: CountryProfiles) -> None:
    parties = {p.alpha2 for p in profiles if p.budapest_party}
    assert len(parties) == 70
    assert {"IL", "US", "JP", "DE", "FR", "GB", "BJ", "FJ", "KI"} <= parties
    assert not {"RU", "CN", "IE", "IR"} & parties
    embargoed = {p.alpha2 for p in profiles.with_tier(ExportTier.EMBARGOED)}
    assert embargoed == {"KP", "IR", "SY", "CU", "RU", "BY"}
    assert profiles.get("CN").cyber_export_tier is None
    assert "illustrative" in profiles.dataset(TIERS).url_or_citation


@pytest.mark.parametrize("code", ["IL", "il", "Il", "ISR", "isr", " iSr ", "\til\n"])
def test_alpha2_and_alpha3_in_any_case(profiles: CountryProfiles, code: str) -> None:
    assert profiles.get(code).alpha2 == "IL"
    assert code in profiles


@pytest.mark.parametrize("code", ["", "X", "XX", "XXX", "ISRA", "I L", "GBR1", "UK", "EU", "x" * 500])
def test_unknown_codes_raise_a_422_naming_what_was_given(profiles: CountryProfiles, code: str) -> None:
    with pytest.raises(UnknownCountryError) as raised:
        profiles.get(code)
    assert isinstance(raised.value, GesherError)
    assert raised.value.status == 422
    assert repr(code)[:40] in raised.value.description
    assert len(raised.value.description) < 200
    assert code not in profiles


def test_territories_without_estimates_have_no_wgi(profiles: CountryProfiles) -> None:
    assert profiles.get("ANT").wgi is None  # every estimate empty in the data
    anguilla = profiles.get("AI").wgi
    assert anguilla is not None and anguilla.voice_accountability is None
    assert "WGI 2022 voice and accountability: not published" in "\n".join(profile_lines(profiles.get("AI")))
    assert profiles.get("AQ").wgi is None  # Antarctica: not in WGI at all
    assert profiles.get("XK").wgi is not None  # Kosovo, user-assigned code the World Bank uses


def test_every_profile_cites_every_data_set_and_is_as_old_as_its_oldest_fact(
    profiles: CountryProfiles,
) -> None:
    for p in profiles:
        assert [s.name for s in p.sources][1:] == [WGI, JOINT_STATEMENT, BUDAPEST, TIERS]
        assert p.as_of == min(s.as_of for s in p.sources[1:]) == date(2022, 12, 31)


def test_json_form(profiles: CountryProfiles) -> None:
    found = profile_as_json(profiles.get("fr"))
    assert found["alpha3"] == "FRA"
    assert found["joint_statement_joined"] == "2023-03-30"
    assert found["cyber_export_tier"] == "A"
    assert isinstance(found["wgi"], dict) and found["wgi"]["year"] == 2022
    assert isinstance(found["sources"], list) and len(found["sources"]) == 5


def test_loading_the_shipped_data_twice_gives_the_same_profiles() -> None:
    assert load_country_profiles() is load_country_profiles()  # immutable, so cached
    assert len(load_country_profiles()) == 251
