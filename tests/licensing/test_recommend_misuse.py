"""Substantiated misuse reports in the recommendation (issue 5: misuse feeds later decisions): a report naming
the end user or an intermediary presumes denial, one in the destination or with the same vendor refers the
application, each with the report and its allegation quoted; older reports are recorded; reports involving
none of the application's parties, places or vendor say nothing."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.licensing import applications as apps
from gesher.licensing.config import DEFAULT_CONFIG
from gesher.licensing.history import Role
from gesher.licensing.recommend import MisuseRecord, PartyFacts, Verdict, recommend, rule_explanations
from gesher.vetting.model import ScreeningOutcome, years_before
from tests.licensing.helpers import (
    AT,
    OFFICER,
    OFFICER_2,
    SENIOR,
    SYSTEM,
    TODAY,
    VENDOR,
    VENDOR_ORG,
    classified,
    clean_inputs,
    export_application,
    refused,
)

POLICE = "Norwegian Police Security Service"
LAST_YEAR = date(2024, 9, 1)
LONG_AGO = date(2010, 1, 1)  # before the five-year look-back


def report(**involves: tuple[str, ...]) -> MisuseRecord:
    return MisuseRecord("M-7", LAST_YEAR, "phones of two journalists infected", **involves)


def reasons_for(*records: MisuseRecord, **changes: object) -> tuple[Verdict, dict[str, str]]:
    done = recommend(clean_inputs(vendor=VENDOR_ORG, misuse_reports=records, **changes))
    found = {r.code: r.text for r in done.reasons if r.rule == "misuse_reports"}
    return done.verdict, found


@pytest.mark.parametrize(
    ("involves", "verdict", "code", "who"),
    [
        ({"parties": (POLICE,)}, Verdict.PRESUME_DENIAL, "MISUSE_REPORT_PARTY", f"end user {POLICE}"),
        ({"parties": (POLICE.upper(),)}, Verdict.PRESUME_DENIAL, "MISUSE_REPORT_PARTY", "end user"),
        ({"countries": ("NO",)}, Verdict.REFER, "MISUSE_REPORT_COUNTRY", "destination Norway"),
        ({"vendors": (VENDOR_ORG,)}, Verdict.REFER, "MISUSE_REPORT_VENDOR", f"vendor {VENDOR_ORG}"),
    ],
)
def test_a_report_involving_the_application_weighs_on_it(
    involves: dict[str, tuple[str, ...]], verdict: Verdict, code: str, who: str
) -> None:
    got, found = reasons_for(report(**involves))
    assert got == verdict
    assert who in found[code] and "M-7" in found[code] and "journalists" in found[code]
    assert "2024-09-01" in found[code]


def test_an_intermediary_named_in_a_report_presumes_denial() -> None:
    broker = PartyFacts("Gulf Resellers FZE", ScreeningOutcome.CLEAR, role="intermediary")
    got, found = reasons_for(report(parties=("gulf resellers fze",)), intermediaries=(broker,))
    assert got == Verdict.PRESUME_DENIAL
    assert "intermediary Gulf Resellers FZE" in found["MISUSE_REPORT_PARTY"]


def test_one_report_can_involve_party_place_and_vendor_at_once() -> None:
    got, found = reasons_for(report(parties=(POLICE,), countries=("no",), vendors=(VENDOR_ORG.lower(),)))
    assert got == Verdict.PRESUME_DENIAL
    assert set(found) == {"MISUSE_REPORT_PARTY", "MISUSE_REPORT_COUNTRY", "MISUSE_REPORT_VENDOR"}


def test_a_report_older_than_the_look_back_is_recorded_only() -> None:
    old = MisuseRecord("M-1", LONG_AGO, "old abuse", parties=(POLICE,), countries=("NO",))
    got, found = reasons_for(old)
    assert got == Verdict.APPROVE
    assert "M-1" in found["MISUSE_REPORT_OLD"] and "old abuse" in found["MISUSE_REPORT_OLD"]


def test_reports_about_others_say_nothing() -> None:
    elsewhere = report(parties=("Someone Else",), countries=("MX",), vendors=("Osprey Systems",))
    got, found = reasons_for(elsewhere, report())
    assert got == Verdict.APPROVE and found == {}


def test_empty_names_never_match() -> None:
    """A report without an end user does not involve an application whose vendor is not given."""
    done = recommend(clean_inputs(misuse_reports=(report(parties=("",), vendors=("",)),)))
    assert done.verdict == Verdict.APPROVE


def test_the_rule_is_explained() -> None:
    text = dict(rule_explanations())["misuse_reports"]
    assert "presumes denial" in text and "refers" in text


def test_a_presumption_from_a_report_needs_a_senior_approver() -> None:
    recommendation = recommend(clean_inputs(vendor=VENDOR_ORG, misuse_reports=(report(parties=(POLICE,)),)))
    app, _ = apps.draft(export_application(), VENDOR, AT)
    app, _ = apps.submit(app, VENDOR, AT)
    app, _ = apps.screen(app, recommendation, SYSTEM, AT)
    app, _ = apps.confirm_classification(app, classified(), recommendation, OFFICER, AT)
    app, _ = apps.approve(app, OFFICER, AT, "end user has reformed")
    refused(lambda: apps.approve(app, OFFICER_2, AT, "concur"), "SENIOR_REQUIRED")
    done, _ = apps.approve(app, SENIOR, AT, "override: the unit involved was disbanded")
    assert done.state == apps.ApplicationState.APPROVED
    assert any(a.role == Role.SENIOR_OFFICER for a in done.approvals)


@given(
    st.lists(st.sampled_from(["party", "country", "vendor", "none"]), max_size=4),
    st.dates(min_value=date(2000, 1, 1), max_value=TODAY),
)
def test_misuse_reports_never_improve_a_recommendation(kinds: list[str], day: date) -> None:
    """Adding reports can only keep or worsen the verdict, and a recent report involving the application
    never leaves it APPROVE."""
    involves = {"party": {"parties": (POLICE,)}, "country": {"countries": ("NO",)},
                "vendor": {"vendors": (VENDOR_ORG,)}, "none": {}}  # fmt: skip
    records = tuple(MisuseRecord(f"M-{n}", day, "alleged", **involves[k]) for n, k in enumerate(kinds))
    base = recommend(clean_inputs(vendor=VENDOR_ORG))
    done = recommend(clean_inputs(vendor=VENDOR_ORG, misuse_reports=records))
    assert done.verdict.rank >= base.verdict.rank
    recent = day >= years_before(TODAY, DEFAULT_CONFIG.misuse_lookback_years)
    if recent and set(kinds) - {"none"}:
        assert done.verdict != Verdict.APPROVE
