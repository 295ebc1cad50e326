"""The authenticated caller, as the policy sees it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from gesher.policy.entitlement import Entitlement


class StakeholderKind(StrEnum):
    GOVERNMENT = "government"
    INDUSTRY = "industry"
    ISAC = "isac"
    NGO = "ngo"
    ACADEMIA = "academia"


@dataclass(frozen=True)
class Grant:
    can_read: bool
    can_write: bool


@dataclass(frozen=True)
class Principal:
    partner_id: int
    name: str
    country: str
    kind: str
    is_admin: bool = False
    grants: dict[str, Grant] = field(default_factory=dict)
    entitlement: Entitlement | None = None  # None: receives no object (e.g. an unknown caller)
    # (policy in force, number of labels) as read when the caller authenticated; None: ask the store
    policy_state: tuple[int, int] | None = None
