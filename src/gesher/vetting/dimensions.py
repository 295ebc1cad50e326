"""The assessment's dimension scores (reference/export_control.md 2.2, `VettingAssessment`): each a risk
from 0 (none found) to 100 (highest), with its reasons. They describe the partner for the officer; the
proposed tier comes from the rules in assess.py, not from these numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from gesher.vetting.countries import ExportTier
from gesher.vetting.model import (
    MISUSE_LOOKBACK_YEARS,
    SCREENING_SEVERITY,
    DimensionScore,
    ScreeningOutcome,
    VettingInputs,
    years_before,
)

# WGI estimates run about -2.5..2.5 (WGI usage advisory, data/SOURCES.md).
_WGI_LOW, _WGI_HIGH = -2.5, 2.5
_UNKNOWN: Final = 50  # no data: the middle of the scale, neither reassuring nor alarming
_SCREENING_RISK: Final = {
    ScreeningOutcome.CLEAR: 0,
    ScreeningOutcome.UNKNOWN: 50,
    ScreeningOutcome.REVIEW: 70,
    ScreeningOutcome.MATCH: 100,
}
_EXPORT_TIER_RISK: Final = {ExportTier.A: 10, ExportTier.B: 30, ExportTier.C: 60, ExportTier.EMBARGOED: 100}
_NO_LIST_RISK: Final = 80
_AGREEMENT_RELIEF: Final = 10  # an agreement in force binds the partner to handling terms


def rule_of_law(i: VettingInputs) -> DimensionScore:
    """The WGI rule-of-law estimate of the partner's country, mapped from about 2.5..-2.5 onto 0..100."""
    wgi = i.country.wgi if i.country else None
    return _wgi_score("rule of law", wgi.rule_of_law if wgi else None, wgi.year if wgi else None)


def human_rights(i: VettingInputs) -> DimensionScore:
    """The WGI voice-and-accountability estimate of the partner's country (freedom of expression,
    association and the press), mapped from about 2.5..-2.5 onto 0..100."""
    wgi = i.country.wgi if i.country else None
    value = wgi.voice_accountability if wgi else None
    return _wgi_score("voice and accountability", value, wgi.year if wgi else None)


def responsible_cyber_behaviour(i: VettingInputs) -> DimensionScore:
    """Commitments of the partner's country: 50 without any, 25 less for the Joint Statement against the
    misuse of commercial spyware and 25 less for the Budapest Convention; 100 for an embargoed country."""
    c = i.country
    if c is None:
        return DimensionScore(_UNKNOWN, ("no country profile",))
    if c.cyber_export_tier == ExportTier.EMBARGOED:
        return DimensionScore(100, (f"{c.name} is embargoed",))
    score, reasons = 50, []
    if c.joint_statement_joined is not None:
        score -= 25
        reasons.append(f"Joint Statement signatory since {c.joint_statement_joined.isoformat()}")
    if c.budapest_party:
        score -= 25
        reasons.append("Budapest Convention party")
    return DimensionScore(score, tuple(reasons) or ("no commitment on record",))


def sanctions_exposure(i: VettingInputs) -> DimensionScore:
    """The worst screening outcome of the partner and its owners (clear 0, unknown 50, review 70, match 100);
    100 for an embargoed country."""
    worst, who = i.screening, i.partner
    for owner in i.owners:
        if SCREENING_SEVERITY[owner.outcome] > SCREENING_SEVERITY[worst]:
            worst, who = owner.outcome, f"owner {owner.name}"
    score = _SCREENING_RISK[worst]
    reasons = [f"worst screening outcome: {worst.value} ({who})"]
    if i.country is not None and i.country.cyber_export_tier == ExportTier.EMBARGOED:
        score = 100
        reasons.append(f"{i.country.name} is embargoed")
    return DimensionScore(score, tuple(reasons))


def misuse_history(i: VettingInputs) -> DimensionScore:
    """Misuse findings against the partner: 100 if one was substantiated within the lookback period, 50 if
    one was alleged in it, 30 if the only findings are older, 0 with none."""
    since = years_before(i.assessed_on, MISUSE_LOOKBACK_YEARS)
    recent = [f for f in i.misuse_findings if f.found_on >= since]
    if any(f.substantiated for f in recent):
        return DimensionScore(100, (f"misuse substantiated within {MISUSE_LOOKBACK_YEARS} years",))
    if recent:
        return DimensionScore(50, (f"misuse alleged within {MISUSE_LOOKBACK_YEARS} years",))
    if i.misuse_findings:
        return DimensionScore(30, (f"misuse findings older than {MISUSE_LOOKBACK_YEARS} years",))
    return DimensionScore(0, ("no misuse finding on record",))


def diversion_risk(i: VettingInputs) -> DimensionScore:
    """How far what the partner receives may travel: by the country's cyber-export tier (A 10, B 30, C 60,
    on no list 80, embargoed 100), 10 less when a sharing agreement binds the partner."""
    tier = i.country.cyber_export_tier if i.country else None
    score = _EXPORT_TIER_RISK[tier] if tier else _NO_LIST_RISK
    reasons = [f"cyber-export tier {tier.value}" if tier else "on no cyber-export list (or no profile)"]
    if i.agreements and score < 100:
        score = max(0, score - _AGREEMENT_RELIEF)
        reasons.append(f"bound by {len(i.agreements)} sharing agreement(s)")
    return DimensionScore(score, tuple(reasons))


def _wgi_score(what: str, value: float | None, year: int | None) -> DimensionScore:
    if value is None:
        return DimensionScore(_UNKNOWN, (f"no WGI {what} estimate",))
    share = (_WGI_HIGH - value) / (_WGI_HIGH - _WGI_LOW)
    score = round(100 * min(1.0, max(0.0, share)))
    return DimensionScore(score, (f"WGI {year} {what} {value:+.2f} (about -2.5..2.5)",))


DIMENSIONS: Final[dict[str, Callable[[VettingInputs], DimensionScore]]] = {
    "rule_of_law": rule_of_law,
    "human_rights": human_rights,
    "responsible_cyber_behaviour": responsible_cyber_behaviour,
    "sanctions_exposure": sanctions_exposure,
    "misuse_history": misuse_history,
    "diversion_risk": diversion_risk,
}
