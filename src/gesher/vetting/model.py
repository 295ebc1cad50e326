"""The vetting assessment's vocabulary: its inputs (screening outcomes, owners, misuse findings), its
output (dimension scores, composite risk, reasons) and the thresholds the rules use, each citing the
reference section it comes from (reference/export_control.md 2.2)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.policy.entitlement import TrustTier
from gesher.policy.principal import StakeholderKind
from gesher.vetting.countries import CountryProfile, ExportTier

# Thresholds, from reference/export_control.md 2.2 ("Soft risk signals": WGI RL < 0 or VA < -0.5).
WGI_RULE_OF_LAW_FLOOR: Final = 0.0
WGI_VOICE_ACCOUNTABILITY_FLOOR: Final = -0.5
# 2.2 Organisation.is_government_end_user: >= 25 % government ownership or board control (EAR definition).
GOVERNMENT_END_USER_SHARE: Final = 0.25
# 2.2 "Presumption of denial: end-user misuse substantiated within N years"; the reference leaves N open.
MISUSE_LOOKBACK_YEARS: Final = 5
# 2.2 cyber_export_tier -> the best trust tier it allows (TrustTier: 1 closest allies .. 4 restricted).
BEST_TIER_FOR_EXPORT_TIER: Final = {
    ExportTier.A: TrustTier.CLOSEST,
    ExportTier.B: TrustTier.TRUSTED,
    ExportTier.C: TrustTier.LIMITED,
}
BEST_TIER_ON_NO_LIST: Final = TrustTier.RESTRICTED
BEST_TIER_WITHOUT_PROFILE: Final = TrustTier.RESTRICTED
# Review outcomes: "no tier above 3 until an officer decides" (issue brief, from 2.2 ScreeningRun decisions).
BEST_TIER_UNDER_REVIEW: Final = TrustTier.LIMITED


class ScreeningOutcome(StrEnum):
    """A screening result for one name, as the screening service summarises it."""

    CLEAR = "clear"  # screened against every list in force, nothing found
    UNKNOWN = "unknown"  # a confidential list is in force: absence cannot be proven
    REVIEW = "review"  # a potential match an officer must decide
    MATCH = "match"  # a confirmed match on a blocking list


# Worst last: the order the properties "a worse outcome never yields a better tier" use.
SCREENING_SEVERITY: Final = {
    ScreeningOutcome.CLEAR: 0,
    ScreeningOutcome.UNKNOWN: 1,
    ScreeningOutcome.REVIEW: 2,
    ScreeningOutcome.MATCH: 3,
}


class Effect(StrEnum):
    BLOCK = "block"  # hard denial: no tier
    PRESUME_DENIAL = "presume-denial"  # no tier unless a senior officer overrides, in writing
    REVIEW = "review"  # an officer must decide
    CAP = "cap"  # limits the best tier
    LOWER = "lower"  # soft risk signal
    RAISE = "raise"  # positive signal
    INFO = "info"


class CompositeRisk(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    PROHIBITED = "PROHIBITED"


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    effect: Effect
    rule: str = ""  # the rule that gave it (see `rule_explanations`)


@dataclass(frozen=True)
class OwnerScreening:
    """An owner somewhere in the partner's ownership chain and its screening outcome."""

    name: str
    outcome: ScreeningOutcome
    share: float | None = None  # the share it holds (0..1), if known
    via: str = ""  # for an indirect owner: the entity through which it owns the partner
    detail: str = ""  # e.g. the list and the listed entity: "US Entity List 2023-07-18"

    def __post_init__(self) -> None:
        object.__setattr__(self, "outcome", checked_outcome(self.outcome, f"owner {self.name!r}"))
        if self.share is not None:
            share_in_range(self.share, f"share of owner {self.name!r}")


@dataclass(frozen=True)
class MisuseFinding:
    found_on: date
    summary: str
    substantiated: bool = True


@dataclass(frozen=True)
class VettingInputs:
    partner: str
    country: CountryProfile | None  # None: no profile for the partner's country
    kind: str  # a StakeholderKind value: government, industry, isac, ngo, academia
    screening: ScreeningOutcome  # of the partner itself
    assessed_on: date
    screening_detail: str = ""
    owners: tuple[OwnerScreening, ...] = ()
    government_share: float = 0.0  # 0..1
    agreements: tuple[str, ...] = ()  # names of the sharing agreements in force
    misuse_findings: tuple[MisuseFinding, ...] = ()

    def __post_init__(self) -> None:
        kinds = [k.value for k in StakeholderKind]
        if self.kind not in kinds:
            raise InvalidRequest(f"kind {self.kind[:30]!r} must be one of {', '.join(kinds)}")
        object.__setattr__(self, "screening", checked_outcome(self.screening, "the partner's screening"))
        share_in_range(self.government_share, "government_share")


@dataclass(frozen=True)
class DimensionScore:
    score: int  # risk: 0 none found .. 100 highest
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Assessment:
    dimensions: dict[str, DimensionScore]
    composite_risk: CompositeRisk
    proposed_tier: TrustTier | None  # None: do not vet, no access
    reasons: tuple[Reason, ...]
    blocking: bool
    needs_review: bool
    government_end_user: bool = False


def checked_outcome(value: object, what: str) -> ScreeningOutcome:
    try:
        return ScreeningOutcome(str(value))
    except ValueError:
        allowed = ", ".join(o.value for o in ScreeningOutcome)
        raise InvalidRequest(f"{what}: {str(value)[:30]!r} is not a screening outcome ({allowed})") from None


def share_in_range(value: float, what: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidRequest(f"{what} must be between 0 and 1, not {value!r}")


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
