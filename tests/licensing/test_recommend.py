"""The recommendation rule set (reference/export_control.md 2.2 "Rules (first cut)", 2.3): a table of
realistic cases, then properties (a potential match or an unprovable absence never yields APPROVE; the verdict
is the worst reason's)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.errors import InvalidRequest
from gesher.licensing import gates
from gesher.licensing.catalog import classify
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.config import LicensingConfig
from gesher.licensing.gates import Stage
from gesher.licensing.recommend import (
    RULES,
    CountryFacts,
    MarketingLicenceFacts,
    PartyFacts,
    RecommendationInputs,
    Verdict,
    recommend,
    rule_explanations,
)
from gesher.vetting.countries import ExportTier
from gesher.vetting.model import ScreeningOutcome
from tests.licensing.helpers import AT, EDR, OFFICER, clean_inputs, project_at
from tests.licensing.test_catalog import IP_SURVEILLANCE, PENTEST

POLICE = "Norwegian Police Security Service"
NORWAY = CountryFacts("NO", ExportTier.A, "Norway")


def user(screening: str = "clear", government: bool | None = True, **more: object) -> PartyFacts:
    return PartyFacts(POLICE, ScreeningOutcome(screening), government=government, **more)


def country(code: str, tier: ExportTier | None, **more: object) -> tuple[CountryFacts, ...]:
    return (CountryFacts(code, tier, **more),)


def suspended_project() -> gates.Project:
    project, _ = gates.suspend(project_at(Stage.EXPORT), OFFICER, AT, "misuse alleged")
    return project


NO_ML = MarketingLicenceFacts("ML-1", False, True, True)
OTHER_COUNTRY_ML = MarketingLicenceFacts("ML-1", True, True, False)
DUAL = classify(PENTEST)
DEFENSIVE = classify(EDR)
SURVEILLANCE = classify(IP_SURVEILLANCE)
D, P, R, A = Verdict.DENY, Verdict.PRESUME_DENIAL, Verdict.REFER, Verdict.APPROVE

# (changes to the clean case, verdict, reason codes that must be given)
CASES = [
    pytest.param(
        {}, A, {"ALL_RULES_PASS", "TIER_A", "GOVERNMENT_END_USER"}, id="clean tier-A government user"
    ),
    pytest.param({"end_user": user("match")}, D, {"LISTED_PARTY"}, id="listed end user"),
    pytest.param(
        {"intermediaries": (PartyFacts("Thalestris Limited", ScreeningOutcome.MATCH, role="broker"),)},
        D,
        {"LISTED_PARTY"},
        id="listed intermediary",
    ),
    pytest.param(
        {"countries": country("IR", ExportTier.EMBARGOED)}, D, {"EMBARGOED"}, id="embargoed destination"
    ),
    pytest.param(
        {"countries": country("MX", ExportTier.B)}, D, {"OFFENSIVE_NOT_TIER_A"}, id="offensive to tier B"
    ),
    pytest.param({"countries": country("XK", None)}, D, {"OFFENSIVE_NOT_TIER_A"}, id="offensive to no list"),
    pytest.param({"end_user": user(government=False)}, D, {"NOT_GOVERNMENT"}, id="offensive to a company"),
    pytest.param(
        {"end_user": user(government=None)}, R, {"GOVERNMENT_UNKNOWN"}, id="government status unknown"
    ),
    pytest.param({"end_user": user("review")}, R, {"SCREENING_REVIEW"}, id="potential match: refer"),
    pytest.param({"end_user": user("unknown")}, R, {"SCREENING_UNKNOWN"}, id="confidential list: refer"),
    pytest.param(
        {"end_user": user(misuse_substantiated_on=(date(2023, 3, 1),))},
        P,
        {"MISUSE_SUBSTANTIATED"},
        id="misuse substantiated within 5 years",
    ),
    pytest.param(
        {"end_user": user(misuse_substantiated_on=(date(2019, 3, 1),))},
        A,
        {"MISUSE_OLD"},
        id="misuse older than 5 years: recorded",
    ),
    pytest.param(
        {
            "end_user": user(misuse_substantiated_on=(date(2019, 3, 1),)),
            "config": LicensingConfig(misuse_lookback_years=10),
        },
        P,
        {"MISUSE_SUBSTANTIATED"},
        id="look-back is a setting",
    ),
    pytest.param(
        {"countries": (dataclasses.replace(NORWAY, downgraded_after_misuse=True),)},
        P,
        {"COUNTRY_DOWNGRADED"},
        id="country downgraded after misuse",
    ),
    pytest.param(
        {"countries": (dataclasses.replace(NORWAY, risk_signals=("WGI voice and accountability -0.9",)),)},
        R,
        {"RISK_SIGNAL"},
        id="soft risk signal: refer",
    ),
    pytest.param({"declaration_signed": False}, D, {"NO_DECLARATION"}, id="declaration not signed"),
    pytest.param({"marketing_licence": None}, D, {"NO_MARKETING_LICENCE"}, id="no marketing licence"),
    pytest.param(
        {"marketing_licence": NO_ML}, D, {"MARKETING_LICENCE_INVALID"}, id="marketing licence not in force"
    ),
    pytest.param(
        {"marketing_licence": OTHER_COUNTRY_ML},
        D,
        {"MARKETING_LICENCE_INVALID"},
        id="marketing licence elsewhere",
    ),
    pytest.param({"project": None}, D, {"NO_PROJECT"}, id="offensive item without a project"),
    pytest.param(
        {"project": project_at(Stage.TESTING)}, D, {"GATES_NOT_PASSED"}, id="export before marketing gate"
    ),
    pytest.param({"project": suspended_project()}, D, {"GATES_NOT_PASSED"}, id="suspended project"),
    pytest.param({"knows_unauthorised_use": True}, D, {"UNAUTHORISED_USE"}, id="reason to know of misuse"),
    pytest.param(
        {
            "classification": DUAL,
            "project": None,
            "marketing_licence": None,
            "end_user": user(government=False),
        },
        A,
        {"ALL_RULES_PASS"},
        id="dual-use to a tier-A company: no project, no marketing licence needed",
    ),
    pytest.param(
        {"classification": DUAL, "project": None, "config": LicensingConfig(supervise_dual_use=True)},
        D,
        {"NO_PROJECT"},
        id="dual-use under supervision needs a project",
    ),
    pytest.param(
        {"classification": SURVEILLANCE, "countries": country("TH", ExportTier.C), "project": None},
        R,
        {"DUAL_USE_WEAK_TIER"},
        id="5.A.1.j surveillance to tier C: due diligence",
    ),
    pytest.param(
        {
            "classification": DEFENSIVE,
            "countries": country("TH", ExportTier.C),
            "end_user": user(government=False),
        },
        A,
        {"ALL_RULES_PASS"},
        id="EDR to a tier-C company",
    ),
    pytest.param(
        {"classification": DEFENSIVE, "countries": country("KP", ExportTier.EMBARGOED)},
        D,
        {"EMBARGOED"},
        id="EDR to an embargoed country",
    ),
]


@pytest.mark.parametrize(("changes", "verdict", "codes"), CASES)
def test_recommendation(changes: dict[str, object], verdict: Verdict, codes: set[str]) -> None:
    result = recommend(clean_inputs(**changes))
    assert result.verdict == verdict, result.reasons
    assert codes <= result.codes()
    assert all(r.rule for r in result.reasons)


def marketing(countries: tuple[CountryFacts, ...], stage: Stage = Stage.TESTING) -> RecommendationInputs:
    return clean_inputs(
        kind=LicenceKind.MARKETING,
        countries=countries,
        project=project_at(stage),
        end_user=None,
        marketing_licence=None,
        declaration_signed=False,
    )


def test_marketing_applications() -> None:
    tier_a = (NORWAY, CountryFacts("JP", ExportTier.A, "Japan"))
    assert recommend(marketing(tier_a)).verdict == Verdict.APPROVE
    with_b = recommend(marketing((*tier_a, CountryFacts("AE", ExportTier.B, "UAE"))))
    assert with_b.verdict == Verdict.DENY and "UAE" in next(r.text for r in with_b.reasons if r.verdict == D)
    assert "GATES_NOT_PASSED" in recommend(marketing(tier_a, Stage.DEVELOPMENT)).codes(Verdict.DENY)


def test_inputs_are_checked() -> None:
    with pytest.raises(InvalidRequest):
        clean_inputs(countries=())
    with pytest.raises(InvalidRequest):
        clean_inputs(end_user=None)
    with pytest.raises(InvalidRequest):
        clean_inputs(countries=(NORWAY, NORWAY))


def test_every_rule_explains_itself() -> None:
    assert [name for name, _ in rule_explanations()] == [r.__name__ for r in RULES]
    assert all(len(text) > 40 for _, text in rule_explanations())


parties = st.builds(
    PartyFacts,
    st.sampled_from(["Police", "Ministry", "Broker"]),
    st.sampled_from(ScreeningOutcome),
    government=st.sampled_from([True, False, None]),
    misuse_substantiated_on=st.lists(st.dates(date(2015, 1, 1), date(2025, 6, 1)), max_size=2).map(tuple),
)
countries = st.builds(
    CountryFacts,
    st.sampled_from(["NO", "JP", "MX", "TH"]),
    st.sampled_from([*ExportTier, None]),
    downgraded_after_misuse=st.booleans(),
    risk_signals=st.lists(st.just("weak rule of law"), max_size=1).map(tuple),
)
inputs = st.builds(
    clean_inputs,
    classification=st.sampled_from([classify(PENTEST), classify(EDR), clean_inputs().classification]),
    countries=countries.map(lambda c: (c,)),
    end_user=parties,
    intermediaries=st.lists(parties, max_size=2).map(tuple),
    declaration_signed=st.booleans(),
    knows_unauthorised_use=st.booleans(),
    marketing_licence=st.sampled_from([None, NO_ML, MarketingLicenceFacts("ML-1", True, True, True)]),
)


@given(inputs)
def test_requires_verification_never_means_yes(facts: RecommendationInputs) -> None:
    result = recommend(facts)
    assert result.verdict == max((r.verdict for r in result.reasons), key=lambda v: v.rank)
    screened = [facts.end_user, *facts.intermediaries]
    outcomes = {p.screening for p in screened if p is not None}
    if ScreeningOutcome.MATCH in outcomes or facts.countries[0].export_tier == ExportTier.EMBARGOED:
        assert result.verdict == Verdict.DENY
    if outcomes & {ScreeningOutcome.REVIEW, ScreeningOutcome.UNKNOWN}:
        assert result.verdict != Verdict.APPROVE
    if result.verdict == Verdict.APPROVE:
        assert facts.declaration_signed and not facts.knows_unauthorised_use


@given(inputs)
def test_a_worse_screening_outcome_never_gives_a_better_verdict(facts: RecommendationInputs) -> None:
    assert facts.end_user is not None
    order = list(ScreeningOutcome)  # clear, unknown, review, match: worse last
    worse = [o for o in order if order.index(o) >= order.index(facts.end_user.screening)]
    for other in worse:
        changed = dataclasses.replace(facts, end_user=dataclasses.replace(facts.end_user, screening=other))
        assert recommend(changed).verdict.rank >= recommend(facts).verdict.rank
