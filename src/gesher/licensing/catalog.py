"""The capability catalog: what a vendor declares about an item, and `classify`, the explained rule set that
turns those declarations into a gesher tier and the export controls that apply (reference/export_control.md
A.1 for the Wassenaar text, 2.1 for the model). Pure: the same declarations always give the same
classification, with every rule's reason and the evaluated predicates, so it can be audited.

How the tier is reached: each rule (a small function below; its docstring is what a user reads) sets a floor
and may add controls; the tier is the highest floor. The 2017 Wassenaar notes are carve-outs, first-class
flags: they take an item out of 4.A.5 / 4.D.4 / 4.E.1.c control (reference 2.1), but national policy keeps
intrusion tooling at least DUAL_USE."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest


class GesherTier(StrEnum):
    """Sensitivity tiers of reference 2.1 (T0..T3), lowest first; `rank` orders them."""

    PUBLIC = "public"
    DEFENSIVE = "defensive"
    DUAL_USE = "dual-use"
    OFFENSIVE = "offensive"

    @property
    def rank(self) -> int:
        return list(GesherTier).index(self)


class Category(StrEnum):
    """The categories of reference 2.1, plus vulnerability research (a T2 example there)."""

    THREAT_INTEL_FEED = "threat-intel-feed"
    DEFENSIVE_TOOL = "defensive-tool"
    FORENSIC_EXTRACTION = "forensic-extraction"
    PENTEST_FRAMEWORK = "pentest-framework"
    VULNERABILITY_RESEARCH = "vulnerability-research"
    IP_SURVEILLANCE = "ip-surveillance"  # lawful intercept / IP network surveillance
    EXPLOIT = "exploit"
    INTRUSION_PLATFORM = "intrusion-platform"
    SPYWARE = "spyware"


class ItemForm(StrEnum):
    """What is exported: Wassenaar controls equipment (A), software (D) and technology (E) separately."""

    SYSTEM = "system"  # systems, equipment, components (4.A.5)
    SOFTWARE = "software"  # (4.D.4)
    TECHNOLOGY = "technology"  # know-how, documentation, training (4.E.1.c)


class IntrusionPurpose(StrEnum):
    """What an item is specially designed or modified to do with "intrusion software" (4.A.5 / 4.D.4)."""

    GENERATE = "generate"
    OPERATE = "operate"
    DELIVER = "deliver"
    COMMUNICATE = "communicate"  # command and control


class CarveOut(StrEnum):
    """The 2017 Wassenaar notes (reference A.1), first-class flags a vendor claims and an officer checks."""

    VULNERABILITY_DISCLOSURE = "vulnerability-disclosure"
    INCIDENT_RESPONSE = "incident-response"
    BASIC_UPDATES = "basic-updates"


class Regime(StrEnum):
    WA = "WA"
    EAR = "EAR"
    EU = "EU"
    IL_DECL = "IL-DECL"
    IL_DU_ORDER = "IL-DU-ORDER"


@dataclass(frozen=True)
class ControlRef:
    regime: Regime
    code: str
    title: str
    reasons: tuple[str, ...] = ()  # reasons for control (NS, AT, ...)


WA_4A5: Final = ControlRef(
    Regime.WA,
    "4.A.5",
    "systems, equipment and components for intrusion software (generate, operate, deliver, communicate)",
)
WA_4D4: Final = ControlRef(
    Regime.WA, "4.D.4", "software for intrusion software (generate, operate, deliver, communicate)"
)
WA_4E1C: Final = ControlRef(Regime.WA, "4.E.1.c", "technology for the development of intrusion software")
WA_5A1J: Final = ControlRef(Regime.WA, "5.A.1.j", "IP network communications surveillance systems")
# The EAR implements the same entries (reference A.2: 86 FR 58205, NS and AT reasons for control).
EAR_OF: Final = {
    "4.A.5": ControlRef(Regime.EAR, "4A005", WA_4A5.title, ("NS", "AT")),
    "4.D.4": ControlRef(Regime.EAR, "4D004", WA_4D4.title, ("NS", "AT")),
    "4.E.1.c": ControlRef(Regime.EAR, "4E001.c", WA_4E1C.title, ("NS", "AT")),
    "5.A.1.j": ControlRef(Regime.EAR, "5A001.j", WA_5A1J.title, ("NS", "AT")),
}
EU_ART5: Final = ControlRef(
    Regime.EU, "2021/821 Art. 5", "catch-all for non-listed cyber-surveillance items (Art. 2(20))"
)


@dataclass(frozen=True)
class Capability:
    """An item as its vendor declares it. The intrusion-software predicates describe the software the item
    is or works with (its implant or payload); `purposes` what it is specially designed to do with it."""

    name: str
    vendor: str
    description: str
    category: Category
    version: str = ""
    forms: frozenset[ItemForm] = frozenset({ItemForm.SOFTWARE})
    publicly_available: bool = False  # published without restriction (open source, advisories)
    # "intrusion software" (Wassenaar definition, reference A.1)
    avoids_monitoring: bool = False  # avoids detection by monitoring tools
    defeats_countermeasures: bool = False  # defeats protective countermeasures
    extracts_or_modifies_data: bool = False
    modifies_execution_path: bool = False  # so externally provided instructions run
    purposes: frozenset[IntrusionPurpose] = frozenset()
    technology_for_developing_intrusion_software: bool = False
    updates_intrusion_tooling: bool = False  # it updates or creates intrusion software or its platform
    # EU 2021/821 Art. 2(20)
    covert_surveillance_of_natural_persons: bool = False
    # 5.A.1.j, all of (reference A.1)
    carrier_class_ip_network: bool = False
    analyses_application_layer: bool = False  # layer 7
    extracts_metadata_and_content: bool = False
    indexes_extracted_data: bool = False
    hard_selector_search: bool = False
    relational_network_mapping: bool = False  # of an individual or a group
    mass_market_crypto: bool = False  # released by the Cryptography Note (EAR 5D992)
    carve_outs: frozenset[CarveOut] = frozenset()

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.vendor.strip():
            raise InvalidRequest("a capability needs a name and a vendor")
        object.__setattr__(self, "category", Category(self.category))
        object.__setattr__(self, "forms", frozenset(ItemForm(f) for f in self.forms))
        object.__setattr__(self, "purposes", frozenset(IntrusionPurpose(p) for p in self.purposes))
        object.__setattr__(self, "carve_outs", frozenset(CarveOut(c) for c in self.carve_outs))
        if not self.forms:
            raise InvalidRequest(f"{self.name}: say what is exported (system, software, technology)")


@dataclass(frozen=True)
class Rationale:
    """One reason in a classification: `rule` is the rule that gave it (see `rule_explanations`)."""

    code: str
    text: str
    rule: str = ""


@dataclass(frozen=True)
class Classification:
    tier: GesherTier
    controls: tuple[ControlRef, ...]
    carve_outs: tuple[CarveOut, ...]  # the carve-outs that took a control away
    rationale: tuple[Rationale, ...]
    predicates: dict[str, bool] = field(default_factory=dict)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.controls)

    @property
    def controlled(self) -> bool:
        """Listed under Wassenaar (and so the EAR): a catch-all alone does not make an item listed."""
        return any(c.regime == Regime.WA for c in self.controls)


@dataclass(frozen=True)
class Finding:
    """What one rule concluded."""

    floor: GesherTier = GesherTier.PUBLIC
    controls: tuple[ControlRef, ...] = ()
    carved_out: tuple[CarveOut, ...] = ()
    rationale: tuple[Rationale, ...] = ()


Rule = Callable[[Capability], Finding]


def classify(item: Capability) -> Classification:
    """The classification of one item: every rule applied, the tier the highest floor any rule sets."""
    findings = [_named(rule, rule(item)) for rule in RULES]
    tier = max((f.floor for f in findings), key=lambda t: t.rank)
    controls = tuple(c for f in findings for c in f.controls)
    controls += tuple(EAR_OF[c.code] for c in controls if c.code in EAR_OF)
    rationale = [r for f in findings for r in f.rationale]
    carved = tuple(dict.fromkeys(c for f in findings for c in f.carved_out))
    rationale.extend(_unused_carve_outs(item, carved))
    rationale.append(Rationale("TIER", _tier_text(tier, controls), "classify"))
    return Classification(tier, controls, carved, tuple(rationale), predicates(item))


def predicates(item: Capability) -> dict[str, bool]:
    """The evaluated predicates the rules rest on, kept with the classification for audit."""
    return {
        "evades_monitoring_or_countermeasures": _evades(item),
        "extracts_modifies_data_or_execution_path": _payload(item),
        "meets_intrusion_software_definition": is_intrusion_software(item),
        "specially_designed_for_intrusion_software": bool(item.purposes),
        **{f"purpose:{p.value}": p in item.purposes for p in IntrusionPurpose},
        "technology_for_developing_intrusion_software": item.technology_for_developing_intrusion_software,
        "covert_surveillance_of_natural_persons": item.covert_surveillance_of_natural_persons,
        **{f"5.A.1.j:{name}": getattr(item, name) for name in IP_SURVEILLANCE_CRITERIA},
        "meets_5.A.1.j": meets_ip_surveillance(item),
        "mass_market_crypto": item.mass_market_crypto,
        **{f"carve_out:{c.value}": c in item.carve_outs for c in CarveOut},
    }


def is_intrusion_software(item: Capability) -> bool:
    """Wassenaar: avoids monitoring tools or defeats protective countermeasures, and extracts or modifies
    data or modifies the standard execution path."""
    return _evades(item) and _payload(item)


IP_SURVEILLANCE_CRITERIA: Final = (
    "carrier_class_ip_network",
    "analyses_application_layer",
    "extracts_metadata_and_content",
    "indexes_extracted_data",
    "hard_selector_search",
    "relational_network_mapping",
)


def meets_ip_surveillance(item: Capability) -> bool:
    """All six 5.A.1.j criteria at once (see `ip_surveillance`)."""
    return all(getattr(item, name) for name in IP_SURVEILLANCE_CRITERIA)


# --- rules -------------------------------------------------------------------------------------------------


def declared_category(item: Capability) -> Finding:
    """The declared category sets a floor (reference 2.1 tier table): exploits, intrusion platforms and
    spyware are OFFENSIVE; forensic extraction, pentest frameworks, vulnerability research and IP surveillance
    are DUAL_USE; threat-intel feeds and defensive tools are DEFENSIVE, or PUBLIC when published openly."""
    floor = CATEGORY_FLOOR[item.category]
    if floor == GesherTier.DEFENSIVE and item.publicly_available:
        floor = GesherTier.PUBLIC
    text = f"declared category {item.category.value}: at least {floor.value}"
    return Finding(floor, rationale=(Rationale("CATEGORY", text),))


def intrusion_software(item: Capability) -> Finding:
    """An item that is itself intrusion software (it evades monitoring or defeats countermeasures, and
    extracts or modifies data or hijacks the execution path) is at least DUAL_USE. Wassenaar lists no entry
    for intrusion software itself: the controls fall on its tooling (4.A.5, 4.D.4) and its development
    technology (4.E.1.c). Its declared category says whether it is OFFENSIVE (exploits, spyware)."""
    if item.purposes or not is_intrusion_software(item):
        return Finding()  # tooling for intrusion software is `intrusion_tooling`'s business
    text = "is itself intrusion software: at least DUAL_USE (Wassenaar controls its tooling, not it)"
    return Finding(GesherTier.DUAL_USE, rationale=(Rationale("INTRUSION_SOFTWARE", text),))


def intrusion_tooling(item: Capability) -> Finding:
    """Systems (4.A.5) and software (4.D.4) specially designed to generate, operate, deliver or communicate
    with intrusion software are controlled and OFFENSIVE. The update note on 4.D.4 takes the control away
    from software that only delivers basic updates (never one that updates or creates intrusion software or
    its platform), leaving it DUAL_USE. Vulnerability disclosure and incident response take nothing away
    here: Wassenaar's 2017 notes for those purposes are notes on technology (4.E.1.a/c) only. Declared
    purposes count only if what the item works with meets the intrusion-software definition."""
    if not item.purposes:
        return Finding()
    purposes = _names(tuple(sorted(item.purposes)))
    if not is_intrusion_software(item):
        text = f"designed to {purposes} software that is not intrusion software (the definition is not met)"
        return Finding(rationale=(Rationale("NOT_INTRUSION_TOOLING", text),))
    controls = _tooling_controls(item)
    updates = _carved(item, _update_note(item))
    if updates:
        text = f"designed to {purposes} intrusion software, for {_names(updates)}: "
        text += f"{_codes(controls)} do not apply (the note on 4.D.4), DUAL_USE"
        return Finding(GesherTier.DUAL_USE, carved_out=updates, rationale=(Rationale("CARVED_OUT", text),))
    text = f"specially designed to {purposes} intrusion software: {_codes(controls)}, OFFENSIVE"
    return Finding(GesherTier.OFFENSIVE, controls, rationale=(Rationale("INTRUSION_TOOLING", text),))


def development_technology(item: Capability) -> Finding:
    """Technology for the development of intrusion software is controlled under 4.E.1.c and OFFENSIVE, except
    technology exchanged for vulnerability disclosure or cyber-incident response (the 2017 note), which
    stays DUAL_USE."""
    if not item.technology_for_developing_intrusion_software or ItemForm.TECHNOLOGY not in item.forms:
        return Finding()
    carved = _carved(item, (CarveOut.VULNERABILITY_DISCLOSURE, CarveOut.INCIDENT_RESPONSE))
    if carved:
        text = f"technology for developing intrusion software, for {_names(carved)}: 4.E.1.c does not apply"
        return Finding(GesherTier.DUAL_USE, carved_out=carved, rationale=(Rationale("CARVED_OUT", text),))
    text = "technology for the development of intrusion software: 4.E.1.c, OFFENSIVE"
    return Finding(GesherTier.OFFENSIVE, (WA_4E1C,), rationale=(Rationale("DEVELOPMENT_TECHNOLOGY", text),))


def ip_surveillance(item: Capability) -> Finding:
    """IP network communications surveillance is controlled under 5.A.1.j and DUAL_USE only if it has all
    of: it works on a carrier-class IP network, analyses at the application layer, extracts metadata and
    content, indexes what it extracts, and is specially designed for hard-selector searches and for mapping
    the relational network of a person or group. Missing any one, 5.A.1.j does not apply."""
    met = [name for name in IP_SURVEILLANCE_CRITERIA if getattr(item, name)]
    if not met:
        return Finding()
    if len(met) == len(IP_SURVEILLANCE_CRITERIA):
        text = "meets every 5.A.1.j criterion: IP network communications surveillance, DUAL_USE"
        return Finding(GesherTier.DUAL_USE, (WA_5A1J,), rationale=(Rationale("IP_SURVEILLANCE", text),))
    missing = ", ".join(n.replace("_", " ") for n in IP_SURVEILLANCE_CRITERIA if n not in met)
    text = f"not 5.A.1.j: it must meet all of the criteria and lacks {missing}"
    return Finding(rationale=(Rationale("NOT_IP_SURVEILLANCE", text),))


def covert_surveillance(item: Capability) -> Finding:
    """An item specially designed for covert surveillance of natural persons is a cyber-surveillance item
    (EU 2021/821 Art. 2(20)): at least DUAL_USE, and the Art. 5 catch-all applies to it even when no list
    entry does."""
    if not item.covert_surveillance_of_natural_persons:
        return Finding()
    text = "designed for covert surveillance of natural persons: at least DUAL_USE (EU Art. 5 catch-all)"
    return Finding(GesherTier.DUAL_USE, (EU_ART5,), rationale=(Rationale("COVERT_SURVEILLANCE", text),))


def mass_market_crypto(item: Capability) -> Finding:
    """Mass-market encryption is released from Cat. 5 Part 2 control by the Cryptography Note (EAR 5D992 at
    most): recorded, and at least DEFENSIVE, never PUBLIC."""
    if not item.mass_market_crypto:
        return Finding()
    text = "mass-market encryption (Cryptography Note; EAR 5D992 at most): at least DEFENSIVE"
    return Finding(GesherTier.DEFENSIVE, rationale=(Rationale("MASS_MARKET_CRYPTO", text),))


RULES: Final[tuple[Rule, ...]] = (
    declared_category,
    intrusion_software,
    intrusion_tooling,
    development_technology,
    ip_surveillance,
    covert_surveillance,
    mass_market_crypto,
)

CATEGORY_FLOOR: Final = {
    Category.THREAT_INTEL_FEED: GesherTier.DEFENSIVE,
    Category.DEFENSIVE_TOOL: GesherTier.DEFENSIVE,
    Category.FORENSIC_EXTRACTION: GesherTier.DUAL_USE,
    Category.PENTEST_FRAMEWORK: GesherTier.DUAL_USE,
    Category.VULNERABILITY_RESEARCH: GesherTier.DUAL_USE,
    Category.IP_SURVEILLANCE: GesherTier.DUAL_USE,
    Category.EXPLOIT: GesherTier.OFFENSIVE,
    Category.INTRUSION_PLATFORM: GesherTier.OFFENSIVE,
    Category.SPYWARE: GesherTier.OFFENSIVE,
}


def rule_explanations() -> list[tuple[str, str]]:
    """(rule name, what it says) for every classification rule, in the order they are applied."""
    return [(rule.__name__, inspect.getdoc(rule) or "") for rule in RULES]


# --- helpers -----------------------------------------------------------------------------------------------


def _evades(item: Capability) -> bool:
    return item.avoids_monitoring or item.defeats_countermeasures


def _payload(item: Capability) -> bool:
    return item.extracts_or_modifies_data or item.modifies_execution_path


def _tooling_controls(item: Capability) -> tuple[ControlRef, ...]:
    """4.A.5 for systems, 4.D.4 for software; technology is 4.E.1.c's business."""
    controls = (WA_4A5,) if ItemForm.SYSTEM in item.forms else ()
    return controls + ((WA_4D4,) if ItemForm.SOFTWARE in item.forms else ())


def _update_note(item: Capability) -> tuple[CarveOut, ...]:
    """The update note is a note on 4.D.4 (software), and does not cover software that updates or creates
    intrusion software or its command-and-delivery platform."""
    if item.updates_intrusion_tooling or ItemForm.SYSTEM in item.forms:
        return ()
    return (CarveOut.BASIC_UPDATES,)


def _unused_carve_outs(item: Capability, used: tuple[CarveOut, ...]) -> list[Rationale]:
    """A carve-out claimed that took no control away is recorded, so an officer sees the claim."""
    unused = tuple(sorted(item.carve_outs - set(used)))
    if not unused:
        return []
    text = f"carve-out claimed but not applied ({_names(unused)}): no control it covers would apply"
    if CarveOut.BASIC_UPDATES in unused and item.updates_intrusion_tooling:
        text += "; the update note never covers software that updates or creates intrusion software"
    if {CarveOut.VULNERABILITY_DISCLOSURE, CarveOut.INCIDENT_RESPONSE} & set(unused) and item.purposes:
        text += "; the notes on vulnerability disclosure and incident response cover technology (4.E.1) only"
    return [Rationale("CARVE_OUT_UNUSED", text, "classify")]


def _carved(item: Capability, applicable: tuple[CarveOut, ...]) -> tuple[CarveOut, ...]:
    return tuple(c for c in applicable if c in item.carve_outs)


def _named(rule: Rule, finding: Finding) -> Finding:
    named = tuple(dataclasses.replace(r, rule=rule.__name__) for r in finding.rationale)
    return dataclasses.replace(finding, rationale=named)


def _names(values: tuple[StrEnum, ...]) -> str:
    return ", ".join(v.value for v in values)


def _codes(controls: tuple[ControlRef, ...]) -> str:
    return " and ".join(c.code for c in controls) or "no tooling entry (technology only)"


def _tier_text(tier: GesherTier, controls: tuple[ControlRef, ...]) -> str:
    listed = [c.code for c in controls if c.regime == Regime.WA]
    control = f"controlled under {', '.join(listed)}" if listed else "not controlled under Wassenaar"
    return f"{tier.value}: {control}"
