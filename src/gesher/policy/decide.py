"""The one decision: may this partner receive an object with this access label, under which rule, in which
form, and why. Every path out asks it (through exchange.outbound); `gesher policy explain` prints it.
Each check's docstring is the explanation a user sees; every refusal names the check that refused.

TLP 2.0 semantics, exactly: CLEAR goes to anyone; GREEN to the vetted community (a rule or agreement
grants it); AMBER only with need-to-know (a rule naming the partner or its group, an agreement, or the
object's own markings naming it); AMBER+STRICT and RED only to recipients the object's markings name,
never by a rule. Sensitivity tiers are checked on top: anything above `public` needs a rule or agreement
that reaches that tier. Default deny: no rule, no release."""

from __future__ import annotations

from dataclasses import dataclass, field

from gesher.policy.entitlement import Entitlement
from gesher.policy.labels import AccessLabel
from gesher.policy.rules import Policy, Rule
from gesher.stix.gesher_marking import Tier
from gesher.stix.markings import Tlp
from gesher.stix.timestamps import to_micros


@dataclass(frozen=True)
class Grant:
    """A rule or an agreement that matches the partner: what it lets the partner receive."""

    source: str  # "rule <name>" or "agreement <name>"
    max_tlp: Tlp
    max_tier: Tier
    need_to_know: bool
    profile: str | None
    line: int


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reasons: tuple[str, ...]
    decided_by: str | None = None  # the rule or agreement, or what else allowed it
    profile: str | None = None  # sanitisation profile for what is served
    needs_release: bool = False  # served only once a second analyst approved the version
    valid_until: int | None = None  # time (µs) at which the same inputs may decide otherwise
    tlp: Tlp = Tlp.AMBER
    tier: Tier = Tier.DEFENSIVE
    notes: tuple[str, ...] = field(default=())


def needs_release(tlp: Tlp, tier: Tier) -> bool:
    """Items marked sensitive or above, and TLP:AMBER+STRICT or RED items, need a second analyst's
    approval before any partner receives them."""
    return tier >= Tier.SENSITIVE or tlp >= Tlp.AMBER_STRICT


def grants_of(entitlement: Entitlement, policy: Policy, now: int) -> list[Grant]:
    """The rules and in-force agreements that match this partner, in the order of the policy file."""
    groups = policy.groups_of(entitlement.partner)
    found = [_rule_grant(r) for r in policy.rules if _matches(r, entitlement, groups)]
    for a in policy.agreements:
        if entitlement.partner in a.partners and a.in_force(now):
            found.append(Grant(f"agreement {a.name}", a.max_tlp, a.max_tier, True, a.profile, a.line))
    return found


def _rule_grant(rule: Rule) -> Grant:
    return Grant(f"rule {rule.name}", rule.max_tlp, rule.max_tier, rule.need_to_know, rule.profile, rule.line)


def _matches(rule: Rule, e: Entitlement, groups: frozenset[str]) -> bool:
    return (
        (rule.trust_tiers is None or (e.trust_tier is not None and e.trust_tier in rule.trust_tiers))
        and (rule.kinds is None or e.kind in rule.kinds)
        and (rule.countries is None or e.country in rule.countries)
        and (rule.sectors is None or bool(rule.sectors & e.sectors))
        and (rule.partners is None or e.partner in rule.partners)
        and (rule.groups is None or bool(rule.groups & groups))
    )


def decide(entitlement: Entitlement, label: AccessLabel, policy: Policy, now: int) -> Decision:
    """Whether the partner may receive an object carrying `label`, with every reason."""
    tlp = label.tlp if label.tlp is not None else policy.default_tlp
    tier = label.tier if label.tier is not None else policy.default_tier
    reasons = list(label.reasons)
    if label.tlp is None:
        reasons.append(f"policy default {tlp.label}")
    if label.tier is None:
        reasons.append(f"policy default tier {tier.name.lower()}")
    gated = needs_release(tlp, tier)

    def deny(why: str, until: int | None = None) -> Decision:
        return Decision(False, (*reasons, why), needs_release=gated, valid_until=until, tlp=tlp, tier=tier)

    if entitlement.suspended:
        return deny("the partner is suspended: it receives nothing")
    if label.embargo_until is not None and now < (end := to_micros(label.embargo_until)):
        return deny(f"under embargo until {label.embargo_until}", until=end)
    groups = policy.groups_of(entitlement.partner)
    refusal = _releasability(entitlement, label, groups)
    if refusal:
        return deny(refusal)
    named = label.recipients is not None and entitlement.partner in label.recipients
    if label.originator_controlled and not named:
        return deny("originator-controlled: only the recipients its markings name may receive it")
    if label.named_only and not named:
        return deny("a marking definition naming its recipients: shown only to them")
    if entitlement.trust_tier is None and (tlp > Tlp.CLEAR or tier > Tier.PUBLIC):
        return deny("the partner is not vetted (no trust tier): it receives only TLP:CLEAR public material")
    grants = grants_of(entitlement, policy, now)
    chosen, why = _choose(tlp, tier, grants, named, _named_by_group(label, groups))
    if chosen is None:
        return deny(why)
    name, profile = chosen
    reasons.append(why)
    if gated:
        reasons.append("needs a second analyst's release approval (sensitive tier or AMBER+STRICT/RED)")
    return Decision(
        True,
        tuple(reasons),
        decided_by=name,
        profile=profile or policy.default_profile,
        needs_release=gated,
        valid_until=_next_expiry(entitlement, policy, now),
        tlp=tlp,
        tier=tier,
    )


def _releasability(e: Entitlement, label: AccessLabel, groups: frozenset[str]) -> str | None:
    """An object releasable only to named countries or groups goes only to partners of those countries
    or members of those groups."""
    allowed = label.releasable_to
    if allowed is None:
        return None
    if e.country in allowed or any(f"group:{g}" in allowed for g in groups):
        return None
    return f"releasable only to {', '.join(sorted(allowed))}: not to this partner"


def _named_by_group(label: AccessLabel, groups: frozenset[str]) -> bool:
    return label.releasable_to is not None and any(f"group:{g}" in label.releasable_to for g in groups)


def _choose(
    tlp: Tlp, tier: Tier, grants: list[Grant], named: bool, group_named: bool
) -> tuple[tuple[str, str | None] | None, str]:
    """The first grant (in policy order) that covers both the TLP and the tier, with the sentence that
    explains it; or None and the sentence that explains the refusal."""
    tier_ok = [g for g in grants if g.max_tier >= tier]
    if tier > Tier.PUBLIC and not tier_ok:
        return None, f"no rule or agreement for this partner reaches tier {tier.name.lower()}"
    tier_source = tier_ok[0] if tier_ok else None
    if tlp >= Tlp.AMBER_STRICT:
        if not named:
            return None, f"{tlp.label}: only recipients the object's markings name, never by a rule"
        return _by(tier_source, f"{tlp.label}: the partner is a named recipient")
    if tlp == Tlp.CLEAR:
        return _by(tier_source, "TLP:CLEAR: anyone")
    if tlp == Tlp.GREEN:
        green = [g for g in tier_ok if g.max_tlp >= Tlp.GREEN]
        if green:
            return _by(green[0], "TLP:GREEN: the vetted community")
        if named or group_named:  # whom an object's markings name may receive it up to AMBER: GREEN too
            return _by(tier_source, "TLP:GREEN: named by the object's markings")
        return None, "TLP:GREEN goes to the vetted community: no rule or agreement grants it to this partner"
    amber = [g for g in tier_ok if g.max_tlp >= Tlp.AMBER and g.need_to_know]
    if amber:
        return _by(amber[0], "TLP:AMBER: need-to-know")
    if named or group_named:
        return _by(tier_source, "TLP:AMBER: need-to-know (named by the object's markings)")
    return None, "TLP:AMBER needs need-to-know: no rule naming the partner or its group, and no agreement"


def _by(grant: Grant | None, why: str) -> tuple[tuple[str, str | None], str]:
    if grant is None:
        return ("tier public", None), why
    return (grant.source, grant.profile), f"{why} ({grant.source}, line {grant.line})"


def _next_expiry(e: Entitlement, policy: Policy, now: int) -> int | None:
    ends = [
        a.expires_at
        for a in policy.agreements
        if a.expires_at is not None and e.partner in a.partners and a.expires_at > now
    ]
    return min(ends) if ends else None
