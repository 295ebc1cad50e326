"""The TLP and PAP levels of a set of STIX 2.1 marking references (object_marking_refs).

TLP 2.0 markings are the OASIS extension-based marking definitions; the STIX 2.1 built-in TLP 1.0 markings
are accepted as aliases (WHITE is CLEAR). PAP uses the OASIS PAP marking definitions. This is the
first step of the tiered sharing policy: each rule returns its reasons, and nothing here fails open."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from gesher.errors import InvalidStix
from gesher.stix import constants as c


class Tlp(IntEnum):
    """Traffic Light Protocol 2.0 levels, ordered from least to most restrictive."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4

    @property
    def label(self) -> str:
        return "TLP:" + self.name.replace("_", "+")


class Pap(IntEnum):
    """Permissible Actions Protocol levels, ordered from least to most restrictive."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    RED = 3

    @property
    def label(self) -> str:
        return f"PAP:{self.name}"


TLP_BY_MARKING: Final = {
    c.TLP2_CLEAR: Tlp.CLEAR,
    c.TLP2_GREEN: Tlp.GREEN,
    c.TLP2_AMBER: Tlp.AMBER,
    c.TLP2_AMBER_STRICT: Tlp.AMBER_STRICT,
    c.TLP2_RED: Tlp.RED,
    c.TLP1_WHITE: Tlp.CLEAR,
    c.TLP1_GREEN: Tlp.GREEN,
    c.TLP1_AMBER: Tlp.AMBER,
    c.TLP1_RED: Tlp.RED,
}
PAP_BY_MARKING: Final = {
    c.PAP_CLEAR: Pap.CLEAR,
    c.PAP_WHITE: Pap.CLEAR,
    c.PAP_GREEN: Pap.GREEN,
    c.PAP_AMBER: Pap.AMBER,
    c.PAP_RED: Pap.RED,
}


class UnknownMarking(InvalidStix):
    title = "Unknown marking definition"


@dataclass(frozen=True)
class MarkingLevels:
    tlp: Tlp | None  # None only when no TLP marking and no default were given
    pap: Pap | None
    reasons: tuple[str, ...]


def marking_levels(
    refs: Iterable[str], default_tlp: Tlp | None, other_known: Collection[str] = ()
) -> MarkingLevels:
    """An object's TLP is the most restrictive TLP marking it carries; without one it gets the exchange's
    default. Its PAP is likewise the most restrictive PAP marking, if any. A reference to a marking
    definition that is neither TLP, PAP nor otherwise known to the exchange (e.g. a stored copyright
    statement) is refused: a marking nobody can interpret must never be silently ignored."""
    refs = list(dict.fromkeys(refs))
    unknown = [
        r for r in refs if r not in TLP_BY_MARKING and r not in PAP_BY_MARKING and r not in other_known
    ]
    if unknown:
        raise UnknownMarking(
            f"marking definition {unknown[0]!r} is referenced but not known to this exchange"
        )
    tlps = sorted({TLP_BY_MARKING[r] for r in refs if r in TLP_BY_MARKING})
    paps = sorted({PAP_BY_MARKING[r] for r in refs if r in PAP_BY_MARKING})
    reasons = [_tlp_reason(tlps, default_tlp)]
    if len(paps) > 1:
        reasons.append(f"PAP markings {', '.join(p.label for p in paps)} disagree: the most restrictive wins")
    return MarkingLevels(tlps[-1] if tlps else default_tlp, paps[-1] if paps else None, tuple(reasons))


def _tlp_reason(tlps: list[Tlp], default: Tlp | None) -> str:
    if not tlps:
        if default is None:
            return "no TLP marking: the policy's default TLP applies"
        return f"no TLP marking: the exchange default {default.label} applies"
    if len(tlps) == 1:
        return f"marked {tlps[0].label}"
    listed = ", ".join(t.label for t in tlps)
    return f"TLP markings {listed} disagree: the most restrictive, {tlps[-1].label}, wins"
