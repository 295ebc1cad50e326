"""The sharing policy as data: rules that map partner tiers and kinds to what they may receive, partner
groups, agreements and sanitisation profiles. Loaded from a policy file (policy_file.py); decided in
decide.py."""

from __future__ import annotations

from dataclasses import dataclass, field

from gesher.policy.entitlement import Agreement, TrustTier
from gesher.policy.sanitise import Profile
from gesher.stix.gesher_marking import Tier
from gesher.stix.markings import Tlp

# A rule may grant at most AMBER: AMBER+STRICT and RED go only to recipients an object names (TLP 2.0).
MAX_RULE_TLP = Tlp.AMBER


@dataclass(frozen=True)
class Rule:
    """Partners matching every selector given (absent selectors match all) may receive objects up to
    `max_tlp` and `max_tier`. A rule that selects partners by name or group expresses need-to-know, which
    TLP:AMBER requires; a rule selecting only by tier, kind, sector or country grants at most GREEN."""

    name: str
    max_tlp: Tlp
    max_tier: Tier
    trust_tiers: frozenset[TrustTier] | None = None
    kinds: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    sectors: frozenset[str] | None = None
    partners: frozenset[str] | None = None
    groups: frozenset[str] | None = None
    profile: str | None = None
    line: int = 0

    @property
    def need_to_know(self) -> bool:
        return self.partners is not None or self.groups is not None


@dataclass(frozen=True)
class Policy:
    """A loaded, validated policy. `version` is the operator's number; `digest` identifies the exact text."""

    version: int
    rules: tuple[Rule, ...] = ()
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # group name -> partner names
    agreements: tuple[Agreement, ...] = ()
    profiles: dict[str, Profile] = field(default_factory=dict)
    default_profile: str | None = None
    default_tlp: Tlp = Tlp.AMBER
    default_tier: Tier = Tier.DEFENSIVE
    digest: str = ""

    def groups_of(self, partner: str) -> frozenset[str]:
        return frozenset(g for g, members in self.groups.items() if partner in members)


DENY_ALL = Policy(version=0)
"""The policy in force before an operator loads one: default deny (only TLP:CLEAR public material)."""
