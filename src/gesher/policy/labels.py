"""Access labels: the small record an object's markings reduce to (DESIGN.md, "Access labels").

Distinct labels are few, so the policy decides per label, not per object. Combining markings is
monotonic: every marking an object carries can only make its label more restrictive. A label keeps `tlp`
and `tier` as None when the object carries no such marking, so the policy's defaults apply at decision
time and a policy change applies to the next request without relabelling."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from gesher.stix.gesher_marking import GesherMarking, Tier, gesher_marking_of
from gesher.stix.markings import PAP_BY_MARKING, TLP_BY_MARKING, Pap, Tlp, marking_levels
from gesher.stix.timestamps import timestamp_order_key

DefinitionOf = Callable[[str], Mapping[str, object] | None]


@dataclass(frozen=True)
class AccessLabel:
    """Everything the policy needs to know about an object's markings, and why it has this label.
    `redactions` pairs granular-marking selectors of optional properties with the label those properties
    carry (the object's markings plus the granular one): a partner not cleared for it gets the object
    without them."""

    tlp: Tlp | None
    pap: Pap | None
    tier: Tier | None
    releasable_to: frozenset[str] | None = None  # None: not restricted to named countries or groups
    recipients: frozenset[str] | None = None  # organisations the markings name
    embargo_until: str | None = None
    originator_controlled: bool = False
    named_only: bool = False  # only the recipients and groups it names may receive it
    redactions: tuple[tuple[tuple[str, ...], AccessLabel], ...] = ()
    reasons: tuple[str, ...] = ()

    def key(self) -> str:
        """What makes two labels the same label (the reasons only explain it), as canonical JSON."""
        return json.dumps(self.to_json(with_reasons=False), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        return hashlib.sha256(self.key().encode()).hexdigest()

    def to_json(self, with_reasons: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "tlp": self.tlp.name if self.tlp is not None else None,
            "pap": self.pap.name if self.pap is not None else None,
            "tier": self.tier.name.lower() if self.tier is not None else None,
            "releasable_to": sorted(self.releasable_to) if self.releasable_to is not None else None,
            "recipients": sorted(self.recipients) if self.recipients is not None else None,
            "embargo_until": self.embargo_until,
            "originator_controlled": self.originator_controlled,
            "named_only": self.named_only,
            "redactions": [[list(sel), sub.to_json(with_reasons)] for sel, sub in self.redactions],
        }
        if with_reasons:
            out["reasons"] = list(self.reasons)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> AccessLabel:
        def names(value: object) -> frozenset[str] | None:
            return frozenset(str(v) for v in value) if isinstance(value, list) else None

        tlp, pap, tier = data.get("tlp"), data.get("pap"), data.get("tier")
        redactions = data.get("redactions") or []
        assert isinstance(redactions, list)
        reasons = data.get("reasons") or []
        assert isinstance(reasons, list)
        embargo = data.get("embargo_until")
        return cls(
            tlp=Tlp[str(tlp)] if tlp is not None else None,
            pap=Pap[str(pap)] if pap is not None else None,
            tier=Tier[str(tier).upper()] if tier is not None else None,
            releasable_to=names(data.get("releasable_to")),
            recipients=names(data.get("recipients")),
            embargo_until=str(embargo) if embargo is not None else None,
            originator_controlled=bool(data.get("originator_controlled")),
            named_only=bool(data.get("named_only")),
            redactions=tuple((tuple(sel), cls.from_json(sub)) for sel, sub in redactions),
            reasons=tuple(str(r) for r in reasons),
        )


def access_label(refs: Iterable[str], definition_of: DefinitionOf) -> AccessLabel:
    """An object's label from its marking references. TLP and PAP: the most restrictive marking wins
    (none: the policy's default TLP applies). gesher markings: the highest tier, only recipients every
    marking allows, the latest embargo, and originator control if any marking asks for it. A referenced
    marking definition the exchange does not hold, or a malformed gesher marking, is an error: never a
    weaker label."""
    refs = list(dict.fromkeys(refs))
    others = [r for r in refs if r not in TLP_BY_MARKING and r not in PAP_BY_MARKING]
    gesher = [m for m in (_gesher(r, definition_of) for r in others) if m is not None]
    known = {r for r in others if definition_of(r) is not None}
    levels = marking_levels(refs, None, other_known=known)
    return _combine(levels.tlp, levels.pap, gesher, levels.reasons)


def object_label(
    marking_refs: Iterable[str],
    granular: Iterable[tuple[str, tuple[str, ...]]],
    required: frozenset[str],
    definition_of: DefinitionOf,
) -> AccessLabel:
    """The label of a whole object: its object markings, plus every granular marking (marking ref,
    selectors) that covers a required property (such a property cannot be redacted away, so the whole
    object must carry its marking). Granular markings on optional properties become redactions: each
    selector gets the label of the object's markings combined with every granular marking covering it."""
    refs = list(marking_refs)
    by_selector: dict[str, list[str]] = {}
    for ref, selectors in granular:
        if any(s.split(".", 1)[0] in required for s in selectors):
            refs.append(ref)
        else:
            for selector in selectors:
                by_selector.setdefault(selector, []).append(ref)
    label = access_label(refs, definition_of)
    if not by_selector:
        return label
    groups: dict[tuple[str, ...], list[str]] = {}
    for selector, granular_refs in by_selector.items():
        groups.setdefault(tuple(sorted(set(granular_refs))), []).append(selector)
    parts = [
        (tuple(sorted(selectors)), _without_reasons(access_label([*refs, *granular_refs], definition_of)))
        for granular_refs, selectors in groups.items()
    ]
    redactions = tuple(sorted(parts, key=lambda part: part[0]))
    return AccessLabel(**{**label.__dict__, "redactions": redactions})


def _without_reasons(label: AccessLabel) -> AccessLabel:
    return AccessLabel(**{**label.__dict__, "reasons": ()})


def _gesher(ref: str, definition_of: DefinitionOf) -> GesherMarking | None:
    definition = definition_of(ref)
    return gesher_marking_of(definition) if definition is not None else None


def _combine(
    tlp: Tlp | None, pap: Pap | None, markings: list[GesherMarking], reasons: tuple[str, ...]
) -> AccessLabel:
    if not markings:
        note = "no gesher marking: the policy's default tier applies"
        return AccessLabel(tlp, pap, None, reasons=(*reasons, note))
    tier = max(m.tier for m in markings)
    restricted = [m.releasable_to for m in markings if m.releasable_to is not None]
    named = [m.recipients for m in markings if m.recipients is not None]
    embargoes = [m.embargo_until for m in markings if m.embargo_until]
    notes = [f"tier {tier.name.lower()}" + (" (the highest of its markings)" if len(markings) > 1 else "")]
    if len(restricted) > 1:
        notes.append("releasable only to recipients every marking names")
    if len(named) > 1:
        notes.append("named recipients: only those every marking names")
    return AccessLabel(
        tlp=tlp,
        pap=pap,
        tier=tier,
        releasable_to=frozenset.intersection(*restricted) if restricted else None,
        recipients=frozenset.intersection(*named) if named else None,
        embargo_until=max(embargoes, key=_timestamp_order) if embargoes else None,
        originator_controlled=any(m.originator_controlled for m in markings),
        reasons=(*reasons, *notes),
    )


def _timestamp_order(value: str) -> str:
    return timestamp_order_key(value) or value


def definition_label(definition: Mapping[str, object], definition_of: DefinitionOf) -> AccessLabel:
    """A marking definition carries no intelligence and partners need it to read the markings they
    receive, so an unmarked one is TLP:CLEAR and public; but a gesher marking that names recipients or
    groups is shown only to those it names (naming them to others would reveal who else receives what)."""
    marking = gesher_marking_of(definition)
    refs = [str(r) for r in _list(definition.get("object_marking_refs"))]
    base = access_label(refs, definition_of)
    tlp = base.tlp if base.tlp is not None else Tlp.CLEAR
    if marking is None:
        return AccessLabel(**{**base.__dict__, "tlp": tlp, "tier": base.tier or Tier.PUBLIC})
    return AccessLabel(
        tlp=tlp,
        pap=base.pap,
        tier=base.tier or Tier.PUBLIC,
        releasable_to=marking.releasable_to,
        recipients=marking.recipients,
        named_only=marking.recipients is not None,
        reasons=(
            *base.reasons,
            "a gesher marking definition: shown only to the recipients and groups it names",
        ),
    )


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
