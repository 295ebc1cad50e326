"""Access labels: the small record an object's markings reduce to (DESIGN.md, "Access labels").

Distinct labels are few, so the policy decides per label, not per object. Combining markings is
monotonic: every marking an object carries can only make its label more restrictive."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from gesher.stix.gesher_marking import GesherMarking, Tier, gesher_marking_of
from gesher.stix.markings import PAP_BY_MARKING, TLP_BY_MARKING, Pap, Tlp, marking_levels
from gesher.stix.timestamps import timestamp_order_key


@dataclass(frozen=True)
class AccessLabel:
    """Everything the policy needs to know about an object's markings, and why it has this label."""

    tlp: Tlp
    pap: Pap | None
    tier: Tier
    releasable_to: frozenset[str] | None  # None: not restricted to named countries or groups
    embargo_until: str | None
    originator_controlled: bool
    reasons: tuple[str, ...] = ()

    def key(self) -> tuple[object, ...]:
        """What makes two labels the same label (the reasons only explain it)."""
        releasable = tuple(sorted(self.releasable_to)) if self.releasable_to is not None else None
        return (self.tlp, self.pap, self.tier, releasable, self.embargo_until, self.originator_controlled)


def access_label(
    refs: Iterable[str],
    definition_of: Callable[[str], Mapping[str, object] | None],
    default_tlp: Tlp,
    default_tier: Tier,
) -> AccessLabel:
    """An object's label from its marking references. TLP and PAP: the most restrictive marking wins (or
    the exchange's default TLP). gesher markings: the highest tier, only recipients every marking allows,
    the latest embargo, and originator control if any marking asks for it. A referenced marking definition
    the exchange does not hold, or a malformed gesher marking, is an error: never a weaker label."""
    refs = list(dict.fromkeys(refs))
    others = [r for r in refs if r not in TLP_BY_MARKING and r not in PAP_BY_MARKING]
    gesher = [m for m in (_gesher(r, definition_of) for r in others) if m is not None]
    known = {r for r in others if definition_of(r) is not None}
    levels = marking_levels(refs, default_tlp, other_known=known)
    return _combine(levels.tlp, levels.pap, gesher, default_tier, levels.reasons)


def _gesher(ref: str, definition_of: Callable[[str], Mapping[str, object] | None]) -> GesherMarking | None:
    definition = definition_of(ref)
    return gesher_marking_of(definition) if definition is not None else None


def _combine(
    tlp: Tlp, pap: Pap | None, markings: list[GesherMarking], default_tier: Tier, reasons: tuple[str, ...]
) -> AccessLabel:
    if not markings:
        note = f"no gesher marking: the default tier {default_tier.name.lower()} applies"
        return AccessLabel(tlp, pap, default_tier, None, None, False, (*reasons, note))
    tier = max(m.tier for m in markings)
    restricted = [m.releasable_to for m in markings if m.releasable_to is not None]
    releasable = frozenset.intersection(*restricted) if restricted else None
    embargoes = [m.embargo_until for m in markings if m.embargo_until]
    notes = [f"tier {tier.name.lower()}" + (" (the highest of its markings)" if len(markings) > 1 else "")]
    if restricted and len(restricted) > 1:
        notes.append("releasable only to recipients every marking names")
    return AccessLabel(
        tlp=tlp,
        pap=pap,
        tier=tier,
        releasable_to=releasable,
        embargo_until=max(embargoes, key=_timestamp_order) if embargoes else None,
        originator_controlled=any(m.originator_controlled for m in markings),
        reasons=(*reasons, *notes),
    )


def _timestamp_order(value: str) -> str:
    return timestamp_order_key(value) or value
