"""The licence recommendation (reference/export_control.md 2.2 "Rules (first cut)" and 2.3): from plain facts
about an application (the item's classification, its project's gates, the destination countries, the
parties' screening outcomes, the marketing licence, the declaration) to DENY, PRESUME_DENIAL, REFER or
APPROVE, with a reason from every rule that applies. Pure: the caller gathers the facts and says which day
it is.

The verdict is the worst any rule gives. A rule that cannot establish a fact refers the application to an
officer: requires verification never means yes (2.3). A recommendation never decides: a person does
(applications.approve / deny); only a hard denial is final without one."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing.catalog import Classification, GesherTier
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.config import DEFAULT_CONFIG, LicensingConfig
from gesher.licensing.gates import Project, Stage, may_apply
from gesher.vetting.countries import ExportTier
from gesher.vetting.model import ScreeningOutcome, years_before


class Verdict(StrEnum):
    """Best first; `rank` orders them (the recommendation is the highest rank any rule gives)."""

    APPROVE = "approve"
    REFER = "refer"  # an officer must look: something needs verification
    PRESUME_DENIAL = "presume-denial"  # denied unless a senior officer overrides, in writing
    DENY = "deny"  # hard denial: no one overrides it

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    verdict: Verdict
    rule: str = ""  # the rule that gave it (see `rule_explanations`)


@dataclass(frozen=True)
class Recommendation:
    verdict: Verdict
    reasons: tuple[Reason, ...]

    def codes(self, verdict: Verdict | None = None) -> frozenset[str]:
        return frozenset(r.code for r in self.reasons if verdict is None or r.verdict == verdict)


@dataclass(frozen=True)
class CountryFacts:
    """A destination as vetting sees it. `export_tier` None: on none of the operator's lists."""

    code: str
    export_tier: ExportTier | None
    name: str = ""
    downgraded_after_misuse: bool = False
    risk_signals: tuple[str, ...] = ()  # soft risk signals from vetting (WGI, Freedom House, hosted misuse)

    @property
    def label(self) -> str:
        return self.name or self.code


@dataclass(frozen=True)
class PartyFacts:
    """The end user or an intermediary: its screening outcome, whether it is a government end user (None:
    not established) and the dates misuse by it was substantiated."""

    name: str
    screening: ScreeningOutcome
    role: str = "end user"
    government: bool | None = None
    misuse_substantiated_on: tuple[date, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "screening", ScreeningOutcome(self.screening))


@dataclass(frozen=True)
class MarketingLicenceFacts:
    reference: str
    in_force: bool
    covers_item: bool
    covers_country: bool


@dataclass(frozen=True)
class MisuseRecord:
    """A misuse report actioned on a substantiated finding, as later applications meet it: the day it was
    substantiated, its allegation, and whom and where it involved: `parties` (the end user it names and the
    end users of the export licences it names or denied), `countries` (its country, those licences'
    destinations and any country it lowered) and `vendors` (the vendors of the licences it names)."""

    report: str
    substantiated_on: date
    summary: str
    parties: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecommendationInputs:
    kind: LicenceKind
    classification: Classification
    countries: tuple[CountryFacts, ...]  # marketing: the target countries; export: the destination
    today: date
    project: Project | None = None
    end_user: PartyFacts | None = None  # export only
    intermediaries: tuple[PartyFacts, ...] = ()
    marketing_licence: MarketingLicenceFacts | None = None
    declaration_signed: bool = False
    knows_unauthorised_use: bool = False  # the exporter knows or has reason to know (EAR catch-all)
    vendor: str = ""  # the applicant's organisation (misuse reports involving it are a reason)
    misuse_reports: tuple[MisuseRecord, ...] = ()  # every substantiated, actioned report (the rule matches)
    config: LicensingConfig = DEFAULT_CONFIG

    def __post_init__(self) -> None:
        if not self.countries:
            raise InvalidRequest("a recommendation needs at least one country")
        if self.kind == LicenceKind.EXPORT and (self.end_user is None or len(self.countries) != 1):
            raise InvalidRequest("an export recommendation needs one destination and an end user")

    @property
    def tier(self) -> GesherTier:
        return self.classification.tier

    @property
    def supervised(self) -> bool:
        return self.config.supervised(self.tier)


Rule = Callable[[RecommendationInputs], tuple[Reason, ...]]


def recommend(inputs: RecommendationInputs) -> Recommendation:
    """Every rule applied; the verdict is the worst of their reasons (APPROVE when none objects)."""
    reasons = [dataclasses.replace(r, rule=rule.__name__) for rule in RULES for r in rule(inputs)]
    verdict = max((r.verdict for r in reasons), key=lambda v: v.rank, default=Verdict.APPROVE)
    if verdict == Verdict.APPROVE:
        reasons.append(
            Reason("ALL_RULES_PASS", "no rule objects: an officer may approve", verdict, "recommend")
        )
    return Recommendation(verdict, tuple(reasons))


# --- rules -------------------------------------------------------------------------------------------------


def embargo(i: RecommendationInputs) -> tuple[Reason, ...]:
    """No item of any tier goes to an embargoed country: a hard denial."""
    embargoed = [c.label for c in i.countries if c.export_tier == ExportTier.EMBARGOED]
    if embargoed:
        return (_deny("EMBARGOED", f"embargoed destination: {', '.join(embargoed)}"),)
    return (_pass("NOT_EMBARGOED", "no destination is embargoed"),)


def listed_parties(i: RecommendationInputs) -> tuple[Reason, ...]:
    """An end user or intermediary confirmed on a blocking list is a hard denial. A potential match, or a
    screening that cannot prove absence (a confidential list is in force), refers the application to an
    officer: it is never clear. Only `clear` passes."""
    return tuple(_screened(p) for p in _parties(i))


def offensive_destination(i: RecommendationInputs) -> tuple[Reason, ...]:
    """OFFENSIVE items go to tier-A countries only (the national cyber-export list): any other destination,
    or one on no list, is a hard denial."""
    if i.tier != GesherTier.OFFENSIVE:
        return ()
    outside = [c.label for c in i.countries if c.export_tier != ExportTier.A]
    if outside:
        return (
            _deny(
                "OFFENSIVE_NOT_TIER_A", f"offensive item to a country outside tier A: {', '.join(outside)}"
            ),
        )
    return (_pass("TIER_A", "every destination is a tier-A country"),)


def dual_use_destination(i: RecommendationInputs) -> tuple[Reason, ...]:
    """DUAL_USE items to a tier-C country, or one on no list, need human-rights due diligence: an officer
    decides."""
    if i.tier != GesherTier.DUAL_USE:
        return ()
    weak = [
        c.label
        for c in i.countries
        if c.export_tier not in (ExportTier.A, ExportTier.B, ExportTier.EMBARGOED)
    ]
    if weak:
        text = f"dual-use item to a country outside tiers A and B ({', '.join(weak)}): officer due diligence"
        return (_refer("DUAL_USE_WEAK_TIER", text),)
    return ()


def offensive_end_user(i: RecommendationInputs) -> tuple[Reason, ...]:
    """OFFENSIVE items are exported to government end users only: a non-government end user is a hard
    denial, and one whose status is not established is referred to an officer."""
    if i.tier != GesherTier.OFFENSIVE or i.end_user is None:
        return ()
    user = i.end_user
    if user.government is None:
        return (
            _refer("GOVERNMENT_UNKNOWN", f"whether {user.name} is a government end user is not established"),
        )
    if not user.government:
        return (_deny("NOT_GOVERNMENT", f"offensive item to {user.name}, not a government end user"),)
    return (_pass("GOVERNMENT_END_USER", f"{user.name} is a government end user"),)


def misuse_history(i: RecommendationInputs) -> tuple[Reason, ...]:
    """Misuse by a party substantiated within the look-back period (LicensingConfig.misuse_lookback_years),
    or a destination downgraded after a misuse finding, presumes denial: only a senior officer can override
    it, with a written reason. Older findings are recorded."""
    since = years_before(i.today, i.config.misuse_lookback_years)
    reasons = [_misuse(p, day, since) for p in _parties(i) for day in p.misuse_substantiated_on]
    for c in i.countries:
        if c.downgraded_after_misuse:
            text = f"{c.label} was downgraded after a misuse finding"
            reasons.append(Reason("COUNTRY_DOWNGRADED", text, Verdict.PRESUME_DENIAL))
    return tuple(reasons)


def misuse_reports(i: RecommendationInputs) -> tuple[Reason, ...]:
    """A misuse report actioned on a substantiated finding within the look-back period weighs on every later
    application involving the same people or places: naming its end user or an intermediary presumes denial
    (only a senior officer overrides it, in writing); a destination where it took place, or the same vendor
    (its licences were misused), refers the application to an officer. The report and its allegation are
    quoted. Older reports are recorded."""
    since = years_before(i.today, i.config.misuse_lookback_years)
    return tuple(_reported(record, code, who, verdict, since) for record in i.misuse_reports
                 for code, who, verdict in _involvement(i, record))  # fmt: skip


def country_risk_signals(i: RecommendationInputs) -> tuple[Reason, ...]:
    """A soft risk signal about a destination (weak rule of law or voice and accountability, Freedom House
    "Not Free", hosted spyware misuse) refers a DUAL_USE or OFFENSIVE application to an officer; for lower
    tiers it is recorded."""
    verdict = Verdict.REFER if i.tier.rank >= GesherTier.DUAL_USE.rank else Verdict.APPROVE
    return tuple(
        Reason("RISK_SIGNAL", f"{c.label}: {s}", verdict) for c in i.countries for s in c.risk_signals
    )


def supervision(i: RecommendationInputs) -> tuple[Reason, ...]:
    """A supervised item (OFFENSIVE, or DUAL_USE when the operator says so) needs a project that stands at
    the right gate: a marketing licence from TESTING on (every gate through TESTING passed), an export
    licence from MARKETING on (every gate through MARKETING passed). Otherwise: a hard denial."""
    if not i.supervised:
        return ()
    gate = Stage.MARKETING if i.kind == LicenceKind.MARKETING else Stage.EXPORT
    if i.project is None:
        return (
            _deny("NO_PROJECT", f"a {i.tier.value} item needs a supervised project from the concept stage"),
        )
    if not may_apply(i.project, gate):
        text = f"project {i.project.id} is {i.project.state}: it has not passed the gates before {gate.value}"
        return (_deny("GATES_NOT_PASSED", text),)
    return (_pass("GATES_PASSED", f"project {i.project.id} has passed every gate before {gate.value}"),)


def marketing_licence(i: RecommendationInputs) -> tuple[Reason, ...]:
    """An export licence for a supervised item needs a marketing licence in force that covers the item and
    the destination (DECL 14: the marketing licence is a precondition). Without one: a hard denial."""
    if i.kind != LicenceKind.EXPORT or not i.supervised:
        return ()
    ml = i.marketing_licence
    if ml is None:
        return (
            _deny("NO_MARKETING_LICENCE", "no marketing licence: it is a precondition of an export licence"),
        )
    problems = [
        text
        for ok, text in (
            (ml.in_force, "is not in force"),
            (ml.covers_item, "does not cover the item"),
            (ml.covers_country, f"does not cover {i.countries[0].label}"),
        )
        if not ok
    ]
    if problems:
        return (
            _deny("MARKETING_LICENCE_INVALID", f"marketing licence {ml.reference} {'; '.join(problems)}"),
        )
    return (_pass("MARKETING_LICENCE", f"marketing licence {ml.reference} is in force and covers it"),)


def end_user_declaration(i: RecommendationInputs) -> tuple[Reason, ...]:
    """Every export licence needs the end user's signed End-User Declaration (required for any cyber or
    intelligence system since December 2021): without it, a hard denial."""
    if i.kind != LicenceKind.EXPORT:
        return ()
    if not i.declaration_signed:
        return (_deny("NO_DECLARATION", "the end-user declaration is not signed"),)
    return (_pass("DECLARATION_SIGNED", "the end-user declaration is signed"),)


def unauthorised_use(i: RecommendationInputs) -> tuple[Reason, ...]:
    """If the exporter knows, or has reason to know, that the item will be used to access or affect
    information systems without authorisation, it is a hard denial (the EAR end-use catch-all)."""
    if not i.knows_unauthorised_use:
        return ()
    return (
        _deny("UNAUTHORISED_USE", "there is reason to know of use against systems without authorisation"),
    )


RULES: Final[tuple[Rule, ...]] = (
    embargo,
    listed_parties,
    offensive_destination,
    dual_use_destination,
    offensive_end_user,
    misuse_history,
    misuse_reports,
    country_risk_signals,
    supervision,
    marketing_licence,
    end_user_declaration,
    unauthorised_use,
)


def rule_explanations() -> list[tuple[str, str]]:
    """(rule name, what it says) for every recommendation rule, in the order they are applied."""
    return [(rule.__name__, inspect.getdoc(rule) or "") for rule in RULES]


# --- helpers -----------------------------------------------------------------------------------------------


def _parties(i: RecommendationInputs) -> tuple[PartyFacts, ...]:
    return ((i.end_user,) if i.end_user else ()) + i.intermediaries


def _screened(party: PartyFacts) -> Reason:
    who = f"{party.role} {party.name}"
    match party.screening:
        case ScreeningOutcome.MATCH:
            return _deny("LISTED_PARTY", f"{who} is a confirmed match on a blocking list")
        case ScreeningOutcome.REVIEW:
            return _refer("SCREENING_REVIEW", f"{who} is a potential match: an officer resolves it")
        case ScreeningOutcome.UNKNOWN:
            return _refer(
                "SCREENING_UNKNOWN", f"{who} cannot be shown clear: a confidential list is in force"
            )
    return _pass("SCREENING_CLEAR", f"{who} is clear on every list screened")


def _misuse(party: PartyFacts, day: date, since: date) -> Reason:
    if day < since:
        return _pass(
            "MISUSE_OLD", f"misuse by {party.name} substantiated on {day.isoformat()}, before {since}"
        )
    text = f"misuse by {party.name} substantiated on {day.isoformat()}: denial is presumed"
    return Reason("MISUSE_SUBSTANTIATED", text, Verdict.PRESUME_DENIAL)


def _involvement(i: RecommendationInputs, m: MisuseRecord) -> list[tuple[str, str, Verdict]]:
    """(code, who or where, verdict) for each way the report involves this application."""
    found = [
        ("MISUSE_REPORT_PARTY", f"{p.role} {p.name}", Verdict.PRESUME_DENIAL)
        for p in _parties(i)
        if any(_same(p.name, name) for name in m.parties)
    ]
    found += [
        ("MISUSE_REPORT_COUNTRY", f"destination {c.label}", Verdict.REFER)
        for c in i.countries
        if any(_same(c.code, code) for code in m.countries)
    ]
    if any(_same(i.vendor, v) for v in m.vendors):
        found.append(("MISUSE_REPORT_VENDOR", f"vendor {i.vendor}", Verdict.REFER))
    return found


def _reported(m: MisuseRecord, code: str, who: str, verdict: Verdict, since: date) -> Reason:
    day = m.substantiated_on.isoformat()
    if m.substantiated_on < since:
        text = f"misuse report {m.report} (substantiated {day}, before {since}) involved {who}"
        return _pass("MISUSE_REPORT_OLD", f"{text}: {m.summary}")
    then = "denial is presumed" if verdict == Verdict.PRESUME_DENIAL else "an officer reviews it"
    text = f"misuse report {m.report} (substantiated {day}) involved {who}: {m.summary}; {then}"
    return Reason(code, text, verdict)


def _same(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def _deny(code: str, text: str) -> Reason:
    return Reason(code, text, Verdict.DENY)


def _refer(code: str, text: str) -> Reason:
    return Reason(code, text, Verdict.REFER)


def _pass(code: str, text: str) -> Reason:
    return Reason(code, text, Verdict.APPROVE)
