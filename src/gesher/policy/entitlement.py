"""What a partner is entitled to, as the policy sees it: trust tier, country, kind, sectors, groups and the
agreements it holds. Built from the partner registry and the policy file; pure data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from gesher.stix.gesher_marking import Tier
from gesher.stix.markings import Tlp


class TrustTier(IntEnum):
    """Partner trust tiers: 1 is the closest allies, 4 restricted. Suspension is separate (it overrides)."""

    CLOSEST = 1
    TRUSTED = 2
    LIMITED = 3
    RESTRICTED = 4


@dataclass(frozen=True)
class Agreement:
    """A sharing agreement between the exchange and named partners: while in force it grants up to
    `max_tlp` and `max_tier` (need-to-know included); once expired it grants nothing."""

    name: str
    partners: frozenset[str]
    max_tlp: Tlp
    max_tier: Tier
    expires_at: int | None  # microseconds since the epoch; None: no expiry
    profile: str | None = None
    line: int = 0  # where the policy file declares it (for explanations)

    def in_force(self, now: int) -> bool:
        return self.expires_at is None or now < self.expires_at


@dataclass(frozen=True)
class Entitlement:
    """One partner's standing. `trust_tier` None means not yet vetted: such a partner is outside the vetted
    community and receives only TLP:CLEAR public material."""

    partner: str
    country: str
    kind: str
    trust_tier: TrustTier | None
    suspended: bool = False
    sectors: frozenset[str] = frozenset()
