"""Correlation, rules and the incremental correlator: flood-proof, k-anonymous, never naming a reporter."""

from __future__ import annotations

from dataclasses import fields
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from gesher.warning.correlate import Reporter, Sighting, reliability
from gesher.warning.correlator import Correlator
from gesher.warning.decay import NIDS_SIMPLE, DecayState
from gesher.warning.observations import SightingType
from gesher.warning.rules import DEFAULT_RULES, Alert, Level, RuleSet

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "domain-name:evil.example"
SECTORS = ("finance", "government", "energy", "health", "telecom")


def reporter(i: int, sector: str | None = None, *, critical: bool = False, grade: str = "B") -> Reporter:
    return Reporter(f"org-{i:04d}-secret", sector or SECTORS[i % 2], "IL", grade, critical)


def sight(
    c: Correlator, who: Reporter, minutes: float, kind: SightingType = SightingType.SIGHTING
) -> list[Alert]:
    at = NOW + timedelta(minutes=minutes)
    return c.add(Sighting(TOKEN, who, at, kind), at)


def test_default_rules_are_the_issues() -> None:
    assert [r.describe() for r in DEFAULT_RULES] == [
        "L1 fast spread: 2 partners within 1 h",
        "L2 campaign: 3 partners or 2 sectors within 24 h",
        "L3 national: 5 partners, 3 sectors or any critical-infrastructure operator within 72 h",
    ]


def test_same_sector_partners_rise_level_by_level_and_alert_once_per_level() -> None:
    c = Correlator()
    bank = [reporter(i, "finance") for i in range(6)]
    assert sight(c, bank[0], 0) == []
    [l1] = sight(c, bank[1], 10)
    assert (l1.level, l1.withheld, l1.reporters, l1.sectors) == (Level.FAST_SPREAD, True, None, None)
    assert sight(c, bank[1], 11) == [] and sight(c, bank[0], 12) == []  # no duplicate at the same level
    [l2] = sight(c, bank[2], 120)
    assert (l2.level, l2.reporters, l2.sectors, l2.countries) == (Level.CAMPAIGN, 3, ("finance",), 1)
    assert sight(c, bank[3], 130) == []
    [l3] = sight(c, bank[4], 140)
    assert (l3.level, l3.reporters, l3.confidence) == (Level.NATIONAL, 5, round(1 - 0.25**5, 4))


def test_windows_slide_and_a_new_spell_alerts_again() -> None:
    c = Correlator()
    a, b = reporter(1, "finance"), reporter(2, "finance")
    sight(c, a, 0)
    assert sight(c, b, 61) == []  # a's sighting is out of the 1 h window
    assert [x.level for x in sight(c, a, 62)] == [Level.FAST_SPREAD]
    later = 62 + 73 * 60  # 73 h of quiet ends the spell
    assert sight(c, a, later) == []
    assert [x.level for x in sight(c, b, later + 1)] == [Level.FAST_SPREAD]


def test_false_positive_suppresses_small_counts_and_withdraws_the_reporter() -> None:
    c = Correlator()
    a, b, d = reporter(1, "finance"), reporter(2, "finance"), reporter(3, "finance")
    sight(c, a, 0, SightingType.FALSE_POSITIVE)
    sight(c, b, 1)
    assert sight(c, d, 2) == []
    decision = c.decision(TOKEN, NOW + timedelta(minutes=2))
    assert decision.level is Level.NONE and any("false-positive" in s for s in decision.suppressed)
    assert sight(c, a, 3) != []  # a sights it after all: its false positive is superseded


def test_warninglist_and_decay_suppress() -> None:
    c = Correlator(warninglisted=lambda token: token == TOKEN)
    sight(c, reporter(1), 0)
    assert sight(c, reporter(2), 1) == []
    assert "warninglist" in c.decision(TOKEN, NOW).suppressed[0]
    stale = DecayState(NIDS_SIMPLE, 80, NOW - timedelta(days=60))
    c = Correlator(decay=lambda token: stale)
    sight(c, reporter(1), 0)
    assert sight(c, reporter(2), 1) == []
    assert "decayed (score 23.4)" in c.decision(TOKEN, NOW).suppressed[0]
    fresh = DecayState(NIDS_SIMPLE, 80, NOW - timedelta(days=7))
    assert sight(Correlator(decay=lambda token: fresh), reporter(1), 0) == []
    c = Correlator(decay=lambda token: fresh)
    sight(c, reporter(1), 0)
    assert [x.level for x in sight(c, reporter(2), 1)] == [Level.CAMPAIGN]


def test_a_sighting_from_the_future_is_refused() -> None:
    c = Correlator()
    try:
        c.add(Sighting(TOKEN, reporter(1), NOW + timedelta(minutes=6)), NOW)
    except Exception as exc:
        assert "in the future" in str(exc) and getattr(exc, "status", None) == 400
    else:
        raise AssertionError("a sighting 6 min ahead was taken")


def test_forget_idle_bounds_memory() -> None:
    c = Correlator()
    sight(c, reporter(1), 0)
    assert c.forget_idle(NOW + timedelta(hours=71)) == 0
    assert c.forget_idle(NOW + timedelta(hours=73)) == 1


def test_reliability_is_misps_admiralty_value() -> None:
    assert [reliability(g) for g in "ABCDEF"] == [1.0, 0.75, 0.5, 0.25, 0.0, 0.5]


# -- properties -------------------------------------------------------------------------------------------

reporters = st.builds(
    Reporter,
    id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=12).map(
        lambda s: f"org-{s}"
    ),
    sector=st.sampled_from(SECTORS),
    country=st.sampled_from(["IL", "AE", "DE"]),
    reliability=st.sampled_from(list("ABCDEF")),
    critical=st.booleans(),
)
events = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7),  # which reporter
        st.integers(min_value=0, max_value=5 * 24 * 60),  # minutes
        st.sampled_from(list(SightingType)),
        st.sampled_from(["a", "b"]),  # token
    ),
    max_size=60,
)


def _replay(
    pool: list[Reporter], script: list[tuple[int, int, SightingType, str]], ruleset: RuleSet
) -> list[Alert]:
    c, alerts = Correlator(ruleset), []
    for who, minutes, kind, token in sorted(script, key=lambda e: e[1]):
        at = NOW + timedelta(minutes=minutes)
        alerts += c.add(Sighting(token, pool[who % len(pool)], at, kind), at)
    return alerts


@settings(max_examples=150)
@given(st.lists(reporters, min_size=1, max_size=8, unique_by=lambda r: r.id), events, st.integers(1, 6))
def test_alerts_never_name_a_reporter_and_publish_counts_only_at_k(
    pool: list[Reporter], script: list[tuple[int, int, SightingType, str]], k: int
) -> None:
    ruleset = RuleSet(k=k)
    for alert in _replay(pool, script, ruleset):
        text = repr(alert)
        assert not any(r.id in text for r in pool)
        assert {f.name for f in fields(alert)} == {
            *("token", "level", "rule", "raised_at", "reporters", "sectors", "countries"),
            *("confidence", "withheld", "reasons"),
        }
        published = (alert.reporters, alert.sectors, alert.countries, alert.confidence)
        if alert.withheld:
            assert published == (None, None, None, None)
        else:
            assert alert.reporters is not None and alert.reporters >= k


@settings(max_examples=100)
@given(reporters, events)
def test_one_reporter_alone_never_raises_an_alert(
    alone: Reporter, script: list[tuple[int, int, SightingType, str]]
) -> None:
    flood = script + [(0, m, SightingType.SIGHTING, "a") for m in range(0, 600, 3)]
    assert _replay([alone], flood, RuleSet()) == []


@settings(max_examples=100)
@given(
    st.lists(reporters, min_size=2, max_size=9, unique_by=lambda r: r.id),
    st.lists(st.integers(min_value=0, max_value=72 * 60), min_size=9, max_size=9),
)
def test_level_never_falls_when_a_distinct_reporter_is_added(
    pool: list[Reporter], minutes: list[int]
) -> None:
    end = NOW + timedelta(hours=72)
    c, level = Correlator(), Level.NONE
    for who, m in zip(pool, minutes, strict=False):
        c.add(Sighting(TOKEN, who, NOW + timedelta(minutes=m)), end)
        now_level = c.decision(TOKEN, end).level
        assert now_level >= level
        level = now_level
