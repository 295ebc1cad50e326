"""Impact reports over the disclosure ledger (issue 6, Build item 5), as pure computation on plain records:
no store, no clock, no rendering. `ledger_service.reports` reads the records from the store;
`ledger_service.report_render` prints what comes out.

What is counted:
- A *disclosure* is one object version served to one partner: one element of a disclosure entry's
  `objects`. A *response* is one ledger entry (one TAXII response). *Distinct* counts each
  (partner, object id, version) once in the period, on the day that partner first received that version in
  the period (first in ledger order, which is time order as the server appends), so daily distinct figures
  add up to the period's.
- An object's *sensitivity tier* and *TLP* are those of its access label (the store, by the id and version
  the entry names), with the defaults of the policy the disclosure was decided under where the label has
  none, exactly as the policy read it. A version no longer stored is `unknown`.
- `--by tier` groups by the recipient's *trust tier* (1 closest .. 4 restricted, `untiered`) as it stands
  now; the object's sensitivity tier is what the exposure and latency sections use.
- *Exposure* counts disclosures of sensitive or offensive tier, or TLP AMBER+STRICT or RED, by the
  recipient's country.
- *Reciprocity*: what each partner gave (distinct object versions it contributed in the period: ingest
  entries naming it as the source, and stored versions it added) against what it received.
- *Time to first release*: for each object version first disclosed to any partner in the period, that
  first disclosure minus its ingest time (the earliest of its date_added and any ingest entry listing it),
  with the median and the 90th percentile (nearest rank) per sensitivity tier.
Disclosures to the exchange's own administrator accounts are left out unless asked for: they are the
operators reading their own store, not a release to a partner.

Entries are read in two passes over compact arrays: the first interns each (object id, version) as an
integer and marks which disclosures are a partner's first receipt; the second, once the labels of those
versions are known, adds every disclosure to a small counter keyed by (day, partner, tier, TLP, first).
Every section is derived from that counter, so a million disclosures cost a few seconds, not minutes."""

from __future__ import annotations

import math
import re
import statistics
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

DAY = 86_400 * 1_000_000  # microseconds
UNKNOWN = "unknown"
SENSITIVE_TIERS = ("sensitive", "offensive")
RESTRICTED_TLPS = ("AMBER+STRICT", "RED")
TIERS = ("public", "defensive", "sensitive", "offensive", UNKNOWN)
TLPS = ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED", UNKNOWN)
TRUST_TIERS = {1: "closest", 2: "trusted", 3: "limited", 4: "restricted"}
_DATE = re.compile(r"\d{4}-\d\d-\d\d")


class By(StrEnum):
    """How disclosures are grouped: the recipient's country, the recipient, its trust tier, or the TLP."""

    COUNTRY = "country"
    PARTNER = "partner"
    TIER = "tier"
    TLP = "tlp"


class Interval(StrEnum):
    """The volume chart's step; `auto` is a day for periods up to 62 days, otherwise a week."""

    AUTO = "auto"
    DAY = "day"
    WEEK = "week"


# --- inputs -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """A partner as the report sees it (from the store; `country` is `unknown` for a name the ledger
    records but the store no longer holds)."""

    name: str
    country: str = UNKNOWN
    trust_tier: int | None = None
    is_admin: bool = False


@dataclass(frozen=True)
class Disclosure:
    """One disclosure entry: when (microseconds since the epoch, UTC), to whom, under which policy (its id;
    0 for none), from which collection (its id, from the endpoint), and the (object id, version) served."""

    at: int
    partner: str
    policy: int
    collection: str | None
    objects: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Facts:
    """What the store says about one object version: its label's tier and TLP (None where the label
    carries none, so the policy's default applies; `label` False when no stored copy was found), and its
    earliest date_added."""

    label: bool = False
    tier: str | None = None
    tlp: str | None = None
    added: int | None = None


@dataclass(frozen=True)
class Options:
    since: int | None = None
    until: int | None = None
    by: By = By.COUNTRY
    interval: Interval = Interval.AUTO
    include_admins: bool = False


# --- outputs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    responses: int
    disclosures: int
    distinct: int
    object_versions: int
    partners: int
    countries: int
    first: int | None  # the earliest and latest disclosure counted (microseconds)
    last: int | None
    admin_responses: int  # left out (unless include_admins)
    admin_disclosures: int


@dataclass(frozen=True)
class GroupRow:
    group: str
    partners: int
    responses: int
    disclosures: int
    distinct: int


@dataclass(frozen=True)
class VolumeRow:
    period: str  # the first day of the day or week (ISO date)
    group: str
    disclosures: int
    distinct: int


@dataclass(frozen=True)
class ExposureRow:
    country: str
    partners: int  # partners there that received anything sensitive or restricted
    sensitive: int  # distinct disclosures, by the object's tier
    offensive: int
    amber_strict: int  # distinct disclosures, by the object's TLP
    red: int
    any: int  # distinct disclosures that are any of the above
    disclosures: int  # raw disclosures that are any of the above
    total: int  # every distinct disclosure to that country, for scale


@dataclass(frozen=True)
class ReciprocityRow:
    partner: str
    country: str
    trust_tier: str
    gave: int  # distinct object versions contributed in the period
    received: int  # distinct object versions received in the period (one per version, however often)
    disclosures: int  # raw disclosures received


@dataclass(frozen=True)
class LatencyRow:
    tier: str  # the object's sensitivity tier at its first release, or "all"
    released: int  # object versions first released in the period
    known: int  # of which the ingest time is known
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Report:
    options: Options
    interval: Interval  # what `auto` became
    summary: Summary
    groups: list[GroupRow]
    volume: list[VolumeRow]
    exposure: list[ExposureRow]
    reciprocity: list[ReciprocityRow]
    latency: list[LatencyRow]


# --- small pure rules ---------------------------------------------------------------------------------------


def parse_when(text: str, end: bool = False) -> int:
    """A date (YYYY-MM-DD, a whole UTC day: with `end`, the day is included, so the bound is the next
    midnight) or an RFC 3339 time with its offset, as microseconds since the epoch. Raises ValueError."""
    value = text.strip()
    try:
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value) + timedelta(days=1 if end else 0)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or a time (2026-11-23T09:15:00Z)") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone: add Z (UTC) or an offset such as +02:00")
    return micros_of(moment)


def micros_of(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def day_of(at: int) -> int:
    """The UTC day number (days since 1970-01-01) of a time in microseconds."""
    return at // DAY


def day_text(day: int) -> str:
    return (date(1970, 1, 1) + timedelta(days=day)).isoformat()


def week_start(day: int) -> int:
    """The Monday starting the ISO week of a day number (1970-01-01 was a Thursday)."""
    return day - (day + 3) % 7


def choose_interval(interval: Interval, first_day: int | None, last_day: int | None) -> Interval:
    if interval is not Interval.AUTO:
        return interval
    if first_day is None or last_day is None or last_day - first_day < 62:
        return Interval.DAY
    return Interval.WEEK


def quantiles(seconds: Sequence[float]) -> tuple[float | None, float | None]:
    """The median (the middle value, or the mean of the two middle ones) and the 90th percentile by the
    nearest-rank method (the smallest value at least 90% of the values do not exceed)."""
    if not seconds:
        return None, None
    ordered = sorted(seconds)
    return float(statistics.median(ordered)), float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def trust_tier_name(tier: int | None) -> str:
    if tier is None:
        return "untiered"
    return f"{tier} {TRUST_TIERS[tier]}" if tier in TRUST_TIERS else str(tier)


def group_of(by: By, recipient: Recipient, tlp: str) -> str:
    """The group one disclosure falls in."""
    if by is By.COUNTRY:
        return recipient.country
    if by is By.PARTNER:
        return recipient.name
    if by is By.TIER:
        return trust_tier_name(recipient.trust_tier)
    return tlp


def effective(facts: Facts, default_tier: str, default_tlp: str) -> tuple[str, str]:
    """The object's (tier, TLP) as the policy read it: its label's, else the policy's defaults; `unknown`
    when the version is no longer stored."""
    if not facts.label:
        return UNKNOWN, UNKNOWN
    return facts.tier or default_tier, facts.tlp or default_tlp


def contributions(records: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Distinct object versions each partner gave, from (partner, object id, version) records (the same
    version given twice, or recorded both by an ingest entry and in the store, counts once)."""
    given: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for partner, object_id, version in records:
        given[partner].add((object_id, version))
    return {partner: len(versions) for partner, versions in given.items()}


# --- the two passes -----------------------------------------------------------------------------------------

# (day, partner, tier, tlp, first receipt in the period) -> disclosures
Cube = Counter[tuple[int, str, str, str, bool]]


@dataclass
class _Kept:
    """One counted entry, compactly: what the second pass needs."""

    at: int
    partner: str
    policy: int
    ids: array  # type: ignore[type-arg]  # interned object versions
    first: bytearray  # 1 where the partner receives that version for the first time in the period


@dataclass
class Tally:
    """Reads disclosure entries in index order (pass 1). Entries before `since` are read too, for one
    thing only: whether a version was released before the period (time to first release)."""

    options: Options
    admins: frozenset[str] = frozenset()
    ids: dict[tuple[str, str], int] = field(default_factory=dict)
    collection: list[str | None] = field(default_factory=list)  # of each id's first disclosure
    released_at: list[int] = field(default_factory=list)  # each id's first release (to a counted partner)
    released_policy: list[int] = field(default_factory=list)
    kept: list[_Kept] = field(default_factory=list)
    seen: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    admin_responses: int = 0
    admin_disclosures: int = 0

    def add(self, d: Disclosure) -> None:
        if d.partner in self.admins and not self.options.include_admins:
            if self._in_period(d.at):
                self.admin_responses += 1
                self.admin_disclosures += len(d.objects)
            return
        ids = array("q", (self._intern(o[0], o[1], d) for o in d.objects))
        if not self._in_period(d.at):
            return
        seen = self.seen[d.partner]
        first = bytearray(len(ids))
        for i, kid in enumerate(ids):
            if kid not in seen:
                seen.add(kid)
                first[i] = 1
        self.kept.append(_Kept(d.at, d.partner, d.policy, ids, first))

    def _in_period(self, at: int) -> bool:
        since, until = self.options.since, self.options.until
        return (since is None or at >= since) and (until is None or at < until)

    def _intern(self, object_id: str, version: str, d: Disclosure) -> int:
        key = (object_id, version)
        kid = self.ids.get(key)
        if kid is None:
            kid = self.ids[key] = len(self.collection)
            self.collection.append(d.collection)
            self.released_at.append(d.at)
            self.released_policy.append(d.policy)
        elif d.at < self.released_at[kid]:  # entries are in index order; times nearly always agree
            self.released_at[kid] = d.at
            self.released_policy[kid] = d.policy
        return kid

    def needed(self) -> set[int]:
        """The interned versions counted in the period: those whose labels the report needs."""
        return {kid for kept in self.kept for kid in kept.ids}

    def cube(self, classes: Classes) -> Cube:
        """Pass 2: every counted disclosure into the counter."""
        cube: Cube = Counter()
        for kept in self.kept:
            of = classes.under(kept.policy)
            local: Counter[tuple[tuple[str, str], int]] = Counter(
                (of[kid], first) for kid, first in zip(kept.ids, kept.first, strict=True)
            )
            for ((tier, tlp), first), n in local.items():
                cube[(day_of(kept.at), kept.partner, tier, tlp, bool(first))] += n
        return cube

    def responses(self) -> Counter[tuple[int, str]]:
        """(day, partner) -> responses counted."""
        return Counter((day_of(k.at), k.partner) for k in self.kept)

    def responses_by_tlp(self, classes: Classes) -> Counter[str]:
        """Responses holding at least one object of each TLP (for grouping by TLP)."""
        found: Counter[str] = Counter()
        for kept in self.kept:
            of = classes.under(kept.policy)
            found.update({of[kid][1] for kid in kept.ids})
        return found


class Classes:
    """Each interned version's (tier, TLP) under a policy, computed once per policy met."""

    def __init__(self, facts: Sequence[Facts], defaults: Callable[[int], tuple[str, str]]) -> None:
        self.facts = facts
        self.defaults = defaults
        self._under: dict[int, list[tuple[str, str]]] = {}

    def under(self, policy: int) -> list[tuple[str, str]]:
        found = self._under.get(policy)
        if found is None:
            tier, tlp = self.defaults(policy)
            cache: dict[tuple[bool, str | None, str | None], tuple[str, str]] = {}
            found = []
            for facts in self.facts:
                key = (facts.label, facts.tier, facts.tlp)
                if key not in cache:
                    cache[key] = effective(facts, tier, tlp)
                found.append(cache[key])
            self._under[policy] = found
        return found


# --- sections from the counter ------------------------------------------------------------------------------


def summarise(tally: Tally, cube: Cube, recipients: Mapping[str, Recipient]) -> Summary:
    partners = {p for (_, p, _, _, _) in cube}
    times = [k.at for k in tally.kept]
    return Summary(
        responses=len(tally.kept),
        disclosures=sum(cube.values()),
        distinct=sum(n for key, n in cube.items() if key[4]),
        object_versions=len(tally.needed()),
        partners=len(partners),
        countries=len({_recipient(recipients, p).country for p in partners}),
        first=min(times) if times else None,
        last=max(times) if times else None,
        admin_responses=tally.admin_responses,
        admin_disclosures=tally.admin_disclosures,
    )


def _recipient(recipients: Mapping[str, Recipient], name: str) -> Recipient:
    return recipients.get(name) or Recipient(name)


def groups(
    by: By,
    cube: Cube,
    responses: Counter[tuple[int, str]],
    tlp_responses: Counter[str],
    recipients: Mapping[str, Recipient],
) -> list[GroupRow]:
    """Per group: partners, responses, disclosures and distinct disclosures, largest first."""
    raw: Counter[str] = Counter()
    distinct: Counter[str] = Counter()
    members: dict[str, set[str]] = defaultdict(set)
    for (_, partner, _, tlp, first), n in cube.items():
        g = group_of(by, _recipient(recipients, partner), tlp)
        raw[g] += n
        distinct[g] += n if first else 0
        members[g].add(partner)
    answered: Counter[str] = Counter()
    if by is By.TLP:
        answered = tlp_responses
    else:
        for (_, partner), n in responses.items():
            answered[group_of(by, _recipient(recipients, partner), "")] += n
    rows = [GroupRow(g, len(members[g]), answered[g], raw[g], distinct[g]) for g in raw]
    return sorted(rows, key=lambda r: (-r.disclosures, r.group))


def volume(
    by: By,
    cube: Cube,
    recipients: Mapping[str, Recipient],
    interval: Interval,
    span: tuple[int | None, int | None] = (None, None),
) -> list[VolumeRow]:
    """Disclosures per day or week and group, every step of the period (`span`: its first and last day,
    else the data's) present for every group found: a quiet day shows as zero, not as a gap."""
    step = week_start if interval is Interval.WEEK else (lambda d: d)
    raw: Counter[tuple[int, str]] = Counter()
    distinct: Counter[tuple[int, str]] = Counter()
    for (day, partner, _, tlp, first), n in cube.items():
        key = (step(day), group_of(by, _recipient(recipients, partner), tlp))
        raw[key] += n
        distinct[key] += n if first else 0
    if not raw:
        return []
    starts = sorted({s for s, _ in raw})
    low = step(span[0]) if span[0] is not None else starts[0]
    high = step(span[1]) if span[1] is not None else starts[-1]
    width = 7 if interval is Interval.WEEK else 1
    names = sorted({g for _, g in raw})
    return [
        VolumeRow(day_text(s), g, raw[(s, g)], distinct[(s, g)])
        for s in range(min(low, starts[0]), max(high, starts[-1]) + 1, width)
        for g in names
    ]


def exposure(cube: Cube, recipients: Mapping[str, Recipient]) -> list[ExposureRow]:
    """Sensitive and restricted disclosures by the recipient's country, every recipient country listed
    (a country with none shows zeros), most exposed first."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    exposed: dict[str, set[str]] = defaultdict(set)
    for (_, partner, tier, tlp, first), n in cube.items():
        country = _recipient(recipients, partner).country
        c = counts[country]
        c["total"] += n if first else 0
        hit = tier in SENSITIVE_TIERS or tlp in RESTRICTED_TLPS
        if not hit:
            continue
        exposed[country].add(partner)
        c["disclosures"] += n
        if first:
            c["any"] += n
            c[tier] += n if tier in SENSITIVE_TIERS else 0
            c[tlp] += n if tlp in RESTRICTED_TLPS else 0
    rows = [
        ExposureRow(
            country,
            len(exposed[country]),
            c["sensitive"],
            c["offensive"],
            c["AMBER+STRICT"],
            c["RED"],
            c["any"],
            c["disclosures"],
            c["total"],
        )
        for country, c in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.any, -r.disclosures, r.country))


def reciprocity(
    cube: Cube,
    recipients: Mapping[str, Recipient],
    gave: Mapping[str, int],
    received: Mapping[str, int],
    include_admins: bool = False,
) -> list[ReciprocityRow]:
    """What each partner gave against what it received: every partner that gave or received anything and
    every registered one (a silent partner shows zeros); administrators only when they are counted."""
    raw: Counter[str] = Counter()
    for (_, partner, _, _, _), n in cube.items():
        raw[partner] += n
    registered = {r.name for r in recipients.values()}
    names = {n for n in set(raw) | set(gave) | registered if include_admins or not _admin(recipients, n)}
    rows = []
    for name in names:
        r = _recipient(recipients, name)
        tier = trust_tier_name(r.trust_tier)
        rows.append(
            ReciprocityRow(name, r.country, tier, gave.get(name, 0), received.get(name, 0), raw[name])
        )
    return sorted(rows, key=lambda r: (-(r.gave + r.received), r.partner))


def _admin(recipients: Mapping[str, Recipient], name: str) -> bool:
    return _recipient(recipients, name).is_admin


def received_versions(tally: Tally) -> dict[str, int]:
    """Distinct object versions each partner received in the period."""
    return {partner: len(ids) for partner, ids in tally.seen.items() if ids}


def latency(tally: Tally, classes: Classes) -> list[LatencyRow]:
    """Time from ingest to first release, per sensitivity tier (at the first release) and overall."""
    options = tally.options
    waits: dict[str, list[float]] = defaultdict(list)
    released: Counter[str] = Counter()
    for kid, at in enumerate(tally.released_at):
        if (options.since is not None and at < options.since) or (
            options.until is not None and at >= options.until
        ):
            continue
        tier = classes.under(tally.released_policy[kid])[kid][0]
        released[tier] += 1
        start = classes.facts[kid].added
        if start is not None:
            waits[tier].append(max(0, at - start) / 1_000_000)
    rows = []
    for tier in [t for t in TIERS if released[t]] + ["all"]:
        found = [w for ws in waits.values() for w in ws] if tier == "all" else waits[tier]
        count = sum(released.values()) if tier == "all" else released[tier]
        median, p90 = quantiles(found)
        rows.append(LatencyRow(tier, count, len(found), median, p90))
    return rows


def build(
    tally: Tally,
    facts: Sequence[Facts],
    defaults: Callable[[int], tuple[str, str]],
    recipients: Mapping[str, Recipient],
    gave: Mapping[str, int],
) -> Report:
    """The report, once every disclosure entry went through `tally` and the store told `facts` (indexed by
    interned id; versions not counted in the period may be left as `Facts()`) and what each partner gave.
    `defaults(policy id)` is that policy's default (tier, TLP)."""
    options = tally.options
    classes = Classes(facts, defaults)
    cube = tally.cube(classes)
    summary = summarise(tally, cube, recipients)
    first, last = (summary.first, summary.last)
    span = _bounds(
        options, *((day_of(first), day_of(last)) if first is not None and last is not None else ())
    )
    interval = choose_interval(options.interval, *span)
    return Report(
        options=options,
        interval=interval,
        summary=summary,
        groups=groups(options.by, cube, tally.responses(), tally.responses_by_tlp(classes), recipients),
        volume=volume(options.by, cube, recipients, interval, span),
        exposure=exposure(cube, recipients),
        reciprocity=reciprocity(cube, recipients, gave, received_versions(tally), options.include_admins),
        latency=latency(tally, classes),
    )


def _bounds(
    options: Options, first: int | None = None, last: int | None = None
) -> tuple[int | None, int | None]:
    """The period's first and last day: the options' bounds where given, else the data's."""
    since = day_of(options.since) if options.since is not None else first
    until = day_of(options.until - 1) if options.until is not None else last
    return since, until
