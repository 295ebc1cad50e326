"""The licensing policy's settings: the few choices the reference leaves to the operator, as one frozen value
passed in (never global). The service builds it from gesher's Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing.catalog import GesherTier
from gesher.vetting.model import MISUSE_LOOKBACK_YEARS

# Reporting cadence per tier when a licence carries a reporting duty; the reference ("periodic reporting
# (cadence)", 2.3) leaves the figure open: quarterly for offensive items, half-yearly for dual-use ones.
DEFAULT_REPORTING_DAYS: Final = {GesherTier.OFFENSIVE: 90, GesherTier.DUAL_USE: 180}


@dataclass(frozen=True)
class LicensingConfig:
    # reference 2.4 "Stage gates for offensive tools (T3, optionally T2)": DUAL_USE items follow the full
    # path (supervised project, marketing licence before export) only when the operator says so.
    supervise_dual_use: bool = False
    # reference 2.2 "end-user misuse substantiated within N years": the same N as partner vetting.
    misuse_lookback_years: int = MISUSE_LOOKBACK_YEARS
    # issue 5: "offensive items need two distinct approvers".
    offensive_approvers: int = 2
    # reference A.5: the industry proposal to sell the most aggressive products government-to-government only.
    g2g_only_offensive: bool = False
    reporting_days: dict[GesherTier, int] = field(default_factory=lambda: dict(DEFAULT_REPORTING_DAYS))

    def __post_init__(self) -> None:
        if self.misuse_lookback_years < 1 or self.offensive_approvers < 2:
            raise InvalidRequest("misuse look-back must be >= 1 year; offensive items need >= 2 approvers")
        if any(days < 1 for days in self.reporting_days.values()):
            raise InvalidRequest("a reporting cadence is at least one day")

    def supervised(self, tier: GesherTier) -> bool:
        """OFFENSIVE items always follow the full path: a supervised project from the concept stage, a
        marketing licence before any export licence. DUAL_USE items do when the operator says so."""
        return tier == GesherTier.OFFENSIVE or (tier == GesherTier.DUAL_USE and self.supervise_dual_use)

    def approvers_required(self, tier: GesherTier) -> int:
        """Offensive items need `offensive_approvers` distinct officers; every other item one."""
        return self.offensive_approvers if tier == GesherTier.OFFENSIVE else 1


DEFAULT_CONFIG: Final = LicensingConfig()
