"""Impact reports (issue 6, Build item 5) over a real exchange on both stores: partners in three countries
read marked objects over TAXII (each response recorded by the server), one contributes, and a backdated
history is appended through the ledger service; the figures are exact. The pure aggregation is held to a
naive oracle with hypothesis."""

from __future__ import annotations

import ast
import statistics
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from gesher.ledger_service import impact
from gesher.ledger_service.impact import (
    By,
    Disclosure,
    ExposureRow,
    Facts,
    GroupRow,
    Interval,
    LatencyRow,
    Options,
    Recipient,
    ReciprocityRow,
    Report,
)
from gesher.ledger_service.reports import disclosures_report
from tests.conftest import World
from tests.ledger_service.report_scenario import Exchange, build, history, live


@pytest.fixture
def ex(world: World, client: TestClient) -> Exchange:
    return build(world, client)


def report(ex: Exchange, **options: object) -> Report:
    with ex.world.node.db.read() as conn:
        return disclosures_report(conn, Options(**options))  # type: ignore[arg-type]


def day(text: str, end: bool = False) -> int:
    return impact.parse_when(text, end=end)


# --- a live exchange: what partners read over TAXII today ---------------------------------------------------


def test_live_reads_by_country(ex: Exchange) -> None:
    live(ex)
    r = report(ex)
    s = r.summary
    assert (s.responses, s.disclosures, s.distinct, s.object_versions) == (5, 17, 14, 5)
    assert (s.partners, s.countries, s.admin_responses, s.admin_disclosures) == (4, 3, 1, 5)
    assert r.groups == [GroupRow("GB", 2, 3, 9, 6), GroupRow("FR", 1, 1, 4, 4), GroupRow("IL", 1, 1, 4, 4)]
    # GB: reader and writer got the sensitive s (reader twice); IL the offensive RED r; FR the AMBER+STRICT a.
    assert r.exposure == [
        ExposureRow("GB", 2, sensitive=2, offensive=0, amber_strict=0, red=0, any=2, disclosures=3, total=6),
        ExposureRow("FR", 1, sensitive=1, offensive=0, amber_strict=1, red=0, any=2, disclosures=2, total=4),
        ExposureRow("IL", 1, sensitive=1, offensive=1, amber_strict=0, red=1, any=2, disclosures=2, total=4),
    ]
    assert r.reciprocity == [
        ReciprocityRow("writer", "GB", "1 closest", gave=2, received=3, disclosures=3),
        ReciprocityRow("fr-cert", "FR", "3 limited", gave=0, received=4, disclosures=4),
        ReciprocityRow("il-cert", "IL", "2 trusted", gave=0, received=4, disclosures=4),
        ReciprocityRow("reader", "GB", "1 closest", gave=0, received=3, disclosures=6),
        ReciprocityRow("outsider", "GB", "1 closest", gave=0, received=0, disclosures=0),
    ]
    tiers = {row.tier: (row.released, row.known) for row in r.latency}
    assert tiers == {"defensive": (3, 3), "sensitive": (1, 1), "offensive": (1, 1), "all": (5, 5)}
    for row in r.latency:  # released seconds after ingest, in this test
        assert row.median_seconds is not None and row.p90_seconds is not None
        assert 0 <= row.median_seconds <= row.p90_seconds < 120


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        (
            By.PARTNER,
            [
                GroupRow("reader", 1, 2, 6, 3),
                GroupRow("fr-cert", 1, 1, 4, 4),
                GroupRow("il-cert", 1, 1, 4, 4),
                GroupRow("writer", 1, 1, 3, 3),
            ],
        ),
        (
            By.TIER,  # the recipient's trust tier
            [
                GroupRow("1 closest", 2, 3, 9, 6),
                GroupRow("2 trusted", 1, 1, 4, 4),
                GroupRow("3 limited", 1, 1, 4, 4),
            ],
        ),
        (
            By.TLP,  # the object's: g1 and g2 GREEN, s AMBER, r RED, a AMBER+STRICT
            [
                GroupRow("GREEN", 4, 5, 10, 8),
                GroupRow("AMBER", 4, 5, 5, 4),
                GroupRow("AMBER+STRICT", 1, 1, 1, 1),
                GroupRow("RED", 1, 1, 1, 1),
            ],
        ),
    ],
)
def test_live_reads_by_partner_tier_and_tlp(ex: Exchange, by: By, expected: list[GroupRow]) -> None:
    live(ex)
    r = report(ex, by=by)
    assert r.groups == expected
    today = datetime.now(UTC).date().isoformat()
    assert {(v.period, v.group, v.disclosures, v.distinct) for v in r.volume} == {
        (today, g.group, g.disclosures, g.distinct) for g in expected
    }


def test_administrators_are_counted_only_when_asked(ex: Exchange) -> None:
    live(ex)
    r = report(ex, by=By.PARTNER, include_admins=True)
    assert (r.summary.responses, r.summary.disclosures, r.summary.admin_responses) == (6, 22, 0)
    assert GroupRow("admin", 1, 1, 5, 5) in r.groups
    assert "admin" in {row.partner for row in r.reciprocity}
    assert "admin" not in {row.partner for row in report(ex, by=By.PARTNER).reciprocity}


def test_an_empty_ledger_gives_an_empty_report(ex: Exchange) -> None:
    r = report(ex)
    assert (r.summary.responses, r.summary.disclosures, r.summary.first) == (0, 0, None)
    assert r.groups == r.volume == r.exposure == []
    assert r.latency == [LatencyRow("all", 0, 0, None, None)]
    assert {row.partner for row in r.reciprocity} == {"reader", "writer", "outsider", "il-cert", "fr-cert"}


# --- a backdated history: periods, days and weeks, time to first release ------------------------------------


def test_a_period_counts_only_its_disclosures(ex: Exchange) -> None:
    live(ex)  # today: outside March 2025
    history(ex)
    r = report(ex, since=day("2025-03-01"), until=day("2025-03-31", end=True), by=By.PARTNER)
    s = r.summary
    assert (s.responses, s.disclosures, s.distinct, s.partners, s.countries) == (3, 5, 4, 2, 2)
    assert r.interval is Interval.DAY
    assert len(r.volume) == 31 * 2  # every day of March for both groups, quiet days as zeros
    busy = {(v.period, v.group, v.disclosures, v.distinct) for v in r.volume if v.disclosures}
    assert busy == {
        ("2025-03-03", "reader", 1, 1),
        ("2025-03-04", "il-cert", 2, 2),
        ("2025-03-12", "reader", 2, 1),  # g1 again, s for the first time
    }
    # g1: ingested 00:00 on the 3rd, first released at 02:00; s: first released at 06:00 on the 4th.
    assert r.latency == [
        LatencyRow("defensive", 1, 1, 7200.0, 7200.0),
        LatencyRow("sensitive", 1, 1, 108000.0, 108000.0),
        LatencyRow("all", 2, 2, 57600.0, 108000.0),
    ]
    writer = next(row for row in r.reciprocity if row.partner == "writer")
    assert (writer.gave, writer.received) == (2, 0)  # the ingest entry of the 3rd; today's POST is outside
    il = next(row for row in r.exposure if row.country == "IL")
    assert (il.sensitive, il.any, il.total) == (1, 1, 2)


def test_weeks_start_on_monday(ex: Exchange) -> None:
    history(ex)
    r = report(ex, since=day("2025-03-01"), until=day("2025-03-31", end=True), interval=Interval.WEEK)
    weeks = {(v.period, v.disclosures, v.distinct) for v in r.volume if v.group == "GB"}
    assert weeks == {
        ("2025-02-24", 0, 0),
        ("2025-03-03", 1, 1),
        ("2025-03-10", 2, 1),  # reader had g1 since the 3rd
        ("2025-03-17", 0, 0),
        ("2025-03-24", 0, 0),
        ("2025-03-31", 0, 0),
    }


def test_until_includes_its_day_and_since_excludes_what_came_before(ex: Exchange) -> None:
    history(ex)
    early = report(ex, until=day("2025-03-04", end=True))
    assert (early.summary.responses, early.summary.disclosures) == (2, 3)
    late = report(ex, since=day("2025-03-05"))
    assert (late.summary.responses, late.summary.disclosures, late.summary.distinct) == (1, 2, 2)
    # both were first released before the period: no first release falls in it
    assert late.latency == [LatencyRow("all", 0, 0, None, None)]
    exact = report(ex, since=day("2025-03-03T02:00:00Z"), until=day("2025-03-04T06:00:00Z"))
    assert exact.summary.responses == 1  # since is inclusive, a time as until exclusive


# --- small pure rules ---------------------------------------------------------------------------------------


def test_the_aggregation_is_pure() -> None:
    """impact.py takes plain records: no database, web or store code (the gathering is reports.py's)."""
    tree = ast.parse(Path(impact.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {i for i in imported if i.startswith(("sqlalchemy", "fastapi", "gesher.", "matplotlib"))}


def test_parse_when() -> None:
    assert impact.parse_when("1970-01-02") == 86_400_000_000
    assert impact.parse_when("1970-01-01", end=True) == 86_400_000_000
    assert impact.parse_when("1970-01-01T01:00:00+01:00") == 0
    assert impact.parse_when("1970-01-01T00:00:01.5Z") == 1_500_000
    for bad in ("yesterday", "2025-02-30", "2025-03-01T10:00:00", ""):
        with pytest.raises(ValueError):
            impact.parse_when(bad)


@given(st.lists(st.floats(min_value=0, max_value=1e9, allow_nan=False), min_size=1, max_size=60))
def test_quantiles(values: list[float]) -> None:
    median, p90 = impact.quantiles(values)
    assert median == statistics.median(values)
    ordered = sorted(values)
    assert p90 in values
    at_most = sum(1 for v in values if v <= p90)
    assert at_most >= 0.9 * len(values)  # nearest rank: the smallest such value
    assert sum(1 for v in ordered if v < p90) < 0.9 * len(values)


@given(st.integers(min_value=0, max_value=40_000))
def test_week_start_is_the_monday(n: int) -> None:
    start = date(1970, 1, 1) + timedelta(days=impact.week_start(n))
    assert start.weekday() == 0 and 0 <= n - impact.week_start(n) < 7


# --- the aggregation against a naive oracle -----------------------------------------------------------------

PARTNERS = {
    "p1": Recipient("p1", "GB", 1),
    "p2": Recipient("p2", "GB", 2),
    "p3": Recipient("p3", "IL", None),
    "p4": Recipient("p4", "FR", 4),
    "op": Recipient("op", "GB", None, is_admin=True),
}
FACTS = [
    Facts(True, None, None, 0),  # the policy's defaults apply
    Facts(True, "sensitive", "GREEN", 3_600_000_000),
    Facts(True, "offensive", "RED", None),
    Facts(True, "public", "AMBER+STRICT", 7_200_000_000),
    Facts(),  # no longer stored
    Facts(True, "defensive", None, 86_400_000_000 * 3),
]
DEFAULTS = {1: ("defensive", "AMBER"), 2: ("sensitive", "GREEN")}
HOUR = 3_600_000_000


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[Disclosure], Options]:
    entries = draw(
        st.lists(
            st.tuples(
                st.integers(0, 24 * 20),  # hour
                st.sampled_from(sorted(PARTNERS)),
                st.sampled_from(sorted(DEFAULTS)),
                st.lists(st.integers(0, len(FACTS) - 1), min_size=1, max_size=6),
            ),
            max_size=25,
        )
    )
    disclosures = [
        Disclosure(hour * HOUR, partner, policy, "c", [(f"o{k}", "v1") for k in kids])
        for hour, partner, policy, kids in entries
    ]
    bound = st.none() | st.integers(0, 24 * 20).map(lambda h: h * HOUR)
    since, until = draw(bound), draw(bound)
    by, admins = draw(st.sampled_from(list(By))), draw(st.booleans())
    return disclosures, Options(since, until, by, Interval.DAY, admins)


def run(disclosures: list[Disclosure], options: Options) -> Report:
    admins = frozenset(n for n, r in PARTNERS.items() if r.is_admin)
    tally = impact.Tally(options, admins)
    for d in disclosures:
        if options.until is None or d.at < options.until:  # what the store query does
            tally.add(d)
    facts = [Facts()] * len(tally.collection)
    for (object_id, _), kid in tally.ids.items():
        facts[kid] = FACTS[int(object_id[1:])]
    return impact.build(tally, facts, DEFAULTS.__getitem__, PARTNERS, {"p2": 7})


def flat(disclosures: list[Disclosure], options: Options) -> Iterator[tuple[int, str, int, int]]:
    """(time, partner, object, policy) of every disclosure counted, in ledger order."""
    for d in disclosures:
        if PARTNERS[d.partner].is_admin and not options.include_admins:
            continue
        for object_id, _ in d.objects:
            yield d.at, d.partner, int(object_id[1:]), d.policy


def in_period(at: int, options: Options) -> bool:
    return (options.since is None or at >= options.since) and (options.until is None or at < options.until)


def klass(kid: int, policy: int) -> tuple[str, str]:
    return impact.effective(FACTS[kid], *DEFAULTS[policy])


@settings(max_examples=200, deadline=None)
@given(scenario())
def test_the_aggregation_matches_a_naive_count(case: tuple[list[Disclosure], Options]) -> None:
    disclosures, options = case
    r = run(disclosures, options)
    every = list(flat(disclosures, options))
    counted = [x for x in every if in_period(x[0], options)]
    pairs: dict[tuple[str, int], tuple[int, int]] = {}  # first receipt in the period, in ledger order
    for at, partner, kid, policy in counted:
        pairs.setdefault((partner, kid), (at, policy))

    def group(partner: str, kid: int, policy: int) -> str:
        return impact.group_of(options.by, PARTNERS[partner], klass(kid, policy)[1])

    assert r.summary.disclosures == len(counted)
    assert r.summary.distinct == len(pairs)
    assert r.summary.object_versions == len({kid for _, _, kid, _ in counted})
    raw = Counter(group(p, k, pol) for _, p, k, pol in counted)
    distinct = Counter(group(p, k, pol) for (p, k), (_, pol) in pairs.items())
    assert {g.group: (g.disclosures, g.distinct) for g in r.groups} == {g: (raw[g], distinct[g]) for g in raw}
    assert sum(v.disclosures for v in r.volume) == len(counted)
    assert sum(v.distinct for v in r.volume) == len(pairs)
    per_day = Counter(impact.day_text(impact.day_of(at)) for at, _ in pairs.values())
    volume_days: Counter[str] = Counter()
    for v in r.volume:
        volume_days[v.period] += v.distinct
    assert +volume_days == per_day

    def exposed(kid: int, policy: int) -> bool:
        tier, tlp = klass(kid, policy)
        return tier in impact.SENSITIVE_TIERS or tlp in impact.RESTRICTED_TLPS

    by_country = Counter(PARTNERS[p].country for (p, k), (_, pol) in pairs.items() if exposed(k, pol))
    reds = Counter(PARTNERS[p].country for (p, k), (_, pol) in pairs.items() if klass(k, pol)[1] == "RED")
    assert {e.country: e.any for e in r.exposure if e.any} == dict(by_country)
    assert {e.country: e.red for e in r.exposure if e.red} == dict(reds)

    received = Counter(p for p, _ in pairs)
    for row in r.reciprocity:
        assert row.received == received[row.partner]
        assert row.gave == (7 if row.partner == "p2" else 0)

    first: dict[int, tuple[int, int]] = {}  # each object's first release, before the period's end
    for at, _, kid, policy in every:
        if (options.until is None or at < options.until) and (kid not in first or at < first[kid][0]):
            first[kid] = (at, policy)
    released = {k: v for k, v in first.items() if in_period(v[0], options)}
    waits = [
        max(0, at - FACTS[k].added) / 1e6 for k, (at, _) in released.items() if FACTS[k].added is not None
    ]
    overall = r.latency[-1]
    assert (overall.tier, overall.released, overall.known) == ("all", len(released), len(waits))
    assert (overall.median_seconds, overall.p90_seconds) == impact.quantiles(waits)
    tiers = Counter(klass(k, pol)[0] for k, (_, pol) in released.items())
    assert {row.tier: row.released for row in r.latency[:-1]} == dict(tiers)
