"""The partner vetting assessment (reference/export_control.md 2.2): from the partner's country profile,
kind, ownership, screening outcomes, agreements and misuse history to a composite risk and a proposed trust
tier, with every step's reasons. Pure: no I/O and no clock (the caller says on which day it assesses).

How the proposed tier is reached (each rule below is a small function; its docstring is what a user reads):
1. hard denials block: a screening match on the partner or on any owner, an embargoed country. The risk is
   PROHIBITED and there is no tier;
2. a substantiated misuse finding within MISUSE_LOOKBACK_YEARS presumes denial: no tier until a senior
   officer decides (and writes down why);
3. otherwise the country's cyber-export tier sets the best tier allowed (A: 1, B: 2, C: 3, on no list: 4);
   each soft risk signal that no positive signal offsets lowers it one step; caps apply last (a review or
   unknown screening outcome: at best 3 until an officer decides; no country profile: 4).

Screening outcomes are plain values here: the screening service decides them, this module only weighs them.
`unknown` (a confidential list is in force, so absence cannot be proven) never counts as clear."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from gesher.policy.entitlement import TrustTier
from gesher.policy.principal import StakeholderKind
from gesher.vetting.countries import BUDAPEST, TIERS, CountryProfile, ExportTier
from gesher.vetting.dimensions import DIMENSIONS
from gesher.vetting.model import (
    BEST_TIER_FOR_EXPORT_TIER,
    BEST_TIER_ON_NO_LIST,
    BEST_TIER_UNDER_REVIEW,
    BEST_TIER_WITHOUT_PROFILE,
    GOVERNMENT_END_USER_SHARE,
    MISUSE_LOOKBACK_YEARS,
    WGI_RULE_OF_LAW_FLOOR,
    WGI_VOICE_ACCOUNTABILITY_FLOOR,
    Assessment,
    CompositeRisk,
    Effect,
    OwnerScreening,
    Reason,
    ScreeningOutcome,
    VettingInputs,
    years_before,
)


@dataclass(frozen=True)
class Finding:
    """What one rule concluded."""

    reasons: tuple[Reason, ...] = ()
    blocks: bool = False
    presumes_denial: bool = False
    review: bool = False
    best_tier: TrustTier = TrustTier.CLOSEST  # the best the country allows; soft signals lower it
    cap: TrustTier = TrustTier.CLOSEST  # a limit applied after the soft signals
    soft_signals: int = 0
    positive_signals: int = 0
    government_end_user: bool = False


Rule = Callable[[VettingInputs], Finding]


def assess(inputs: VettingInputs) -> Assessment:
    """The assessment of one partner: every rule applied, the tier combined from their findings."""
    findings = [_named(rule, rule(inputs)) for rule in RULES]
    blocking = any(f.blocks for f in findings)
    presumed = any(f.presumes_denial for f in findings)
    needs_review = presumed or any(f.review for f in findings)
    tier: TrustTier | None
    tier, how = _tier(findings)
    if blocking:
        tier, how = None, "no tier: a hard denial applies"
    elif presumed:
        tier, how = None, "no tier: denial is presumed until a senior officer decides otherwise"
    reasons = [r for f in findings for r in f.reasons]
    reasons.append(Reason("TIER", how, Effect.INFO, "assess"))
    return Assessment(
        dimensions={name: score(inputs) for name, score in DIMENSIONS.items()},
        composite_risk=_composite(blocking, presumed, needs_review, tier),
        proposed_tier=tier,
        reasons=tuple(reasons),
        blocking=blocking,
        needs_review=needs_review,
        government_end_user=any(f.government_end_user for f in findings),
    )


def _named(rule: Rule, finding: Finding) -> Finding:
    named = tuple(dataclasses.replace(r, rule=rule.__name__) for r in finding.reasons)
    return dataclasses.replace(finding, reasons=named)


def _tier(findings: list[Finding]) -> tuple[TrustTier, str]:
    best = max(f.best_tier for f in findings)
    soft = sum(f.soft_signals for f in findings)
    positive = sum(f.positive_signals for f in findings)
    steps = max(0, soft - positive)
    cap = max(f.cap for f in findings)
    tier = TrustTier(min(TrustTier.RESTRICTED, max(best + steps, cap)))
    how = (
        f"proposed tier {tier.value}: the country allows at best {best.value}; "
        f"{soft} soft risk signal(s), {positive} positive signal(s): lowered {steps} step(s)"
    )
    if cap > best + steps:
        how += f"; capped at {cap.value} (see the reasons marked cap or review)"
    return tier, how


def _composite(blocking: bool, presumed: bool, review: bool, tier: TrustTier | None) -> CompositeRisk:
    """PROHIBITED when a hard denial applies; HIGH when denial is presumed or the tier is 4; MEDIUM when an
    officer must review or the tier is 3; LOW otherwise (tier 1 or 2, nothing to review)."""
    if blocking:
        return CompositeRisk.PROHIBITED
    if presumed or tier is None or tier == TrustTier.RESTRICTED:
        return CompositeRisk.HIGH
    if review or tier == TrustTier.LIMITED:
        return CompositeRisk.MEDIUM
    return CompositeRisk.LOW


# --- rules -------------------------------------------------------------------------------------------------


def partner_screening(i: VettingInputs) -> Finding:
    """A screening match on the partner itself is a hard denial: the risk is PROHIBITED and there is no tier.
    A potential match (review) or an unprovable absence (unknown: a confidential list is in force) needs an
    officer's decision, and until then the partner gets no tier better than 3. Only `clear` is clear."""
    detail = f" ({i.screening_detail})" if i.screening_detail else ""
    match i.screening:
        case ScreeningOutcome.MATCH:
            text = f"{i.partner} is a confirmed match on a blocking list{detail}"
            return Finding((Reason("SCREENING_MATCH", text, Effect.BLOCK),), blocks=True)
        case ScreeningOutcome.REVIEW:
            text = f"{i.partner} is a potential match on a list{detail}: an officer decides"
            return _review(Reason("SCREENING_REVIEW", text, Effect.REVIEW))
        case ScreeningOutcome.UNKNOWN:
            text = (
                f"{i.partner} cannot be shown clear: a confidential list is in force{detail}; "
                "absence is not clearance, an officer decides"
            )
            return _review(Reason("SCREENING_UNKNOWN", text, Effect.REVIEW))
    text = f"{i.partner} itself is clear on every list screened"
    return Finding((Reason("SCREENING_CLEAR", text, Effect.INFO),))


def owner_screening(i: VettingInputs) -> Finding:
    """A partner owned, directly or through others, by a listed entity inherits the hit: a match on any owner
    is a hard denial naming that owner. A review or unknown outcome on an owner needs an officer's decision
    and caps the tier at 3, as it would for the partner itself."""
    reasons: list[Reason] = []
    for owner in i.owners:
        held = _held(owner)
        detail = f" ({owner.detail})" if owner.detail else ""
        if owner.outcome == ScreeningOutcome.MATCH:
            text = (
                f"{i.partner} is owned by {owner.name}{held}, a confirmed match{detail}: it inherits the hit"
            )
            reasons.append(Reason("OWNER_MATCH", text, Effect.BLOCK))
        elif owner.outcome == ScreeningOutcome.REVIEW:
            text = f"owner {owner.name}{held} is a potential match{detail}: an officer decides"
            reasons.append(Reason("OWNER_REVIEW", text, Effect.REVIEW))
        elif owner.outcome == ScreeningOutcome.UNKNOWN:
            text = f"owner {owner.name}{held} cannot be shown clear: a confidential list is in force{detail}"
            reasons.append(Reason("OWNER_UNKNOWN", text, Effect.REVIEW))
    blocks = any(r.effect == Effect.BLOCK for r in reasons)
    review = any(r.effect == Effect.REVIEW for r in reasons)
    if i.owners and not reasons:
        reasons.append(Reason("OWNERS_CLEAR", f"all {len(i.owners)} owner(s) screened clear", Effect.INFO))
    cap = BEST_TIER_UNDER_REVIEW if review else TrustTier.CLOSEST
    return Finding(tuple(reasons), blocks=blocks, review=review, cap=cap)


def embargo(i: VettingInputs) -> Finding:
    """A partner in an embargoed country (EMBARGOED on the operator's cyber-export list) is a hard denial."""
    if i.country is None or i.country.cyber_export_tier != ExportTier.EMBARGOED:
        return Finding()
    text = f"{i.country.name} is EMBARGOED on the cyber-export country list ({_as_of(i.country, TIERS)})"
    return Finding((Reason("EMBARGOED", text, Effect.BLOCK),), blocks=True)


def export_tier(i: VettingInputs) -> Finding:
    """The country's cyber-export tier sets the best trust tier a partner there can hold: A allows tier 1,
    B tier 2, C tier 3, and a country on no list tier 4. A partner without a country profile gets at best
    tier 4 and an officer's review."""
    if i.country is None:
        text = "no country profile for the partner's country: at best tier 4, an officer reviews"
        reason = Reason("NO_COUNTRY_PROFILE", text, Effect.REVIEW)
        return Finding((reason,), review=True, best_tier=BEST_TIER_WITHOUT_PROFILE)
    tier = i.country.cyber_export_tier
    if tier == ExportTier.EMBARGOED:
        return Finding()  # `embargo` denies
    best = BEST_TIER_ON_NO_LIST if tier is None else BEST_TIER_FOR_EXPORT_TIER[tier]
    on = "on no cyber-export list" if tier is None else f"cyber-export tier {tier.value}"
    text = f"{i.country.name} is {on} ({_as_of(i.country, TIERS)}): at best tier {best.value}"
    return Finding((Reason("EXPORT_TIER", text, Effect.CAP),), best_tier=best)


def weak_rule_of_law(i: VettingInputs) -> Finding:
    """A WGI rule-of-law estimate below 0 is a soft risk signal: it lowers the tier one step unless a
    positive signal offsets it. WGI estimates are perception-based (about -2.5..2.5), never a hard rule."""
    wgi = i.country.wgi if i.country else None
    if wgi is None or wgi.rule_of_law is None:
        return _no_wgi(i, "rule of law")
    if wgi.rule_of_law >= WGI_RULE_OF_LAW_FLOOR:
        return Finding()
    text = (
        f"WGI {wgi.year} rule of law {wgi.rule_of_law:+.2f} for {_name(i)} is below "
        f"{WGI_RULE_OF_LAW_FLOOR:+.1f}: soft risk signal"
    )
    return Finding((Reason("WEAK_RULE_OF_LAW", text, Effect.LOWER),), soft_signals=1)


def weak_voice_accountability(i: VettingInputs) -> Finding:
    """A WGI voice-and-accountability estimate below -0.5 is a soft risk signal (human rights, press freedom):
    it lowers the tier one step unless a positive signal offsets it."""
    wgi = i.country.wgi if i.country else None
    if wgi is None or wgi.voice_accountability is None:
        return _no_wgi(i, "voice and accountability")
    if wgi.voice_accountability >= WGI_VOICE_ACCOUNTABILITY_FLOOR:
        return Finding()
    text = (
        f"WGI {wgi.year} voice and accountability {wgi.voice_accountability:+.2f} for {_name(i)} is below "
        f"{WGI_VOICE_ACCOUNTABILITY_FLOOR:+.1f}: soft risk signal"
    )
    return Finding((Reason("WEAK_VOICE_ACCOUNTABILITY", text, Effect.LOWER),), soft_signals=1)


def joint_statement(i: VettingInputs) -> Finding:
    """A country that signed the Joint Statement against the misuse of commercial spyware gives a positive
    signal: it offsets one soft risk signal (it never lifts a tier above what the export tier allows)."""
    if i.country is None or i.country.joint_statement_joined is None:
        return Finding()
    joined = i.country.joint_statement_joined.isoformat()
    text = f"{i.country.name} signed the Joint Statement on commercial spyware on {joined}: positive signal"
    return Finding((Reason("JOINT_STATEMENT", text, Effect.RAISE),), positive_signals=1)


def budapest_party(i: VettingInputs) -> Finding:
    """A party to the Budapest Convention on Cybercrime gives a positive signal: it offsets one soft risk
    signal (it never lifts a tier above what the export tier allows)."""
    if i.country is None or not i.country.budapest_party:
        return Finding()
    text = f"{i.country.name} is a party to the Budapest Convention ({_as_of(i.country, BUDAPEST)})"
    return Finding((Reason("BUDAPEST_PARTY", text + ": positive signal", Effect.RAISE),), positive_signals=1)


def misuse_history(i: VettingInputs) -> Finding:
    """Misuse by the partner substantiated within the last MISUSE_LOOKBACK_YEARS years presumes denial: no
    tier unless a senior officer overrides it with a written reason. An unsubstantiated allegation needs an
    officer's review (until then no tier better than 3); an older finding is recorded for information."""
    since = years_before(i.assessed_on, MISUSE_LOOKBACK_YEARS)
    reasons: list[Reason] = []
    for f in i.misuse_findings:
        when = f.found_on.isoformat()
        if f.found_on < since:
            text = f"misuse finding of {when} ({f.summary}) is older than {MISUSE_LOOKBACK_YEARS} years"
            reasons.append(Reason("MISUSE_OLD", text, Effect.INFO))
        elif f.substantiated:
            text = f"misuse substantiated on {when}: {f.summary}; denial is presumed"
            reasons.append(Reason("MISUSE_SUBSTANTIATED", text, Effect.PRESUME_DENIAL))
        else:
            text = f"misuse alleged on {when}, not substantiated: {f.summary}; an officer reviews"
            reasons.append(Reason("MISUSE_ALLEGED", text, Effect.REVIEW))
    presumed = any(r.effect == Effect.PRESUME_DENIAL for r in reasons)
    review = any(r.effect == Effect.REVIEW for r in reasons)
    cap = BEST_TIER_UNDER_REVIEW if review else TrustTier.CLOSEST
    return Finding(tuple(reasons), presumes_denial=presumed, review=review, cap=cap)


def government_end_user(i: VettingInputs) -> Finding:
    """A government partner, or one at least 25 % government owned, is a government end user (the EAR
    definition). Recorded for information: export licensing weighs it, vetting does not."""
    share = f"{i.government_share:.0%}"
    if i.kind == StakeholderKind.GOVERNMENT:
        text = f"{i.partner} is a government body: government end user"
    elif i.government_share >= GOVERNMENT_END_USER_SHARE:
        text = (
            f"{i.partner} is {share} government owned (at least 25 %): government end user (EAR definition)"
        )
    else:
        return Finding()
    return Finding((Reason("GOVERNMENT_END_USER", text, Effect.INFO),), government_end_user=True)


def agreements(i: VettingInputs) -> Finding:
    """The sharing agreements in force with the partner, recorded for information."""
    if not i.agreements:
        return Finding(
            (Reason("AGREEMENTS", f"no sharing agreement in force with {i.partner}", Effect.INFO),)
        )
    names = ", ".join(i.agreements)
    text = f"{len(i.agreements)} sharing agreement(s) in force: {names}"
    return Finding((Reason("AGREEMENTS", text, Effect.INFO),))


RULES: Final[tuple[Rule, ...]] = (
    partner_screening,
    owner_screening,
    embargo,
    export_tier,
    weak_rule_of_law,
    weak_voice_accountability,
    joint_statement,
    budapest_party,
    misuse_history,
    government_end_user,
    agreements,
)


def rule_explanations() -> list[tuple[str, str]]:
    """(rule name, what it says) for every rule, in the order they are applied."""
    return [(rule.__name__, inspect.getdoc(rule) or "") for rule in RULES]


# --- helpers -----------------------------------------------------------------------------------------------


def _review(reason: Reason) -> Finding:
    return Finding((reason,), review=True, cap=BEST_TIER_UNDER_REVIEW)


def _no_wgi(i: VettingInputs, what: str) -> Finding:
    if i.country is None:
        return Finding()
    text = f"no WGI {what} estimate for {i.country.name}: no signal either way"
    return Finding((Reason("NO_WGI", text, Effect.INFO),))


def _held(owner: OwnerScreening) -> str:
    parts = [f"{owner.share:.0%}"] if owner.share is not None else []
    if owner.via:
        parts.append(f"through {owner.via}")
    return f" ({', '.join(parts)})" if parts else ""


def _name(i: VettingInputs) -> str:
    return i.country.name if i.country else "the partner's country"


def _as_of(country: CountryProfile, source_name: str) -> str:
    source = country.source(source_name)
    return f"{source.name}, as of {source.as_of.isoformat()}"
