"""The terms of a licence: its kind (marketing or export, reference A.5 "two-licence model") and its typed,
checkable conditions (reference/export_control.md 2.3 "Condition"), with the conditions every licence of a
tier carries whatever the officers add (`mandatory_conditions`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing.catalog import GesherTier
from gesher.licensing.config import DEFAULT_CONFIG, LicensingConfig


class LicenceKind(StrEnum):
    """A marketing licence (DECL 14: no marketing activity without one) is a precondition of an export
    licence for supervised items."""

    MARKETING = "marketing"
    EXPORT = "export"


class TargetClass(StrEnum):
    """Who a misuse targets (reference 2.5 allegation types); licences prohibit some of them (2.3)."""

    JOURNALISTS = "journalists"
    HUMAN_RIGHTS_DEFENDERS = "human-rights-defenders"
    POLITICAL_OPPOSITION = "political-opposition"
    FOREIGN_OFFICIALS = "foreign-officials"
    OWN_NATIONALS = "own-nationals"


@dataclass(frozen=True)
class EndUseLimit:
    """End use limited to investigating and preventing terrorism and serious crime, an offence punishable by
    at least `min_sentence_years` of imprisonment (the 2021 End-User Declaration, reference A.5)."""

    min_sentence_years: int = 6

    @property
    def text(self) -> str:
        years = self.min_sentence_years
        return f"end use limited to terrorism and serious crime (punishable by >= {years} years)"


@dataclass(frozen=True)
class NoReexport:
    """No re-export or retransfer without the licensing authority's written consent."""

    @property
    def text(self) -> str:
        return "no re-export or retransfer without consent"


@dataclass(frozen=True)
class GovernmentEndUserOnly:
    """Only a government end user (>= 25 % government owned or controlled, EAR definition) may use it."""

    @property
    def text(self) -> str:
        return "government end user only"


@dataclass(frozen=True)
class GovernmentToGovernmentOnly:
    """Sold only government-to-government (the industry proposal for the most aggressive tools, A.5)."""

    @property
    def text(self) -> str:
        return "government-to-government only"


@dataclass(frozen=True)
class ReportingDuty:
    """A usage report every `every_days` days from the start of validity; a report up to `grace_days` late
    still counts. A missed report raises a compliance flag (reference 2.5 PostExportReport)."""

    every_days: int
    grace_days: int = 0

    def __post_init__(self) -> None:
        if self.every_days < 1 or not 0 <= self.grace_days < self.every_days:
            raise InvalidRequest("reporting: every_days >= 1 and 0 <= grace_days < every_days")

    @property
    def text(self) -> str:
        grace = f" ({self.grace_days} days' grace)" if self.grace_days else ""
        return f"usage report every {self.every_days} days{grace}"


@dataclass(frozen=True)
class ProhibitedTargets:
    """It must never be used against these classes of people."""

    classes: frozenset[TargetClass]

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", frozenset(TargetClass(c) for c in self.classes))
        if not self.classes:
            raise InvalidRequest("a target prohibition names at least one class")

    @property
    def text(self) -> str:
        return "never against " + ", ".join(sorted(c.value for c in self.classes))


Condition = (
    EndUseLimit
    | NoReexport
    | GovernmentEndUserOnly
    | GovernmentToGovernmentOnly
    | ReportingDuty
    | ProhibitedTargets
)

# reference 2.3: "prohibited target classes (journalists, HRDs, political opposition)".
PROTECTED_TARGETS: Final = frozenset(
    {TargetClass.JOURNALISTS, TargetClass.HUMAN_RIGHTS_DEFENDERS, TargetClass.POLITICAL_OPPOSITION}
)


def mandatory_conditions(
    tier: GesherTier, kind: LicenceKind, config: LicensingConfig = DEFAULT_CONFIG
) -> tuple[Condition, ...]:
    """Every export licence for an OFFENSIVE item carries the End-User Declaration's terms: end use limited
    to terrorism and serious crime, no re-export, government end users only, no use against journalists,
    human-rights defenders or the political opposition, and periodic reporting (and government-to-government
    only, if the operator says so). A DUAL_USE export licence carries no re-export and periodic reporting.
    Marketing licences and lower tiers carry none by default."""
    if kind != LicenceKind.EXPORT or tier.rank < GesherTier.DUAL_USE.rank:
        return ()
    reporting = ReportingDuty(config.reporting_days[tier])
    if tier == GesherTier.DUAL_USE:
        return (NoReexport(), reporting)
    offensive: tuple[Condition, ...] = (
        EndUseLimit(),
        NoReexport(),
        GovernmentEndUserOnly(),
        ProhibitedTargets(PROTECTED_TARGETS),
        reporting,
    )
    return (*offensive, GovernmentToGovernmentOnly()) if config.g2g_only_offensive else offensive


def merged(*groups: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """The conditions of several sources, each once, in first-seen order."""
    return tuple(dict.fromkeys(c for group in groups for c in group))
