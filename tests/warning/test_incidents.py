"""The incident board's pure core (issue 7, "Incident board"): the state machine, the report's figures on
hand-made records, and properties of the concurrent series and of the month buckets."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gesher.warning import incidents
from gesher.warning.incidents import (
    Action,
    AlertRecord,
    Change,
    IllegalTransition,
    ReasonRequired,
    SightingRecord,
    State,
    Step,
    allowed,
    concurrent,
    latency,
    month_bounds,
    month_of,
    per_month,
    report,
    sectors_hit,
    standing_at,
    time_to_alert,
    transition,
)

H = 3_600_000_000  # an hour in microseconds
DAY = 24 * H
WINDOW = 72 * H


def at(text: str) -> int:
    return incidents.micros_of(datetime.fromisoformat(text).replace(tzinfo=UTC))


# --- state machine ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "after"),
    [
        (State.OPEN, Action.CONTAIN, State.CONTAINED),
        (State.CONTAINED, Action.CLOSE, State.CLOSED),
        (State.CONTAINED, Action.REOPEN, State.OPEN),
        (State.CLOSED, Action.REOPEN, State.OPEN),
        (State.OPEN, Action.LINK, State.OPEN),
        (State.CONTAINED, Action.LINK, State.CONTAINED),
    ],
)
def test_legal_transitions(state: State, action: Action, after: State) -> None:
    assert transition(state, action, "because") is after


@pytest.mark.parametrize(
    ("state", "action", "permitted"),
    [
        (State.OPEN, Action.CLOSE, "contain, link"),
        (State.OPEN, Action.REOPEN, "contain, link"),
        (State.CONTAINED, Action.CONTAIN, "close, reopen, link"),
        (State.CLOSED, Action.CLOSE, "reopen"),
        (State.CLOSED, Action.LINK, "reopen"),
        (State.CLOSED, Action.OPEN, "reopen"),
    ],
)
def test_an_illegal_transition_names_the_allowed_ones(state: State, action: Action, permitted: str) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(state, action, "because", "incident 7")
    text = str(caught.value)
    assert f"cannot {action.value} incident 7: it is {state.value}" in text
    assert f"the allowed actions are {permitted} (" in text
    assert caught.value.status == 409


@pytest.mark.parametrize("action", [Action.CONTAIN, Action.CLOSE, Action.REOPEN])
def test_contain_close_and_reopen_need_a_reason(action: Action) -> None:
    state = State.CLOSED if action is Action.REOPEN else allowed_from(action)
    with pytest.raises(ReasonRequired, match=f"to {action.value} the incident, give a reason"):
        transition(state, action, "  ")


def allowed_from(action: Action) -> State:
    return next(s for s in State if action in allowed(s))


def test_a_link_needs_no_reason() -> None:
    assert transition(State.OPEN, Action.LINK) is State.OPEN


# --- months -----------------------------------------------------------------------------------------------


def test_month_bounds_and_month_of() -> None:
    start, end = month_bounds("2026-12")
    assert (start, end) == (at("2026-12-01T00:00:00"), at("2027-01-01T00:00:00"))
    assert month_of(start) == "2026-12" and month_of(end - 1) == "2026-12" and month_of(end) == "2027-01"
    for bad in ("2026-13", "2026-1", "26-01", "november"):
        with pytest.raises(ValueError, match="is not a month"):
            month_bounds(bad)


# --- a small world by hand --------------------------------------------------------------------------------


def sighting(
    token: str, partner: int, sector: str, seen: int, country: str = "IL", kind: int = 0
) -> SightingRecord:
    return SightingRecord(token, partner, sector, country, kind, seen, seen)


T = at("2026-11-02T10:00:00")
A1 = AlertRecord("report--1", "c2.example", 1, T + H)
A2 = AlertRecord("report--2", "c2.example", 2, T + 5 * H)
A3 = AlertRecord("report--3", "lure.example", 1, T + 40 * DAY)  # December
SIGHTINGS = {
    "c2.example": [
        sighting("c2.example", 1, "finance", T - 4 * DAY),  # outside the 72 h window
        sighting("c2.example", 1, "finance", T),
        sighting("c2.example", 2, "energy+government", T + 30 * 60_000_000),
        sighting("c2.example", 3, "health", T + 2 * H, "GB"),
        sighting("c2.example", 4, "transport", T + H, kind=1),  # a false positive is no sighting
        sighting("c2.example", 5, "water", T + 6 * H),  # after both alerts
    ],
    "lure.example": [sighting("lure.example", 2, "energy+government", T + 40 * DAY - 90 * 60_000_000)],
}


def test_time_to_alert_uses_the_earliest_sighting_behind_the_alert() -> None:
    assert time_to_alert(A1, SIGHTINGS["c2.example"], WINDOW) == H
    assert time_to_alert(A2, SIGHTINGS["c2.example"], WINDOW) == 5 * H
    assert time_to_alert(A1, SIGHTINGS["c2.example"], 30 * 60_000_000) == 30 * 60_000_000
    assert time_to_alert(A1, [], WINDOW) is None


def test_sectors_hit_are_distinct_per_incident_and_split() -> None:
    rows = sectors_hit({1: [A1, A2], 2: [A3]}, SIGHTINGS, WINDOW)
    assert [(r.sector, r.incidents, r.alerts, r.partners) for r in rows] == [
        ("energy", 2, 3, 1),
        ("government", 2, 3, 1),
        ("finance", 1, 2, 1),
        ("health", 1, 1, 1),
    ]


def test_latency_per_month_and_level() -> None:
    rows = latency([A1, A2, A3], SIGHTINGS, WINDOW)
    assert [(r.month, r.level, r.alerts, r.known, r.median_seconds, r.p90_seconds) for r in rows] == [
        ("2026-11", "L1", 1, 1, 3600.0, 3600.0),
        ("2026-11", "L2", 1, 1, 18000.0, 18000.0),
        ("2026-11", "all", 2, 2, 10800.0, 18000.0),
        ("2026-12", "L1", 1, 1, 5400.0, 5400.0),
        ("2026-12", "all", 1, 1, 5400.0, 5400.0),
    ]


CHANGES = [
    Change(1, T + H, Action.OPEN, State.OPEN),
    Change(1, T + 5 * H, Action.LINK, State.OPEN),
    Change(2, T + 6 * H, Action.OPEN, State.OPEN),
    Change(1, T + DAY, Action.CONTAIN, State.CONTAINED),
    Change(2, T + DAY, Action.CONTAIN, State.CONTAINED),
    Change(1, T + 3 * DAY, Action.CLOSE, State.CLOSED),
    Change(3, T + 40 * DAY, Action.OPEN, State.OPEN),
]
OPENED = {1: T + H, 2: T + 6 * H, 3: T + 40 * DAY}


def test_the_concurrent_series_steps_at_each_change() -> None:
    assert concurrent(CHANGES) == [
        Step(T + H, 1, 0),
        Step(T + 6 * H, 2, 0),
        Step(T + DAY, 0, 2),
        Step(T + 3 * DAY, 0, 1),
        Step(T + 40 * DAY, 1, 1),
    ]
    december = month_bounds("2026-12")
    assert concurrent(CHANGES, *december) == [Step(december[0], 0, 1), Step(T + 40 * DAY, 1, 1)]


def test_the_report_over_november() -> None:
    since, until = month_bounds("2026-11")
    found = report(
        OPENED, CHANGES, {1: [A1, A2], 2: [], 3: [A3]}, [A1, A2, A3], SIGHTINGS, WINDOW, since, until
    )
    s = found.summary
    assert (s.opened, s.contained, s.closed, s.reopened, s.alerts, s.linked_alerts) == (2, 2, 1, 0, 2, 2)
    assert (s.open_at_end, s.contained_at_end, s.median_seconds, s.p90_seconds) == (0, 1, 10800.0, 18000.0)
    assert [(m.month, m.opened, m.contained, m.closed, m.alerts, m.l1, m.l2) for m in found.months] == [
        ("2026-11", 2, 2, 1, 2, 1, 1)
    ]
    assert [r.sector for r in found.sectors] == ["energy", "finance", "government", "health"]


def test_months_between_data_are_listed_even_when_empty() -> None:
    rows = per_month({1: at("2026-09-03T00:00:00"), 2: at("2026-11-30T23:59:59")}, [], [])
    assert [(r.month, r.opened) for r in rows] == [("2026-09", 1), ("2026-10", 0), ("2026-11", 1)]


# --- properties -------------------------------------------------------------------------------------------

_ACTIONS = st.sampled_from([Action.CONTAIN, Action.CLOSE, Action.REOPEN, Action.LINK])


@st.composite
def histories(draw: st.DrawFn) -> list[Change]:
    """Legal event histories of a few incidents, interleaved, times non-decreasing per incident."""
    changes: list[Change] = []
    for incident in range(draw(st.integers(0, 6))):
        time = draw(st.integers(0, 50))
        state = State.OPEN
        changes.append(Change(incident, time, Action.OPEN, state))
        for action in draw(st.lists(_ACTIONS, max_size=6)):
            if action in allowed(state):
                time += draw(st.integers(0, 10))
                state = transition(state, action, "r")
                changes.append(Change(incident, time, action, state))
    return sorted(changes, key=lambda c: c.at)  # event order: the store's ids follow time


def brute_force(changes: list[Change], instant: int) -> tuple[int, int]:
    latest: dict[int, State] = {}
    for c in changes:  # in event order: the last one at or before the instant wins
        if c.at <= instant:
            latest[c.incident] = c.state
    states = list(latest.values())
    return states.count(State.OPEN), states.count(State.CONTAINED)


@given(histories(), st.one_of(st.none(), st.integers(0, 60)), st.integers(0, 120))
def test_the_concurrent_series_equals_a_brute_force_count(
    changes: list[Change], since: int | None, length: int
) -> None:
    until = None if since is None else since + length + 1
    steps = concurrent(changes, since, until)
    assert all(s.open >= 0 and s.contained >= 0 for s in steps)
    assert [s.at for s in steps] == sorted({s.at for s in steps})
    start = since if since is not None else 0
    end = until if until is not None else 130
    for instant in range(start, end):
        step = standing_at(steps, instant)
        assert (step.open, step.contained) == brute_force(changes, instant), instant


@given(
    st.dictionaries(st.integers(0, 1000), st.integers(at("2025-01-01T00:00:00"), at("2027-12-31T00:00:00"))),
    st.one_of(st.none(), st.sampled_from(["2025-02", "2026-02", "2026-11", "2027-12"])),
)
def test_month_buckets_partition_the_incidents(opened: dict[int, int], month: str | None) -> None:
    since, until = month_bounds(month) if month else (None, None)
    rows = per_month(opened, [], [], since, until)
    expected = [
        i for i, t in opened.items() if (since is None or t >= since) and (until is None or t < until)
    ]
    assert sum(r.opened for r in rows) == len(expected)
    for row in rows:
        start, end = month_bounds(row.month)
        assert row.opened == sum(1 for i in expected if start <= opened[i] < end)
    assert len({r.month for r in rows}) == len(rows)


def test_every_public_function_explains_itself() -> None:
    assert inspect.getdoc(incidents)
    for name, function in inspect.getmembers(incidents, inspect.isfunction):
        if function.__module__ == incidents.__name__ and not name.startswith("_"):
            assert inspect.getdoc(function), name


def test_active_during_a_period() -> None:
    first = [c for c in CHANGES if c.incident == 1]  # opened T + 1 h, contained T + 1 d, closed T + 3 d
    assert incidents.active_during(first, T + 2 * DAY, T + 2 * DAY + 1)
    assert incidents.active_during(first, T - DAY, T + 2 * H)
    assert not incidents.active_during(first, T - DAY, T)
    assert not incidents.active_during(first, T + 3 * DAY, T + 4 * DAY)
