"""Enforcement, end to end (issue 3; DESIGN.md section 3): for random partners, random policies and random
marked objects, every way out (TAXII objects, object, versions and manifest endpoints, paged; export;
`policy explain`) serves exactly what an independent reading of the sharing rules allows, and nothing
that tells a partner what it may not see.

The oracle below is written from the documented rules (DESIGN.md, decide.py's docstrings, issue 3), not
from the code: it never calls `decide`, `access_label` or the sanitiser. Each test builds a fresh node per
example, on SQLite and on PostgreSQL.

What the oracle allows may still be withheld for a documented reason: the release gate (sensitive tier or
AMBER+STRICT/RED, not approved), a relationship or sighting pointing at an object the partner receives no
version of, or the sanitiser withholding an indicator whose pattern names an internal address. Granularly
marked properties the partner may not see are removed; one that needs a release its object does not is
held back until the version is released.

Partners read `main`, some also `extra`, none `secret`. Scenarios are random partners (trust tier or none,
country, kind, sectors, suspension), random policies (rules with random selectors, AMBER only with
need-to-know, groups, agreements in force or expired, a `redact` profile dropping x_victim_name and
internal addresses), gesher marking definitions (tier, releasability, recipients, originator control,
embargo) ingested with the objects, and indicators in up to three versions with TLP 2.0 and gesher
markings, granular markings on name, description or pattern, plus relationships and sightings."""

from __future__ import annotations

import copy
import dataclasses
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

import gesher.exchange.clearance as clearance_module
from gesher.api.app import create_app
from gesher.cli.export import bundle_chunks
from gesher.errors import NotFound
from gesher.exchange import policies, release
from gesher.exchange.collections import create_collection
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound
from gesher.partners import service
from gesher.partners.service import principal_by_name, require_collection
from gesher.policy.principal import StakeholderKind
from gesher.settings import Settings
from gesher.stix import constants as c
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID, Tier
from gesher.stix.markings import Tlp
from gesher.stix.timestamps import to_micros
from gesher.taxii.query import TaxiiQuery, Versions
from tests.conftest import TAXII
from tests.databases import fresh_postgres_database

ROOT = "/taxii2/gesher"
PARTNERS = ("p0", "p1", "p2", "p3")
OUTSIDER = "px"  # named by policies and markings, never registered
COUNTRIES = ("GB", "IL", "DE")
KINDS = tuple(k.value for k in StakeholderKind)
SECTORS = ("energy", "finance")
GROUPS = ("g1", "g2")
TIMES = ("2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z")
LATER = "2024-04-01T00:00:00.000Z"  # versions added after the partners first read
PAST, FUTURE = "2020-01-01T00:00:00.000Z", "2099-01-01T00:00:00.000Z"
TLP_REF = {
    Tlp.CLEAR: c.TLP2_CLEAR,
    Tlp.GREEN: c.TLP2_GREEN,
    Tlp.AMBER: c.TLP2_AMBER,
    Tlp.AMBER_STRICT: c.TLP2_AMBER_STRICT,
    Tlp.RED: c.TLP2_RED,
}
TLP_OF = {ref: tlp for tlp, ref in TLP_REF.items()}
TLP_NAME = {
    Tlp.CLEAR: "CLEAR",
    Tlp.GREEN: "GREEN",
    Tlp.AMBER: "AMBER",
    Tlp.AMBER_STRICT: "AMBER+STRICT",
    Tlp.RED: "RED",
}
REDACT = "redact"
PROFILE_YAML = f"""\
  {REDACT}:
    drop_properties: [x_victim_name]
    drop_internal_addresses: true
    internal_domains: [corp.example.il]
"""
PLAIN_TEXT = "beacon seen in the wild"
INTERNAL_TEXT = "beacon to 10.1.2.3 via srv.corp.example.il"
INTERNAL_REDACTED = "beacon to [redacted] via [redacted]"
INTERNAL_PATTERN = "[ipv4-addr:value = '10.9.8.7']"
NEVER_STORED = "indicator--00000000-0000-4000-8000-000000000007"

# Each example builds a node: shrinking a failure would rebuild hundreds, so failures are reported as found
# (every assertion names the partner, object, version and label), and the regression tests below hold the
# smallest known cases.
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)


# --- the scenario -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerSpec:
    name: str
    trust: int | None
    country: str
    kind: str
    sectors: tuple[str, ...]
    suspended: bool
    extra: bool = False  # also reads the `extra` collection

    @property
    def reads(self) -> tuple[str, ...]:
        """The collections it may read (a suspended partner reads none)."""
        return () if self.suspended else ("main", "extra") if self.extra else ("main",)


@dataclass(frozen=True)
class RuleSpec:
    name: str
    max_tlp: Tlp
    max_tier: Tier
    trust_tiers: tuple[int, ...] | None
    kinds: tuple[str, ...] | None
    countries: tuple[str, ...] | None
    sectors: tuple[str, ...] | None
    partners: tuple[str, ...] | None
    groups: tuple[str, ...] | None
    profile: str | None


@dataclass(frozen=True)
class AgreementSpec:
    name: str
    partners: tuple[str, ...]
    max_tlp: Tlp
    max_tier: Tier
    expires: str | None  # "2020-01-01" (expired), "2099-01-01" (in force) or None
    profile: str | None


@dataclass(frozen=True)
class PolicySpec:
    rules: tuple[RuleSpec, ...]
    agreements: tuple[AgreementSpec, ...]
    groups: dict[str, tuple[str, ...]]
    default_tlp: Tlp
    default_tier: Tier
    default_profile: str | None


@dataclass(frozen=True)
class MarkingSpec:
    id: str
    tier: Tier
    releasable_to: tuple[str, ...] | None
    recipients: tuple[str, ...] | None
    originator_controlled: bool
    embargo_until: str | None


@dataclass(frozen=True)
class VersionSpec:
    modified: str
    refs: tuple[str, ...]
    granular: tuple[tuple[str, str], ...]  # (selector, marking ref)
    description: str | None
    victim: bool
    internal_pattern: bool
    released: bool


@dataclass(frozen=True)
class IndicatorSpec:
    id: str
    collection: str  # "main" (every partner reads it), "extra" (some do) or "secret" (nobody does)
    versions: tuple[VersionSpec, ...]


@dataclass(frozen=True)
class RelationshipSpec:
    id: str
    source: str
    target: str
    refs: tuple[str, ...]
    description: str | None
    released: bool


@dataclass(frozen=True)
class Scenario:
    partners: tuple[PartnerSpec, ...]
    policy: PolicySpec
    markings: tuple[MarkingSpec, ...]
    indicators: tuple[IndicatorSpec, ...]
    relationships: tuple[RelationshipSpec, ...]
    limit: int  # page size for the paged reads


def maybe(values: tuple[str, ...], odds: int = 1) -> st.SearchStrategy[tuple[str, ...] | None]:
    """None (no restriction) `odds` times as often as a non-empty list of distinct values."""
    some = st.lists(st.sampled_from(values), min_size=1, unique=True).map(tuple)
    return st.sampled_from(range(odds + 1)).flatmap(lambda i: some if i == 0 else st.none())


uuids = st.uuids(version=4).map(str)


@st.composite
def partners_(draw: st.DrawFn) -> tuple[PartnerSpec, ...]:
    return tuple(
        PartnerSpec(
            name,
            draw(TRUST),
            draw(st.sampled_from(COUNTRIES)),
            draw(st.sampled_from(KINDS)),
            tuple(draw(st.lists(st.sampled_from(SECTORS), unique=True))),
            draw(st.sampled_from([False, False, False, False, True])),
            draw(st.booleans()),
        )
        for name in PARTNERS[: draw(st.integers(2, len(PARTNERS)))]
    )


NAMES = (*PARTNERS, OUTSIDER)
PROFILES = st.sampled_from([None, REDACT])
TRUST = st.sampled_from([None, 1, 1, 2, 2, 3, 4])  # None: not vetted


@st.composite
def rules_(draw: st.DrawFn, i: int) -> RuleSpec:
    partners, groups = draw(maybe(NAMES, 2)), draw(maybe(GROUPS, 3))
    need_to_know = partners is not None or groups is not None
    return RuleSpec(
        f"r{i}",
        draw(st.sampled_from([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER] if need_to_know else [Tlp.CLEAR, Tlp.GREEN])),
        draw(st.sampled_from(list(Tier))),
        draw(st.sampled_from([None, None, (1, 2), (1, 2, 3), (3, 4), (4,)])),
        draw(maybe(KINDS, 3)),
        draw(maybe(COUNTRIES, 3)),
        draw(maybe(SECTORS, 3)),
        partners,
        groups,
        draw(PROFILES),
    )


@st.composite
def policies_(draw: st.DrawFn) -> PolicySpec:
    rules = tuple(draw(rules_(i)) for i in range(draw(st.integers(1, 4))))
    if draw(st.integers(0, 2)) == 0:
        # Now and then a generous policy, so that the objects' own markings decide.
        every = RuleSpec(
            "everyone", Tlp.AMBER, Tier.OFFENSIVE, None, None, None, None, PARTNERS, None, draw(PROFILES)
        )
        rules = (every, *rules)
    agreements = tuple(
        AgreementSpec(
            f"a{i}",
            draw(st.lists(st.sampled_from(NAMES), min_size=1, unique=True).map(tuple)),
            draw(st.sampled_from([Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER])),
            draw(st.sampled_from(list(Tier))),
            draw(st.sampled_from([None, "2020-01-01", "2099-01-01"])),
            draw(PROFILES),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    groups = {g: draw(st.lists(st.sampled_from(NAMES), min_size=1, unique=True).map(tuple)) for g in GROUPS}
    return PolicySpec(
        rules,
        agreements,
        groups,
        draw(st.sampled_from([Tlp.CLEAR, Tlp.GREEN, Tlp.GREEN, Tlp.AMBER, Tlp.RED])),
        draw(st.sampled_from([Tier.PUBLIC, Tier.PUBLIC, Tier.DEFENSIVE, Tier.SENSITIVE])),
        draw(PROFILES),
    )


markings_ = st.lists(
    st.builds(
        MarkingSpec,
        uuids.map(lambda u: f"marking-definition--{u}"),
        st.sampled_from(
            [Tier.PUBLIC, Tier.PUBLIC, Tier.DEFENSIVE, Tier.DEFENSIVE, Tier.SENSITIVE, Tier.OFFENSIVE]
        ),
        maybe((*COUNTRIES, *(f"group:{g}" for g in GROUPS)), 2),
        maybe(NAMES, 1),
        st.sampled_from([False, False, True]),
        st.sampled_from([None, None, None, PAST, FUTURE]),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda m: m.id,
)


def marking_pool(markings: tuple[MarkingSpec, ...]) -> list[str]:
    """Marking references to draw from: the lighter TLP levels more often, as in real feeds."""
    tlps = [
        Tlp.CLEAR,
        Tlp.CLEAR,
        Tlp.GREEN,
        Tlp.GREEN,
        Tlp.GREEN,
        Tlp.AMBER,
        Tlp.AMBER,
        Tlp.AMBER_STRICT,
        Tlp.RED,
    ]
    return [*(TLP_REF[t] for t in tlps), *(m.id for m in markings for _ in range(3))]


@st.composite
def refs_(draw: st.DrawFn, markings: tuple[MarkingSpec, ...], most: int = 2) -> tuple[str, ...]:
    pool = marking_pool(markings)
    return tuple(draw(st.lists(st.sampled_from(pool), max_size=most, unique=True)))


@st.composite
def version_(
    draw: st.DrawFn, markings: tuple[MarkingSpec, ...], modified: str, before: VersionSpec | None
) -> VersionSpec:
    """A new version often keeps the markings of the one before (as most do), so versions sharing one
    label, some released and some not, are common. Granular markings mostly cover optional properties
    (name, description: redacted when not cleared) and now and then the required `pattern` (which then
    marks the whole object)."""
    description = draw(st.sampled_from([None, PLAIN_TEXT, INTERNAL_TEXT]))
    selectors = ["name", "pattern"] + (["description"] if description is not None else [])
    if before is not None and draw(st.integers(0, 2)) > 0:
        refs = before.refs
        granular = tuple((sel, ref) for sel, ref in before.granular if sel in selectors)
    else:
        refs = draw(refs_(markings))
        # How many markings cover each selector: mostly none, sometimes one, now and then two.
        counts = {"name": [0, 0, 1, 1, 2], "description": [0, 0, 1, 1, 2], "pattern": [0] * 7 + [1]}
        pool = st.sampled_from(marking_pool(markings))
        granular = ()
        for sel in selectors:
            n = draw(st.sampled_from(counts[sel]))
            refs_here = draw(st.lists(pool, min_size=n, max_size=n, unique=True))
            granular += tuple((sel, ref) for ref in refs_here)
    return VersionSpec(
        modified,
        refs,
        granular,
        description,
        draw(st.booleans()),
        draw(st.integers(0, 3)) == 0,
        draw(st.booleans()),
    )


@st.composite
def versions_(draw: st.DrawFn, markings: tuple[MarkingSpec, ...]) -> tuple[VersionSpec, ...]:
    found: list[VersionSpec] = []
    for modified in TIMES[: draw(st.integers(1, 3))]:
        found.append(draw(version_(markings, modified, found[-1] if found else None)))
    return tuple(found)


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    markings = tuple(draw(markings_))
    indicators = tuple(
        IndicatorSpec(
            f"indicator--{draw(uuids)}",
            draw(st.sampled_from(["main", "main", "main", "extra", "extra", "secret"])),
            draw(versions_(markings)),
        )
        for _ in range(draw(st.integers(2, 6)))
    )
    stored = [i.id for i in indicators]
    # Point often at an indicator the sanitiser may withhold, and once in a while at one never stored.
    internal = [i.id for i in indicators if any(v.internal_pattern for v in i.versions)] or stored
    targets = st.sampled_from(stored) | st.sampled_from(internal) | st.just(NEVER_STORED)
    pointers = tuple(
        RelationshipSpec(
            f"{kind}--{draw(uuids)}",
            draw(st.sampled_from(stored)),
            draw(targets),
            draw(refs_(markings, 1)),
            draw(st.sampled_from([None, PLAIN_TEXT, INTERNAL_TEXT])),
            draw(st.booleans()),
        )
        for kind in draw(st.lists(st.sampled_from(["relationship", "relationship", "sighting"]), max_size=4))
    )
    return Scenario(
        draw(partners_()), draw(policies_()), markings, indicators, pointers, draw(st.integers(1, 4))
    )


# --- STIX and YAML for a scenario -------------------------------------------------------------------------


def marking_object(m: MarkingSpec) -> dict[str, Any]:
    content: dict[str, Any] = {"extension_type": "property-extension", "tier": m.tier.name.lower()}
    if m.releasable_to is not None:
        content["releasable_to"] = list(m.releasable_to)
    if m.recipients is not None:
        content["recipients"] = list(m.recipients)
    if m.originator_controlled:
        content["originator_controlled"] = True
    if m.embargo_until is not None:
        content["embargo_until"] = m.embargo_until
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": m.id,
        "created": TIMES[0],
        "extensions": {GESHER_MARKING_EXTENSION_ID: content},
    }


def indicator_object(ind: IndicatorSpec, v: VersionSpec) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": ind.id,
        "created": TIMES[0],
        "modified": v.modified,
        "name": f"indicator {ind.id[-6:]}",
        "pattern": INTERNAL_PATTERN
        if v.internal_pattern
        else f"[domain-name:value = 'x{ind.id[-6:]}.example']",
        "pattern_type": "stix",
        "valid_from": TIMES[0],
    }
    if v.description is not None:
        obj["description"] = v.description
    if v.victim:
        obj["x_victim_name"] = "Acme Hospital"
    if v.refs:
        obj["object_marking_refs"] = list(v.refs)
    if v.granular:
        obj["granular_markings"] = [{"selectors": [sel], "marking_ref": ref} for sel, ref in v.granular]
    return obj


def relationship_object(r: RelationshipSpec) -> dict[str, Any]:
    """A relationship (source -> target) or a sighting (of the target), as the spec's id says."""
    obj: dict[str, Any] = {
        "type": r.id.split("--")[0],
        "spec_version": "2.1",
        "id": r.id,
        "created": TIMES[0],
        "modified": TIMES[0],
    }
    if obj["type"] == "relationship":
        obj.update(relationship_type="related-to", source_ref=r.source, target_ref=r.target)
    else:
        obj["sighting_of_ref"] = r.target
    if r.description is not None:
        obj["description"] = r.description
    if r.refs:
        obj["object_marking_refs"] = list(r.refs)
    return obj


def pointed(obj: dict[str, Any]) -> set[str]:
    """The objects a relationship or sighting points at."""
    return {str(obj[k]) for k in ("source_ref", "target_ref", "sighting_of_ref") if k in obj}


def policy_yaml(p: PolicySpec) -> str:
    def seq(values: tuple[object, ...]) -> str:
        return "[" + ", ".join(str(v) for v in values) + "]"

    lines = ["version: 1", "defaults:"]
    lines.append(f"  tlp: {TLP_NAME[p.default_tlp]}")
    lines.append(f"  tier: {p.default_tier.name.lower()}")
    if p.default_profile:
        lines.append(f"  profile: {p.default_profile}")
    lines += ["profiles:", PROFILE_YAML.rstrip("\n"), "groups:"]
    lines += [f"  {g}: {seq(members)}" for g, members in p.groups.items()]
    if p.rules:
        lines.append("rules:")
    for r in p.rules:
        lines.append(f"  - name: {r.name}")
        for key in ("trust_tiers", "kinds", "countries", "sectors", "partners", "groups"):
            value = getattr(r, key)
            if value is not None:
                lines.append(f"    {key}: {seq(value)}")
        lines += [f"    max_tlp: {TLP_NAME[r.max_tlp]}", f"    max_tier: {r.max_tier.name.lower()}"]
        if r.profile:
            lines.append(f"    profile: {r.profile}")
    if p.agreements:
        lines.append("agreements:")
    for a in p.agreements:
        lines += [f"  - name: {a.name}", f"    partners: {seq(a.partners)}"]
        lines += [f"    max_tlp: {TLP_NAME[a.max_tlp]}", f"    max_tier: {a.max_tier.name.lower()}"]
        if a.expires:
            lines.append(f"    expires: {a.expires}")
        if a.profile:
            lines.append(f"    profile: {a.profile}")
    return "\n".join(lines) + "\n"


# --- the oracle: the documented rules, read independently --------------------------------------------------


@dataclass(frozen=True)
class Label:
    tlp: Tlp | None
    tier: Tier | None
    releasable_to: frozenset[str] | None = None
    recipients: frozenset[str] | None = None
    embargoed: bool = False
    originator_controlled: bool = False
    named_only: bool = False  # a marking definition naming recipients is shown only to them


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    gated: bool = False  # needs a second analyst's release approval
    profile: str | None = None


def combine(refs: tuple[str, ...], markings: dict[str, MarkingSpec]) -> Label:
    """Markings only ever tighten: the highest TLP and tier, releasable only where every marking allows,
    named recipients only those every marking names, the latest embargo, originator control if any."""
    tlps = [TLP_OF[r] for r in refs if r in TLP_OF]
    ms = [markings[r] for r in refs if r in markings]

    def every(sets: list[tuple[str, ...] | None]) -> frozenset[str] | None:
        given_ = [frozenset(s) for s in sets if s is not None]
        return frozenset.intersection(*given_) if given_ else None

    return Label(
        tlp=max(tlps) if tlps else None,
        tier=max(m.tier for m in ms) if ms else None,
        releasable_to=every([m.releasable_to for m in ms]),
        recipients=every([m.recipients for m in ms]),
        embargoed=any(m.embargo_until == FUTURE for m in ms),
        originator_controlled=any(m.originator_controlled for m in ms),
    )


def definition_label(m: MarkingSpec) -> Label:
    """A marking definition is TLP:CLEAR public; one naming recipients is shown only to them, and one
    releasable to some countries or groups only there."""
    rec = frozenset(m.recipients) if m.recipients is not None else None
    to = frozenset(m.releasable_to) if m.releasable_to is not None else None
    return Label(Tlp.CLEAR, Tier.PUBLIC, to, rec, named_only=rec is not None)


def verdict(p: PartnerSpec, label: Label, pol: PolicySpec) -> Verdict:
    tlp = label.tlp if label.tlp is not None else pol.default_tlp
    tier = label.tier if label.tier is not None else pol.default_tier
    gated = tier >= Tier.SENSITIVE or tlp >= Tlp.AMBER_STRICT
    no = Verdict(False, gated)
    groups = {g for g, members in pol.groups.items() if p.name in members}
    named = label.recipients is not None and p.name in label.recipients
    group_named = label.releasable_to is not None and any(f"group:{g}" in label.releasable_to for g in groups)
    if p.suspended or label.embargoed:
        return no
    if label.releasable_to is not None and p.country not in label.releasable_to and not group_named:
        return no
    if (label.originator_controlled or label.named_only) and not named:
        return no
    if p.trust is None and (tlp > Tlp.CLEAR or tier > Tier.PUBLIC):
        return no
    # (max_tlp, max_tier, need-to-know, profile), rules then agreements in the order of the policy file
    grants = [
        (r.max_tlp, r.max_tier, r.partners is not None or r.groups is not None, r.profile)
        for r in pol.rules
        if (r.trust_tiers is None or p.trust in r.trust_tiers)
        and (r.kinds is None or p.kind in r.kinds)
        and (r.countries is None or p.country in r.countries)
        and (r.sectors is None or set(r.sectors) & set(p.sectors))
        and (r.partners is None or p.name in r.partners)
        and (r.groups is None or set(r.groups) & groups)
    ] + [
        (a.max_tlp, a.max_tier, True, a.profile)
        for a in pol.agreements
        if p.name in a.partners and a.expires != "2020-01-01"
    ]
    reaching = [g for g in grants if g[1] >= tier]
    if tier > Tier.PUBLIC and not reaching:
        return no
    first = reaching[0] if reaching else None
    if tlp >= Tlp.AMBER_STRICT:
        chosen = first if named else False
    elif tlp == Tlp.CLEAR:
        chosen = first
    elif tlp == Tlp.GREEN:
        vetted = next((g for g in reaching if g[0] >= Tlp.GREEN), None)
        chosen = vetted if vetted is not None else (first if named or group_named else False)
    else:
        need = next((g for g in reaching if g[0] >= Tlp.AMBER and g[2]), None)
        chosen = need if need is not None else (first if named or group_named else False)
    if chosen is False:
        return no
    profile = chosen[3] if chosen is not None and chosen[3] else pol.default_profile
    return Verdict(True, gated, profile)


@dataclass
class Expected:
    """One stored version and what the oracle says each partner receives of it."""

    object_id: str
    version: str
    collection: str
    stored: dict[str, Any]
    label: Label
    # partner -> the body it must receive; None: it must not receive it
    body: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    # partner -> why it is withheld although its label is allowed ("gate", "sanitiser", "pointer")
    withheld: dict[str, str] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)  # partners whose label the oracle denies


def redacted(stored: dict[str, Any], hidden: set[str], profile: str | None) -> dict[str, Any] | None:
    """The body a partner receives: granularly marked properties it may not see removed; under the redact
    profile x_victim_name dropped, internal addresses in free text redacted, and an indicator whose
    pattern names one withheld (None)."""
    out = copy.deepcopy(stored)
    gone = {h for h in hidden if h in out}
    if profile == REDACT:
        if out.get("pattern") == INTERNAL_PATTERN:
            return None
        if out.get("description") == INTERNAL_TEXT:
            out["description"] = INTERNAL_REDACTED
        if "x_victim_name" in out:
            gone.add("x_victim_name")
    for name in gone:
        del out[name]
    if gone and "granular_markings" in out:
        kept = [
            {**g, "selectors": [s for s in g["selectors"] if s not in gone]} for g in out["granular_markings"]
        ]
        kept = [g for g in kept if g["selectors"]]
        if kept:
            out["granular_markings"] = kept
        else:
            del out["granular_markings"]
    return out


REQUIRED = frozenset({"pattern"})  # of the selectors drawn, the one an indicator cannot do without


def whole_refs(v: VersionSpec) -> tuple[str, ...]:
    """A granular marking on a required property cannot be redacted away: it marks the whole object."""
    return (*v.refs, *(ref for sel, ref in v.granular if sel in REQUIRED))


def expectations(s: Scenario) -> list[Expected]:
    markings = {m.id: m for m in s.markings}
    pol = s.policy
    found: list[Expected] = []
    for m in s.markings:
        found.append(Expected(m.id, TIMES[0], "main", marking_object(m), definition_label(m)))
    versions: list[tuple[Expected, VersionSpec | None, bool]] = []
    for ind in s.indicators:
        for v in ind.versions:
            obj = indicator_object(ind, v)
            e = Expected(ind.id, v.modified, ind.collection, obj, combine(whole_refs(v), markings))
            versions.append((e, v, v.released))
    for r in s.relationships:
        e = Expected(r.id, TIMES[0], "main", relationship_object(r), combine(r.refs, markings))
        versions.append((e, None, r.released))
    for p in s.partners:
        for e in found:  # marking definitions: never gated, never redacted
            v = verdict(p, e.label, pol)
            e.body[p.name] = e.stored if v.allowed else None
            if not v.allowed:
                e.denied.add(p.name)
        for e, spec, released in versions:
            whole = verdict(p, e.label, pol)
            if not whole.allowed:
                e.body[p.name] = None
                e.denied.add(p.name)
                continue
            if e.collection not in p.reads:
                e.body[p.name] = None
                continue
            if whole.gated and not released:
                e.body[p.name] = None
                e.withheld[p.name] = "gate"
                continue
            hidden: set[str] = set()
            covering: dict[str, list[str]] = {}
            for selector, ref in spec.granular if spec is not None else ():
                if selector not in REQUIRED:  # (a required one is part of the whole object's label)
                    covering.setdefault(selector, []).append(ref)
            for selector, refs in covering.items():
                # Every marking covering a property applies to it; one needing a release the object
                # does not need is held back until the version is released.
                part = verdict(p, combine((*whole_refs(spec), *refs), markings), pol)  # type: ignore[union-attr]
                if not part.allowed or (part.gated and not whole.gated and not released):
                    hidden.add(selector)
            body = redacted(e.stored, hidden, whole.profile)
            e.body[p.name] = body
            if body is None:
                e.withheld[p.name] = "sanitiser"
    found += [e for e, _, _ in versions]
    _spoil(s, [e for e, _, _ in versions])
    _pointers(s, found)
    return found


def _spoil(s: Scenario, versions: list[Expected]) -> None:
    """An object one of whose versions a partner's profile withholds is withheld whole from that partner
    (serving the others would let `match[version]` last or first betray the withheld one)."""
    for p in s.partners:
        spoiled = {(e.object_id, e.collection) for e in versions if e.withheld.get(p.name) == "sanitiser"}
        for e in versions:
            if (e.object_id, e.collection) in spoiled and isinstance(e.body.get(p.name), dict):
                e.body[p.name] = None
                e.withheld[p.name] = "sanitiser"


def _pointers(s: Scenario, found: list[Expected]) -> None:
    """A relationship or sighting pointing at an object the exchange holds but the partner receives no
    version of (in the collections it reads, for whatever reason) is withheld."""
    held = {i.id for i in s.indicators}
    for p in s.partners:
        served = {e.object_id for e in found if isinstance(e.body.get(p.name), dict)}
        for e in found:
            pointer = e.stored["type"] in ("relationship", "sighting")
            if pointer and isinstance(e.body.get(p.name), dict) and not pointed(e.stored) & held <= served:
                e.body[p.name] = None
                e.withheld[p.name] = "pointer"


# --- building a node for a scenario -----------------------------------------------------------------------


COLLECTIONS = ("main", "extra", "secret")


@dataclass
class Built:
    node: Node
    client: TestClient
    ids: dict[str, str]  # collection name -> id
    tokens: dict[str, str]

    @property
    def main(self) -> str:
        return self.ids["main"]

    @property
    def names(self) -> dict[str, str]:
        return {cid: name for name, cid in self.ids.items()}


@contextmanager
def built(s: Scenario, db_kind: str, request: pytest.FixtureRequest) -> Iterator[Built]:
    note(policy_yaml(s.policy))
    with tempfile.TemporaryDirectory(prefix="gesher-enf-") as tmp:
        if db_kind == "sqlite":
            url_cm: Any = nullcontext(f"sqlite:///{Path(tmp) / 'gesher.db'}")
        else:
            url_cm = fresh_postgres_database(request.getfixturevalue("pg_base_uri"), "enf")
        with url_cm as url:
            node = Node.init(Settings(data_dir=Path(tmp), database_url=url))
            try:
                ids, tokens = populate(node, s)
                with TestClient(create_app(node.settings, node)) as client:
                    yield Built(node, client, ids, tokens)
            finally:
                node.db.dispose()


def populate(node: Node, s: Scenario) -> tuple[dict[str, str], dict[str, str]]:
    tokens: dict[str, str] = {}
    with node.db.write() as conn:
        collections = {name: create_collection(conn, "test", name, "") for name in COLLECTIONS}
        for p in s.partners:
            row, tokens[p.name] = service.create_partner(conn, "test", p.name, p.country, p.kind)
            row = service.set_standing(
                conn,
                "test",
                row,
                "scenario",
                trust_tier=p.trust,
                sectors=list(p.sectors),
                suspended=p.suspended,
            )
            service.grant(conn, "test", row, collections["main"], True, False)
            if p.extra:
                service.grant(conn, "test", row, collections["extra"], True, False)
        policies.load(conn, "test", policy_yaml(s.policy), "scenario.yaml", "scenario")
        objects: dict[str, list[dict[str, Any]]] = {name: [] for name in COLLECTIONS}
        objects["main"] += [marking_object(m) for m in s.markings]
        for ind in s.indicators:
            objects[ind.collection] += [indicator_object(ind, v) for v in ind.versions]
        objects["main"] += [relationship_object(r) for r in s.relationships]
        for name, batch in objects.items():
            if batch:
                result = add_objects(conn, collections[name].id, batch, None)
                assert not result.failures, result.failures
        for object_id, version, released in releases(s):
            if released:
                release.request(conn, "analyst-a", object_id, "ready", version=version)
                release.approve(conn, "analyst-b", object_id, "checked", version=version)
    return {name: c.id for name, c in collections.items()}, tokens


# --- reading what a partner receives ----------------------------------------------------------------------


def headers(b: Built, who: str) -> dict[str, str]:
    return {"Accept": TAXII, "Authorization": f"Bearer {b.tokens[who]}"}


def version_of(obj: dict[str, Any]) -> str:
    return str(obj.get("modified", obj.get("created")))


Trail = list[tuple[list[Any], str | None, str | None]]  # per page: items, X-TAXII-Date-Added-First, -Last


def paged(
    b: Built, who: str, path: str, key: str, limit: int, trail: Trail | None = None, **params: str
) -> list[Any]:
    """Every item of a paged TAXII read, following `next`; each page full unless it is the last. A page
    with items carries both date-added headers; an empty one neither (nothing hidden is dated)."""
    items: list[Any] = []
    query: dict[str, str] = {**params, "limit": str(limit)}
    for _ in range(1000):
        r = b.client.get(f"{ROOT}{path}", headers=headers(b, who), params=query)
        assert r.status_code == 200, (path, r.text)
        body = r.json()
        page = body.get(key, [])
        assert len(page) <= limit
        first, last = r.headers.get("X-TAXII-Date-Added-First"), r.headers.get("X-TAXII-Date-Added-Last")
        assert (first is not None) == (last is not None) == bool(page), (path, first, last, len(page))
        if trail is not None:
            trail.append((page, first, last))
        items.extend(page)
        if not body.get("more"):
            assert "next" not in body
            return items
        assert len(page) == limit, "a short page with more: something hidden was counted"
        query = {**params, "limit": str(limit), "next": body["next"]}
    raise AssertionError("paging never ended")


def served_all(
    b: Built, who: str, limit: int, collection: str = "main", **params: str
) -> list[dict[str, Any]]:
    return paged(b, who, f"/collections/{b.ids[collection]}/objects/", "objects", limit, **params)


def exported(b: Built, who: str, every: bool = True, collection: str = "main") -> list[dict[str, Any]] | None:
    """The export bundle's objects as the CLI writes them for this partner; None when refused."""
    query = TaxiiQuery(versions=Versions(latest=not every, every=every))
    with b.node.db.read() as conn:
        try:
            out = Outbound(conn, principal_by_name(conn, who), b.node.clearance)
            chunks = bundle_chunks(out, b.ids[collection], query)
        except NotFound:
            return None
        bundle = orjson.loads(b"".join(chunks))
    assert bundle["type"] == "bundle"
    objects: list[dict[str, Any]] = bundle["objects"]
    return objects


def keyed(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    found = {(o["id"], version_of(o)): o for o in objects}
    assert len(found) == len(objects), "a version served twice"
    return found


def not_found_shape(r: Any, object_id: str) -> tuple[int, str | None, bytes]:
    return r.status_code, r.headers.get("content-type"), r.content.replace(object_id.encode(), b"<id>")


SECRET_WORDS = (b"x_victim_name", b"10.1.2.3", b"srv.corp", b"10.9.8.7")


# --- the properties ---------------------------------------------------------------------------------------


@EXAMPLES
@given(s=scenarios())
def test_served_is_what_the_oracle_allows(s: Scenario, db_kind: str, request: pytest.FixtureRequest) -> None:
    """(a) nothing the oracle denies is served; (b) everything it allows is, unless withheld for a documented
    reason; (c) bodies carry no property the partner may not see; export and explain agree with TAXII."""
    with built(s, db_kind, request) as b:
        check_served(b, s)
        check_pointers(b, s)


@settings(EXAMPLES, max_examples=20)
@given(s=scenarios(), data=st.data())
def test_changes_take_effect_at_the_next_request(
    s: Scenario, data: st.DataObject, db_kind: str, request: pytest.FixtureRequest
) -> None:
    """After every partner has read (warming every cache), a new policy, changed standings (trust tier,
    suspension) and releases approved or revoked apply to the very next request, on every way out."""
    with built(s, db_kind, request) as b:
        check_served(b, s)
        after = data.draw(changed(s))
        note(policy_yaml(after.policy))
        apply_changes(b, s, after)
        check_served(b, after)
        check_pointers(b, after)


EVERY = {"match[version]": "all"}


def check_served(b: Built, s: Scenario) -> None:
    expected = expectations(s)
    for p in s.partners:
        if p.suspended:
            for name in ("main", "extra"):
                r = b.client.get(f"{ROOT}/collections/{b.ids[name]}/objects/", headers=headers(b, p.name))
                assert r.status_code == 401
                assert not (exported(b, p.name, collection=name) or [])
            check_explain(b, p, expected)
            continue
        for name in COLLECTIONS:
            if name not in p.reads:  # a collection it may not read does not exist for it
                r = b.client.get(f"{ROOT}/collections/{b.ids[name]}/objects/", headers=headers(b, p.name))
                assert r.status_code == 404
                assert exported(b, p.name, collection=name) is None
                continue
            got = keyed(served_all(b, p.name, 1000, name, **EVERY))
            for e in (e for e in expected if e.collection == name):
                want = e.body.get(p.name)
                have = got.pop((e.object_id, e.version), None)
                where = (p, name, e.object_id, e.version, e.label, e.withheld.get(p.name))
                if p.name in e.denied:
                    assert have is None, ("(a) served although the oracle denies it", where)
                elif want is None:
                    assert have is None, ("withheld by the oracle for a documented reason, yet served", where)
                else:
                    assert have == want, ("(b)/(c) served body differs", where, have, want)
                if have is not None and want is not None:
                    raw, clean = orjson.dumps(have), orjson.dumps(want)
                    for word in SECRET_WORDS:
                        assert (word in raw) == (word in clean), ("(c)", word, where)
            assert not got, ("served versions that were never stored there", name, sorted(got))
            assert exported(b, p.name, collection=name) == served_all(b, p.name, 1000, name, **EVERY)
        check_explain(b, p, expected)


def check_explain(b: Built, p: PartnerSpec, expected: list[Expected]) -> None:
    """(f) `policy explain` says a partner receives a version exactly when TAXII serves it, as served, and
    its decision is the oracle's."""
    served = {
        (name, o["id"], version_of(o)): o
        for name in p.reads
        for o in served_all(b, p.name, 1000, name, **EVERY)
    }
    oracle = {(e.collection, e.object_id, e.version): e for e in expected}
    with b.node.db.read() as conn:
        for object_id in dict.fromkeys(e.object_id for e in expected):
            for x in policies.explain(conn, b.node.clearance, p.name, object_id):
                have = served.get((x.collection, object_id, x.version))
                where = (p, object_id, x.version, x.collection, x.decision)
                assert x.receives == (have is not None), where
                assert x.can_read_collection == (x.collection in p.reads), where
                if have is not None:
                    assert x.served is not None and orjson.loads(x.served) == have
                e = oracle[(x.collection, object_id, x.version)]
                assert x.decision is not None
                assert x.decision.allowed == (p.name not in e.denied), (
                    "explain disagrees with the oracle",
                    where,
                )
                lines = policies.explanation_lines(x)
                assert lines
                if e.withheld.get(p.name) == "gate" and x.can_read_collection:
                    assert any("pending" in line for line in lines), lines


@st.composite
def changed(draw: st.DrawFn, s: Scenario) -> Scenario:
    """The scenario after an operator's changes: a new policy, some partners re-vetted or (un)suspended,
    some releases approved and some revoked, and new versions (perhaps with new labels) ingested."""
    partners = tuple(
        dataclasses.replace(
            p,
            trust=draw(TRUST),
            suspended=draw(st.sampled_from([False, False, True])),
            extra=draw(st.booleans()),
        )
        if draw(st.booleans())
        else p
        for p in s.partners
    )

    def flip(released: bool) -> bool:
        return not released if draw(st.integers(0, 2)) == 0 else released

    indicators = tuple(
        dataclasses.replace(
            i,
            versions=(
                *(dataclasses.replace(v, released=flip(v.released)) for v in i.versions),
                *(
                    [draw(version_(s.markings, LATER, i.versions[-1]))]
                    if draw(st.integers(0, 2)) == 0
                    else []
                ),
            ),
        )
        for i in s.indicators
    )
    relationships = tuple(dataclasses.replace(r, released=flip(r.released)) for r in s.relationships)
    return dataclasses.replace(
        s, partners=partners, policy=draw(policies_()), indicators=indicators, relationships=relationships
    )


def apply_changes(b: Built, before: Scenario, after: Scenario) -> None:
    with b.node.db.write() as conn:
        known = {(i.id, v.modified) for i in before.indicators for v in i.versions}
        for ind in after.indicators:
            fresh = [indicator_object(ind, v) for v in ind.versions if (ind.id, v.modified) not in known]
            if fresh:
                result = add_objects(conn, b.ids[ind.collection], fresh, None)
                assert not result.failures, result.failures
        policies.load(conn, "operator", policy_yaml(after.policy), "changed.yaml", "a new policy")
        for old, new in zip(before.partners, after.partners, strict=True):
            if old != new:
                row = service.require_partner(conn, new.name)
                service.set_standing(
                    conn, "operator", row, "re-vetted", trust_tier=new.trust, suspended=new.suspended
                )
                extra = require_collection(conn, b.ids["extra"])
                service.grant(conn, "operator", row, extra, new.extra, False)
        was = {(oid, v): r for oid, v, r in releases(before)}
        for object_id, version, released in releases(after):
            if released and not was.get((object_id, version), False):
                release.request(conn, "analyst-c", object_id, "ready now", version=version)
                release.approve(conn, "analyst-d", object_id, "checked", version=version)
            elif was.get((object_id, version), False) and not released:
                release.revoke(conn, "analyst-d", object_id, "withdrawn", version=version)


def releases(s: Scenario) -> list[tuple[str, str, bool]]:
    found = [(i.id, v.modified, v.released) for i in s.indicators for v in i.versions]
    return found + [(r.id, TIMES[0], r.released) for r in s.relationships]


@EXAMPLES
@given(s=scenarios())
def test_endpoints_agree_page_cleanly_and_hide_like_absence(
    s: Scenario, db_kind: str, request: pytest.FixtureRequest
) -> None:
    """(d) manifest, objects, object and versions endpoints agree, and small pages neither repeat nor skip;
    (e) an object the partner may not see answers exactly as an id that was never stored."""
    expected = expectations(s)
    ids = list(dict.fromkeys(e.object_id for e in expected))
    with built(s, db_kind, request) as b:
        for p in s.partners:
            for name in p.reads:
                check_endpoints(b, p, name, ids, s.limit)


@settings(EXAMPLES, max_examples=15)
@given(s=scenarios())
def test_latest_and_first_are_the_partners_own(
    s: Scenario, db_kind: str, request: pytest.FixtureRequest
) -> None:
    """Hidden versions are as absent for `match[version]` last (the default) and first as for `all`."""
    with built(s, db_kind, request) as b:
        for p in s.partners:
            for name in p.reads:
                check_latest(b, p, name, s.limit)


def check_endpoints(b: Built, p: PartnerSpec, name: str, ids: list[str], limit: int) -> None:
    base = f"/collections/{b.ids[name]}"
    full = served_all(b, p.name, 1000, name, **EVERY)
    pages: Trail = []
    small = paged(b, p.name, f"{base}/objects/", "objects", limit, pages, **EVERY)
    assert small == full, "paging repeated or skipped something"
    manifest_pages: Trail = []
    manifest = paged(b, p.name, f"{base}/manifest/", "objects", limit, manifest_pages, **EVERY)
    assert [(m["id"], m["version"]) for m in manifest] == [(o["id"], version_of(o)) for o in full]
    # The date-added headers are those of the first and last records served on the page, never a hidden
    # one's (the manifest says when each served version was added).
    added = {(m["id"], m["version"]): m["date_added"] for m in manifest}
    for page, first, last in (page for page in manifest_pages if page[0]):
        assert (first, last) == (page[0]["date_added"], page[-1]["date_added"])
    for page, first, last in (page for page in pages if page[0]):
        ends = (added[(page[0]["id"], version_of(page[0]))], added[(page[-1]["id"], version_of(page[-1]))])
        assert (first, last) == ends, (p, name, first, last, ends)
    absent: dict[tuple[str, str, bool], tuple[int, str | None, bytes]] = {}
    hidden_ids = [i for i in ids if not any(o["id"] == i for o in full)]
    # Two hidden objects of each type are enough (the answers for absent ids are computed once).
    sampled = [
        i
        for n, i in enumerate(hidden_ids)
        if [h.split("--")[0] for h in hidden_ids[:n]].count(i.split("--")[0]) < 2
    ]
    for object_id in ids:
        mine = [o for o in full if o["id"] == object_id]
        path = f"{base}/objects/{object_id}/"
        if mine:
            assert paged(b, p.name, path, "objects", limit, **EVERY) == mine
            versions = paged(b, p.name, f"{path}versions/", "versions", limit)
            assert versions == [version_of(o) for o in mine]
            continue
        if object_id not in sampled:
            continue
        kind = object_id.split("--")[0]
        for suffix, params in (("", {}), ("", EVERY), ("versions/", {})):
            key = (kind, suffix, bool(params))
            if key not in absent:
                ghost = f"{kind}--{uuid.uuid4()}"
                url = f"{ROOT}{base}/objects/{ghost}/{suffix}"
                absent[key] = not_found_shape(
                    b.client.get(url, headers=headers(b, p.name), params=params), ghost
                )
            hidden = b.client.get(f"{ROOT}{path}{suffix}", headers=headers(b, p.name), params=params)
            assert hidden.status_code == 404, ("(e)", p, name, object_id, suffix, hidden.text)
            assert not_found_shape(hidden, object_id) == absent[key], ("(e)", p, name, object_id, suffix)


def check_latest(b: Built, p: PartnerSpec, name: str, limit: int) -> None:
    """Hidden is indistinguishable from absent, also for `match[version]` last (the default) and first: were
    the hidden versions absent, `last` would answer the newest version the partner receives, and `first`
    the oldest. The manifest and the default export (latest only) agree."""
    full = served_all(b, p.name, 1000, name, **EVERY)
    for which, pick in (("last", max), ("first", min)):
        want: dict[str, str] = {}
        for o in full:
            want[o["id"]] = pick(want.get(o["id"], version_of(o)), version_of(o))
        params = {} if which == "last" else {"match[version]": which}
        got = [(o["id"], version_of(o)) for o in served_all(b, p.name, limit, name, **params)]
        missing = sorted(set(want.items()) - set(got))
        assert not missing, (f"match[version]={which}: versions it receives are missing", p, name, missing)
        assert sorted(got) == sorted(want.items()), (which, p, sorted(got), sorted(want.items()))
        manifest = paged(b, p.name, f"/collections/{b.ids[name]}/manifest/", "objects", limit, **params)
        assert [(m["id"], m["version"]) for m in manifest] == got
    latest = [(o["id"], version_of(o)) for o in exported(b, p.name, False, name) or []]
    assert latest == [(o["id"], version_of(o)) for o in served_all(b, p.name, 1000, name)]


def check_pointers(b: Built, s: Scenario) -> None:
    """A relationship or sighting is withheld when an object it points at is held by the exchange but the
    partner receives no version of it in any collection it reads, whatever the reason (its label, its
    collection, the release gate or the sanitiser)."""
    held = {i.id for i in s.indicators}
    for p in s.partners:
        served = [o for name in p.reads for o in served_all(b, p.name, 1000, name, **EVERY)]
        visible = {o["id"] for o in served}
        for o in served:
            if o["type"] in ("relationship", "sighting"):
                refs = pointed(o) & held
                assert refs <= visible, ("points at a hidden object", p, o["id"], sorted(refs - visible))


# --- regressions: the smallest known cases, kept apart so each names one problem -------------------------

SMALL_POLICY = f"""
version: 1
profiles:
{PROFILE_YAML}rules:
  - name: p1-everything
    partners: [p1]
    max_tlp: AMBER
    max_tier: offensive
    profile: {REDACT}
"""


@pytest.fixture
def small(node: Node) -> Iterator[Built]:
    """One collection, one vetted partner (p1) named by the policy, under the redact profile."""
    with node.db.write() as conn:
        main = create_collection(conn, "test", "main", "shared")
        secret = create_collection(conn, "test", "secret", "nobody reads it")
        row, token = service.create_partner(conn, "test", "p1", "GB", "government")
        row = service.set_standing(conn, "test", row, "vetted", trust_tier=1)
        service.grant(conn, "test", row, main, True, False)
        policies.load(conn, "test", SMALL_POLICY, "small.yaml", "test")
    with TestClient(create_app(node.settings, node)) as client:
        yield Built(node, client, {"main": main.id, "secret": secret.id}, {"p1": token})


def store(b: Built, *objects: dict[str, Any], approve: tuple[tuple[str, str], ...] = ()) -> None:
    with b.node.db.write() as conn:
        result = add_objects(conn, b.main, list(objects), None)
        assert not result.failures, result.failures
        for object_id, version in approve:
            release.request(conn, "analyst-a", object_id, "ready", version=version)
            release.approve(conn, "analyst-b", object_id, "checked", version=version)


def two_versions(**second: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    ind = IndicatorSpec(f"indicator--{uuid.uuid4()}", "main", ())
    v1 = VersionSpec(TIMES[0], (c.TLP2_GREEN,), (), None, False, False, False)
    first = indicator_object(ind, v1)
    return first, {**first, "modified": TIMES[1], **second}


def latest_everywhere(b: Built, object_id: str) -> dict[str, list[str]]:
    """The versions `p1` gets by default (match[version]=last) from each way out."""
    base = f"/collections/{b.main}"
    objects = served_all(b, "p1", 10, **{"match[id]": object_id})
    r = b.client.get(f"{ROOT}{base}/objects/{object_id}/", headers=headers(b, "p1"))
    single = r.json().get("objects", []) if r.status_code == 200 else []
    manifest = paged(b, "p1", f"{base}/manifest/", "objects", 10, **{"match[id]": object_id})
    export = [o for o in exported(b, "p1", every=False) or [] if o["id"] == object_id]
    return {
        "objects": [version_of(o) for o in objects],
        "object": [version_of(o) for o in single],
        "manifest": [m["version"] for m in manifest],
        "export": [version_of(o) for o in export],
        "all": [
            version_of(o)
            for o in served_all(b, "p1", 10, **{"match[id]": object_id, "match[version]": "all"})
        ],
    }


def test_a_newer_version_awaiting_release_leaves_the_released_one_as_the_latest(small: Built) -> None:
    """Both versions are TLP:GREEN and sensitive (one label); only the first is released. Were the second
    absent, `last` would answer the first: it must, or the partner learns that a newer version exists."""
    sensitive = MarkingSpec(f"marking-definition--{uuid.uuid4()}", Tier.SENSITIVE, None, None, False, None)
    v1, v2 = two_versions()
    v1["object_marking_refs"] = v2["object_marking_refs"] = [c.TLP2_GREEN, sensitive.id]
    store(small, marking_object(sensitive), v1, v2, approve=((v1["id"], TIMES[0]),))
    found = latest_everywhere(small, v1["id"])
    assert found == {way: [TIMES[0]] for way in ("objects", "object", "manifest", "export", "all")}


def test_an_object_whose_newer_version_the_sanitiser_withholds_is_withheld_whole(small: Built) -> None:
    """Same label; the second version's pattern names an internal address, so the redact profile withholds
    it. Answering the first version for `last` would tell the partner a newer one exists (the choice of
    latest is made before redaction), so the partner receives no version of it, by any way out."""
    v1, v2 = two_versions(pattern=INTERNAL_PATTERN)
    store(small, v1, v2)
    found = latest_everywhere(small, v1["id"])
    assert found == {way: [] for way in ("objects", "object", "manifest", "export", "all")}
    r = small.client.get(
        f"{ROOT}/collections/{small.main}/objects/{v1['id']}/versions/", headers=headers(small, "p1")
    )
    assert r.status_code == 404


def test_an_object_whose_older_version_the_sanitiser_withholds_is_withheld_whole(small: Built) -> None:
    """The versions carry different labels (TLP:AMBER, then TLP:GREEN), both granted to p1; the first
    version's pattern names an internal address, so the redact profile withholds it, and with it the
    object: `first` answering the second version would betray the first."""
    v1, v2 = two_versions()
    v1.update(pattern=INTERNAL_PATTERN, object_marking_refs=[c.TLP2_AMBER])
    store(small, v1, v2)
    for which in ("first", "last", "all"):
        assert served_all(small, "p1", 10, **{"match[id]": v1["id"], "match[version]": which}) == []


def test_a_relationship_to_an_object_the_sanitiser_withholds_is_withheld(small: Built) -> None:
    """The target's only version names an internal address: the partner never receives it (its object
    endpoint is a plain 404), so a relationship pointing at it would reveal that it exists."""
    visible, _ = two_versions()
    hidden, _ = two_versions(pattern=INTERNAL_PATTERN)
    hidden.pop("modified")
    hidden["modified"] = TIMES[0]
    hidden["pattern"] = INTERNAL_PATTERN
    rel = relationship_object(
        RelationshipSpec(
            f"relationship--{uuid.uuid4()}", visible["id"], hidden["id"], (c.TLP2_GREEN,), None, False
        )
    )
    store(small, visible, hidden, rel)
    ghost = f"indicator--{uuid.uuid4()}"
    base = f"{ROOT}/collections/{small.main}/objects"
    r_hidden = small.client.get(f"{base}/{hidden['id']}/", headers=headers(small, "p1"))
    r_ghost = small.client.get(f"{base}/{ghost}/", headers=headers(small, "p1"))
    assert not_found_shape(r_hidden, hidden["id"]) == not_found_shape(r_ghost, ghost)
    served = {o["id"] for o in served_all(small, "p1", 10, **{"match[version]": "all"})}
    assert visible["id"] in served and hidden["id"] not in served
    assert rel["id"] not in served, "the relationship names an object the partner may not see"


def test_a_property_needing_a_release_the_object_does_not_need_waits_for_one(small: Built) -> None:
    """The indicator is TLP:GREEN at the default (defensive) tier; its description carries a sensitive
    marking. p1 may receive sensitive material once a second analyst released it: until the version is
    released it is served without its description (and explain says so), afterwards with it."""
    sensitive = MarkingSpec(f"marking-definition--{uuid.uuid4()}", Tier.SENSITIVE, None, None, False, None)
    obj, _ = two_versions()
    obj.update(
        description=PLAIN_TEXT,
        granular_markings=[{"selectors": ["description"], "marking_ref": sensitive.id}],
    )
    store(small, marking_object(sensitive), obj)
    for released in (False, True):
        if released:
            store(small, approve=((obj["id"], TIMES[0]),))
        (served,) = [o for o in served_all(small, "p1", 10) if o["id"] == obj["id"]]
        held = ("description", "granular_markings")
        assert served == (obj if released else {k: v for k, v in obj.items() if k not in held})
        with small.node.db.read() as conn:
            (x,) = policies.explain(conn, small.node.clearance, "p1", obj["id"])
        assert x.receives and orjson.loads(x.served or b"null") == served
        lines = policies.explanation_lines(x)
        assert any("held back" in line and "description" in line for line in lines) is not released, lines


def test_time_ends_an_agreement_and_an_embargo_at_the_next_request(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clearance computed (and cached) before an agreement expires or an embargo ends holds only until
    then: the next request after that moment is decided afresh, on every way out. (Only the clock the
    clearance reads is moved.)"""
    moment = "2030-01-01T00:00:00.000Z"
    policy = f"""
version: 1
agreements:
  - name: mou
    partners: [p1]
    max_tlp: AMBER
    max_tier: defensive
    expires: {moment}
"""
    embargo = MarkingSpec(f"marking-definition--{uuid.uuid4()}", Tier.PUBLIC, None, None, False, moment)
    amber, _ = two_versions()
    amber["object_marking_refs"] = [c.TLP2_AMBER]
    embargoed, _ = two_versions()
    embargoed["object_marking_refs"] = [c.TLP2_CLEAR, embargo.id]
    with node.db.write() as conn:
        main = create_collection(conn, "test", "main", "")
        row, token = service.create_partner(conn, "test", "p1", "GB", "government")
        row = service.set_standing(conn, "test", row, "vetted", trust_tier=2)
        service.grant(conn, "test", row, main, True, False)
        policies.load(conn, "test", policy, "time.yaml", "test")
        assert not add_objects(conn, main.id, [marking_object(embargo), amber, embargoed], None).failures
    ours = {amber["id"], embargoed["id"]}
    seen = []
    with TestClient(create_app(node.settings, node)) as client:
        b = Built(node, client, {"main": main.id}, {"p1": token})
        for at in (to_micros(moment) - 1, to_micros(moment) + 1):
            monkeypatch.setattr(clearance_module, "now_micros", lambda at=at: at)
            taxii = {o["id"] for o in served_all(b, "p1", 10)} & ours
            export = {o["id"] for o in exported(b, "p1") or []} & ours
            with node.db.read() as conn:
                explained = {
                    oid
                    for oid in ours
                    if any(x.receives for x in policies.explain(conn, node.clearance, "p1", oid))
                }
            seen.append((taxii, export, explained))
    assert seen[0] == ({amber["id"]},) * 3, "before the moment: the agreement grants AMBER, the embargo holds"
    assert seen[1] == ({embargoed["id"]},) * 3, "after it: the agreement is over, the embargo has ended"
