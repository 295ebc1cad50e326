"""MISP's polynomial decay, exactly as reference privacy_warning.md 4.4."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.warning.decay import (
    LONG_LIVED_HASH,
    NIDS_SIMPLE,
    PHISHING,
    DecayModel,
    DecayState,
    admiralty_base_score,
    base_score,
    model_for,
    reference_time,
)
from gesher.warning.values import ValueType

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(("days", "score"), [(0, 80), (1, 72.7), (7, 60.7), (30, 40.0), (60, 23.4), (120, 0)])
def test_nids_table_at_base_80(days: int, score: float) -> None:
    assert round(NIDS_SIMPLE.score(timedelta(days=days), 80), 1) == score


def test_default_models_and_time_to_decay() -> None:
    assert (NIDS_SIMPLE.lifetime_days, NIDS_SIMPLE.decay_speed, NIDS_SIMPLE.threshold) == (120, 2, 30)
    assert (PHISHING.lifetime_days, PHISHING.decay_speed, PHISHING.threshold) == (3, 2.3, 30)
    assert NIDS_SIMPLE.time_to_decay(80) == timedelta(days=46.875)
    assert round(PHISHING.time_to_decay(80).total_seconds() / 86400, 2) == 1.02
    assert LONG_LIVED_HASH.time_to_decay(80) > timedelta(days=1000)
    assert NIDS_SIMPLE.time_to_decay(30) == timedelta(0)


def test_is_decayed_is_threshold_above_score() -> None:
    t_star = NIDS_SIMPLE.time_to_decay(80)
    assert not NIDS_SIMPLE.is_decayed(t_star - timedelta(hours=1), 80)
    assert NIDS_SIMPLE.is_decayed(t_star + timedelta(hours=1), 80)


models = st.sampled_from([NIDS_SIMPLE, PHISHING, LONG_LIVED_HASH])
elapsed = st.floats(min_value=0, max_value=4000 * 86400)


@given(models, st.floats(min_value=0, max_value=100), elapsed, elapsed)
def test_score_never_rises_with_time(model: DecayModel, base: float, a: float, b: float) -> None:
    early, late = sorted((a, b))
    assert model.score(timedelta(seconds=late), base) <= model.score(timedelta(seconds=early), base)
    assert 0 <= model.score(timedelta(seconds=late), base) <= base


@given(models, st.floats(min_value=31, max_value=100))
def test_closed_form_time_to_decay_is_where_the_score_meets_the_threshold(
    model: DecayModel, base: float
) -> None:
    assert model.score(model.time_to_decay(base), base) == pytest.approx(model.threshold, abs=1e-6)


@given(st.integers(min_value=0, max_value=200), st.sampled_from([1, 2]))
def test_only_type_0_sightings_reset_the_clock(days: int, other_type: int) -> None:
    state = DecayState(NIDS_SIMPLE, 80, T0)
    later = T0 + timedelta(days=days)
    assert state.sighted(later, other_type) == state
    reset = state.sighted(later, 0)
    assert reset.score(later) == 80 if days else reset == state
    assert reset.score(later + timedelta(days=1)) >= state.score(later + timedelta(days=1))


def test_reference_time_follows_misp() -> None:
    seen, sighted, stamp = T0 + timedelta(days=1), T0 + timedelta(days=5), T0
    assert reference_time(None, None, stamp) == stamp
    assert reference_time(None, seen, stamp) == seen
    assert reference_time(sighted, seen, stamp) == sighted
    assert reference_time(sighted, seen, stamp, modified=sighted + timedelta(days=1)) == seen


def test_models_per_type_and_base_scores() -> None:
    assert model_for(ValueType.DOMAIN) is NIDS_SIMPLE and model_for(ValueType.IPV4) is NIDS_SIMPLE
    assert model_for(ValueType.URL, ["Phishing"]) is PHISHING and model_for(ValueType.EMAIL) is PHISHING
    assert model_for(ValueType.SHA256) is LONG_LIVED_HASH
    # MISP blog: admiralty-scale A (100) and phishing "high" (75) at 50/50 give 87.5
    assert base_score({"admiralty": 100, "phishing": 75}, {"admiralty": 50, "phishing": 50}) == 87.5
    assert base_score({}, {"admiralty": 1}, default=80) == 80
    assert (
        admiralty_base_score("A", 3) == 75
        and admiralty_base_score("b") == 75
        and admiralty_base_score(None) == 80
    )
