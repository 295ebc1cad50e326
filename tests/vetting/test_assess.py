"""The vetting assessment over realistic partners (table-driven, real country data), and its properties:
a worse screening outcome never yields a better tier, a positive signal never worsens it, blocking means no
tier."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gesher.errors import InvalidRequest
from gesher.policy.entitlement import TrustTier
from gesher.policy.principal import StakeholderKind
from gesher.vetting.assess import RULES, assess, rule_explanations
from gesher.vetting.countries import CountryProfile, load_country_profiles
from gesher.vetting.model import (
    SCREENING_SEVERITY,
    Assessment,
    CompositeRisk,
    Effect,
    MisuseFinding,
    OwnerScreening,
    ScreeningOutcome,
    VettingInputs,
)

PROFILES = load_country_profiles()
TODAY = date(2025, 6, 1)
RISK_ORDER = [CompositeRisk.LOW, CompositeRisk.MEDIUM, CompositeRisk.HIGH, CompositeRisk.PROHIBITED]
INTELLEXA = OwnerScreening("Intellexa S.A.", ScreeningOutcome.MATCH, 1.0, detail="US Entity List 2023-07-18")


def inputs(
    partner: str, country: str | None, kind: str, screening: str = "clear", **more: Any
) -> VettingInputs:
    profile = PROFILES.get(country) if country else None
    return VettingInputs(partner, profile, kind, ScreeningOutcome(screening), TODAY, **more)


def codes(a: Assessment) -> set[str]:
    return {r.code for r in a.reasons}


# (partner inputs, proposed tier, composite risk, blocking, needs review, reason codes that must be given)
CASES = [
    pytest.param(
        inputs("CERT-NO", "NO", "government", agreements=("Nordic CERT exchange",)),
        TrustTier.CLOSEST,
        CompositeRisk.LOW,
        False,
        False,
        {"EXPORT_TIER", "JOINT_STATEMENT", "BUDAPEST_PARTY", "GOVERNMENT_END_USER", "SCREENING_CLEAR"},
        id="allied national CERT, tier-A joint-statement country",
    ),
    pytest.param(
        inputs("JPCERT/CC", "JPN", "government"),
        TrustTier.CLOSEST,
        CompositeRisk.LOW,
        False,
        False,
        {"JOINT_STATEMENT", "BUDAPEST_PARTY"},
        id="allied CERT by alpha-3",
    ),
    pytest.param(
        inputs("Mexican financial ISAC", "MX", "isac"),
        TrustTier.LIMITED,
        CompositeRisk.MEDIUM,
        False,
        False,
        {"WEAK_RULE_OF_LAW", "EXPORT_TIER"},
        id="ISAC in a tier-B country with weak rule of law",
    ),
    pytest.param(
        inputs("Brazilian banking ISAC", "BR", "isac"),
        TrustTier.TRUSTED,
        CompositeRisk.LOW,
        False,
        False,
        {"WEAK_RULE_OF_LAW", "BUDAPEST_PARTY"},
        id="weak rule of law offset by a Budapest party",
    ),
    pytest.param(
        inputs("Abu Dhabi ministry CERT", "AE", "government"),
        TrustTier.RESTRICTED,
        CompositeRisk.HIGH,
        False,
        False,
        {"WEAK_VOICE_ACCOUNTABILITY", "GOVERNMENT_END_USER"},
        id="tier-C country with weak voice and accountability",
    ),
    pytest.param(
        inputs("Chinese vendor", "CN", "industry"),
        TrustTier.RESTRICTED,
        CompositeRisk.HIGH,
        False,
        False,
        {"EXPORT_TIER"},
        id="country on no export list",
    ),
    pytest.param(
        inputs("Athens Cyber Ltd", "GR", "industry", owners=(INTELLEXA,)),
        None,
        CompositeRisk.PROHIBITED,
        True,
        False,
        {"OWNER_MATCH"},
        id="company owned by a listed spyware vendor",
    ),
    pytest.param(
        inputs(
            "Dublin Research Ltd",
            "IE",
            "academia",
            owners=(
                OwnerScreening("Holdings Limited", ScreeningOutcome.CLEAR, 0.8),
                OwnerScreening("Aliada Group Inc.", ScreeningOutcome.MATCH, via="Holdings Limited"),
            ),
        ),
        None,
        CompositeRisk.PROHIBITED,
        True,
        False,
        {"OWNER_MATCH"},
        id="indirectly owned by a listed entity",
    ),
    pytest.param(
        inputs("NSO Group", "IL", "industry", "match", screening_detail="US Entity List 2021-11-04"),
        None,
        CompositeRisk.PROHIBITED,
        True,
        False,
        {"SCREENING_MATCH"},
        id="the partner itself is listed",
    ),
    pytest.param(
        inputs("Tehran CERT", "IR", "government"),
        None,
        CompositeRisk.PROHIBITED,
        True,
        False,
        {"EMBARGOED"},
        id="embargoed country",
    ),
    pytest.param(
        inputs("Moscow research institute", "RUS", "academia", agreements=("old MoU",)),
        None,
        CompositeRisk.PROHIBITED,
        True,
        False,
        {"EMBARGOED"},
        id="embargoed country despite an agreement",
    ),
    pytest.param(
        inputs("Tal Cohen Consulting", "GB", "industry", "unknown"),
        TrustTier.LIMITED,
        CompositeRisk.MEDIUM,
        False,
        True,
        {"SCREENING_UNKNOWN"},
        id="unknown (confidential list in force) is never clear",
    ),
    pytest.param(
        inputs("Group Technologies Ltd", "JP", "industry", "review"),
        TrustTier.LIMITED,
        CompositeRisk.MEDIUM,
        False,
        True,
        {"SCREENING_REVIEW"},
        id="potential match awaits an officer",
    ),
    pytest.param(
        inputs(
            "Tel Aviv startup",
            "IL",
            "industry",
            owners=(OwnerScreening("Offshore fund", ScreeningOutcome.UNKNOWN, 0.3),),
        ),
        TrustTier.LIMITED,
        CompositeRisk.MEDIUM,
        False,
        True,
        {"OWNER_UNKNOWN"},
        id="owner under a confidential list",
    ),
    pytest.param(
        inputs("Acme", None, "industry"),
        TrustTier.RESTRICTED,
        CompositeRisk.HIGH,
        False,
        True,
        {"NO_COUNTRY_PROFILE"},
        id="no country profile",
    ),
    pytest.param(
        inputs(
            "Gov surveillance unit",
            "FR",
            "government",
            misuse_findings=(MisuseFinding(date(2023, 5, 1), "phones of journalists infected"),),
        ),
        None,
        CompositeRisk.HIGH,
        False,
        True,
        {"MISUSE_SUBSTANTIATED"},
        id="substantiated misuse presumes denial",
    ),
    pytest.param(
        inputs(
            "Paris lab",
            "FR",
            "academia",
            misuse_findings=(MisuseFinding(date(2024, 1, 1), "press allegation", substantiated=False),),
        ),
        TrustTier.LIMITED,
        CompositeRisk.MEDIUM,
        False,
        True,
        {"MISUSE_ALLEGED"},
        id="alleged misuse is reviewed",
    ),
    pytest.param(
        inputs(
            "Lyon operator",
            "FR",
            "industry",
            government_share=0.3,
            misuse_findings=(MisuseFinding(date(2018, 1, 1), "settled case"),),
        ),
        TrustTier.CLOSEST,
        CompositeRisk.LOW,
        False,
        False,
        {"MISUSE_OLD", "GOVERNMENT_END_USER"},
        id="old misuse and 30 % state ownership are information",
    ),
]


@pytest.mark.parametrize(("given", "tier", "risk", "blocking", "review", "reasons"), CASES)
def test_realistic_partners(
    given: VettingInputs,
    tier: TrustTier | None,
    risk: CompositeRisk,
    blocking: bool,
    review: bool,
    reasons: set[str],
) -> None:
    a = assess(given)
    assert (a.proposed_tier, a.composite_risk, a.blocking, a.needs_review) == (tier, risk, blocking, review)
    assert reasons <= codes(a), [r.text for r in a.reasons]
    assert set(a.dimensions) == {
        "rule_of_law",
        "human_rights",
        "responsible_cyber_behaviour",
        "sanctions_exposure",
        "misuse_history",
        "diversion_risk",
    }


def test_an_inherited_hit_names_the_owner_and_the_path() -> None:
    a = assess(CASES[7].values[0])  # type: ignore[arg-type]
    (owner,) = [r for r in a.reasons if r.code == "OWNER_MATCH"]
    assert "Aliada Group Inc." in owner.text and "through Holdings Limited" in owner.text
    assert "inherits the hit" in owner.text and owner.effect == Effect.BLOCK
    assert owner.rule == "owner_screening"
    assert a.dimensions["sanctions_exposure"].score == 100
    assert "owner Aliada Group Inc." in a.dimensions["sanctions_exposure"].reasons[0]
    direct = assess(CASES[6].values[0])  # type: ignore[arg-type]
    assert any("Intellexa S.A. (100%)" in r.text and "US Entity List" in r.text for r in direct.reasons)


def test_the_soft_signal_reasons_cite_the_values() -> None:
    a = assess(inputs("Mexican financial ISAC", "MX", "isac"))
    (weak,) = [r for r in a.reasons if r.code == "WEAK_RULE_OF_LAW"]
    assert weak.text == "WGI 2022 rule of law -0.87 for Mexico is below +0.0: soft risk signal"
    assert weak.effect == Effect.LOWER
    (tier,) = [r for r in a.reasons if r.code == "TIER"]
    assert "the country allows at best 2" in tier.text and "lowered 1 step(s)" in tier.text
    assert a.dimensions["rule_of_law"].score == 67


def test_rules_explain_themselves() -> None:
    explained = rule_explanations()
    assert [name for name, _ in explained] == [r.__name__ for r in RULES]
    assert all(len(text) > 40 for _, text in explained)
    a = assess(inputs("Athens Cyber Ltd", "GR", "industry", owners=(INTELLEXA,)))
    assert {r.rule for r in a.reasons} <= {r.__name__ for r in RULES} | {"assess"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "cert"}, "kind 'cert' must be one of government, industry, isac, ngo, academia"),
        ({"government_share": 1.5}, "government_share must be between 0 and 1"),
        ({"government_share": float("nan")}, "government_share must be between 0 and 1"),
        ({"screening": "maybe"}, "'maybe' is not a screening outcome (clear, unknown, review, match)"),
    ],
)
def test_bad_inputs_are_refused(change: dict[str, Any], message: str) -> None:
    fields: dict[str, Any] = {
        "partner": "x",
        "country": PROFILES.get("IL"),
        "kind": "industry",
        "screening": "clear",
        "assessed_on": TODAY,
    }
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        VettingInputs(**(fields | change))
    with pytest.raises(InvalidRequest, match="share of owner 'o' must be between 0 and 1"):
        OwnerScreening("o", ScreeningOutcome.CLEAR, share=-0.1)


def test_plain_strings_are_accepted_as_outcomes() -> None:
    given = VettingInputs("x", None, "ngo", "unknown", TODAY, owners=(OwnerScreening("o", "match"),))  # type: ignore[arg-type]
    assert given.screening is ScreeningOutcome.UNKNOWN and given.owners[0].outcome is ScreeningOutcome.MATCH


def test_the_misuse_window_is_five_years_to_the_day() -> None:
    def tier(found: date) -> TrustTier | None:
        finding = MisuseFinding(found, "case")
        return assess(inputs("p", "NO", "government", misuse_findings=(finding,))).proposed_tier

    assert tier(date(2020, 6, 1)) is None
    assert tier(date(2020, 5, 31)) == TrustTier.CLOSEST
    leap = VettingInputs("p", None, "ngo", ScreeningOutcome.CLEAR, date(2024, 2, 29))
    assert assess(
        dataclasses.replace(leap, misuse_findings=(MisuseFinding(date(2019, 2, 28), "c"),))
    ).needs_review


# --- properties ---------------------------------------------------------------------------------

COUNTRIES = [None, *PROFILES]
outcomes = st.sampled_from(list(ScreeningOutcome))
owners = st.builds(
    OwnerScreening,
    name=st.sampled_from(["Intellexa S.A.", "Holdings Limited", "Q Cyber Technologies Ltd"]),
    outcome=outcomes,
    share=st.none() | st.floats(0, 1),
)
findings = st.builds(
    MisuseFinding,
    found_on=st.dates(date(2010, 1, 1), date(2026, 1, 1)),
    summary=st.just("finding"),
    substantiated=st.booleans(),
)
vetting_inputs = st.builds(
    VettingInputs,
    partner=st.just("partner"),
    country=st.sampled_from(COUNTRIES),
    kind=st.sampled_from([k.value for k in StakeholderKind]),
    screening=outcomes,
    assessed_on=st.dates(date(2024, 1, 1), date(2027, 1, 1)),
    owners=st.lists(owners, max_size=3).map(tuple),
    government_share=st.floats(0, 1),
    agreements=st.lists(st.sampled_from(["A", "B"]), max_size=2, unique=True).map(tuple),
    misuse_findings=st.lists(findings, max_size=2).map(tuple),
)


def rank(a: Assessment) -> tuple[int, int]:
    """Lower is better: the tier (no tier worst), then the composite risk."""
    return (5 if a.proposed_tier is None else a.proposed_tier.value, RISK_ORDER.index(a.composite_risk))


@settings(max_examples=300, deadline=None)
@given(vetting_inputs, outcomes, outcomes)
def test_a_worse_screening_outcome_never_yields_a_better_tier(
    given: VettingInputs, a: ScreeningOutcome, b: ScreeningOutcome
) -> None:
    better, worse = sorted((a, b), key=SCREENING_SEVERITY.__getitem__)
    assert rank(assess(dataclasses.replace(given, screening=better))) <= rank(
        assess(dataclasses.replace(given, screening=worse))
    )
    owner = OwnerScreening("owner", better)
    with_better = dataclasses.replace(given, owners=(*given.owners, owner))
    with_worse = dataclasses.replace(given, owners=(*given.owners, dataclasses.replace(owner, outcome=worse)))
    assert rank(assess(with_better)) <= rank(assess(with_worse))


@settings(max_examples=300, deadline=None)
@given(vetting_inputs, st.booleans(), st.dates(date(2023, 1, 1), date(2026, 1, 1)))
def test_adding_a_positive_signal_never_worsens_the_tier(
    given: VettingInputs, budapest: bool, day: date
) -> None:
    profile = given.country
    if profile is None:
        return
    improved: CountryProfile
    if budapest:
        improved = dataclasses.replace(profile, budapest_party=True)
    else:
        joined = profile.joint_statement_joined or day
        improved = dataclasses.replace(profile, joint_statement_joined=joined)
    assert rank(assess(dataclasses.replace(given, country=improved))) <= rank(assess(given))


@settings(max_examples=300, deadline=None)
@given(vetting_inputs)
def test_invariants(given: VettingInputs) -> None:
    a = assess(given)
    if a.blocking:
        assert a.proposed_tier is None and a.composite_risk == CompositeRisk.PROHIBITED
    if a.composite_risk == CompositeRisk.PROHIBITED:
        assert a.blocking
    if a.proposed_tier is None:
        assert a.blocking or a.needs_review
    if a.needs_review:
        assert a.proposed_tier is None or a.proposed_tier >= TrustTier.LIMITED
        assert a.composite_risk != CompositeRisk.LOW
    everyone = [given.screening, *(o.outcome for o in given.owners)]
    if ScreeningOutcome.UNKNOWN in everyone or ScreeningOutcome.REVIEW in everyone:
        assert a.needs_review  # never counted as clear
    if ScreeningOutcome.MATCH in everyone:
        assert a.blocking
    assert all(0 <= d.score <= 100 and d.reasons for d in a.dimensions.values())
    assert [r.code for r in a.reasons].count("TIER") == 1
    assert all(r.text for r in a.reasons)
