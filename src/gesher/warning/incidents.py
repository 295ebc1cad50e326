"""The national incident board (issue 7, "Incident board"): incidents' state machine and the board's report
figures, as pure computation on plain records (no store, no clock: every time is passed in, integer
microseconds since the epoch, UTC).

An incident is open, contained or closed:

- `contain` (open -> contained) and `close` (contained -> closed) move it forward; `reopen` (contained or
  closed -> open) takes it back. Each of the three needs a reason (history is append-only, DESIGN.md 5.5).
- `link` attaches an alert to an open or contained incident and leaves its state as it is; a closed
  incident takes no alert until it is reopened.
- Anything else is refused with the actions allowed from the current state.

The report, over a period [since, until) (either bound may be open):

- *per month*: incidents opened, contained, closed and reopened, and attacks: the alerts raised (each is
  one detected wave of a threat across partners), by level;
- *concurrent incidents*: a step series, one step at each instant the number of open or contained
  incidents changes, starting with the count standing at `since`;
- *sectors hit*: per incident, the distinct sectors of the sightings behind its alerts raised in the
  period, then counted per sector (a partner in several sectors, stored as `energy+finance`, hits each);
- *time to alert*: per alert, its raise time minus the earliest sighting behind it, median and 90th
  percentile (nearest rank) per month and level.

The sightings *behind* an alert are the type-0 sightings (not false positives nor expirations) of its
token seen within the longest rule window before the alert was raised (the spell of activity the
correlation weighed) and received by then."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

from gesher.errors import Conflict, InvalidRequest

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MONTH = re.compile(r"(\d{4})-(\d\d)")
LEVELS: Final = (1, 2, 3)


class State(StrEnum):
    """Where an incident stands."""

    OPEN = "open"
    CONTAINED = "contained"
    CLOSED = "closed"


class Action(StrEnum):
    """What can be done to an incident (each is an `incident_events` row and a ledger entry)."""

    OPEN = "open"
    CONTAIN = "contain"
    CLOSE = "close"
    REOPEN = "reopen"
    LINK = "link"


ACTIVE: Final = frozenset({State.OPEN, State.CONTAINED})
NEEDS_REASON: Final = frozenset({Action.CONTAIN, Action.CLOSE, Action.REOPEN})
_MOVES: Final[dict[Action, dict[State, State]]] = {
    Action.CONTAIN: {State.OPEN: State.CONTAINED},
    Action.CLOSE: {State.CONTAINED: State.CLOSED},
    Action.REOPEN: {State.CONTAINED: State.OPEN, State.CLOSED: State.OPEN},
    Action.LINK: {State.OPEN: State.OPEN, State.CONTAINED: State.CONTAINED},
}


class IllegalTransition(Conflict):
    """An action the incident's current state does not allow (409: the state, not the request, is at odds)."""

    title = "Illegal incident transition"


class ReasonRequired(InvalidRequest):
    """Containing, closing or reopening an incident without a reason."""

    title = "Reason required"


def allowed(state: State) -> tuple[Action, ...]:
    """The actions allowed from `state`, in a fixed order (contain, close, reopen, link)."""
    return tuple(action for action, moves in _MOVES.items() if state in moves)


def transition(state: State, action: Action, reason: str = "", subject: str = "the incident") -> State:
    """The state after `action` from `state`. Raises `IllegalTransition` naming the allowed actions, or
    `ReasonRequired` when a contain, close or reopen comes without a reason."""
    moves = _MOVES.get(action, {})
    if state not in moves:
        permitted = ", ".join(allowed(state)) or "none"
        raise IllegalTransition(
            f"cannot {action.value} {subject}: it is {state.value}, and from {state.value} the allowed "
            f"actions are {permitted} (open -> contained -> closed; reopen from contained or closed)"
        )
    if action in NEEDS_REASON and not reason.strip():
        raise ReasonRequired(f"to {action.value} {subject}, give a reason")
    return moves[state]


# --- time ---------------------------------------------------------------------------------------------------


def micros_of(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch (exact, no float)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def month_of(at: int) -> str:
    """The UTC month (`YYYY-MM`) of a time in microseconds."""
    return (EPOCH + timedelta(microseconds=at)).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[int, int]:
    """A month `YYYY-MM` as [its first instant, the next month's first instant) in microseconds. Raises
    ValueError for anything else."""
    found = _MONTH.fullmatch(month.strip())
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValueError(f"{month!r} is not a month (YYYY-MM)")
    year, number = int(found.group(1)), int(found.group(2))
    start = datetime(year, number, 1, tzinfo=UTC)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return micros_of(start), micros_of(end)


def months_between(first: int, last: int) -> list[str]:
    """Every month from the one holding `first` to the one holding `last`, both included."""
    months, current = [], month_of(first)
    end = month_of(last)
    while current <= end:
        months.append(current)
        current = month_of(month_bounds(current)[1])
    return months


def _within(at: int, since: int | None, until: int | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


# --- records ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One incident event as the report reads it: which incident, when, what was done, the state after."""

    incident: int
    at: int
    action: Action
    state: State


@dataclass(frozen=True)
class AlertRecord:
    """One alert: its id, the token it is about, its level (1-3) and when it was raised."""

    id: str
    token: str
    level: int
    raised_at: int


@dataclass(frozen=True)
class SightingRecord:
    """One stored sighting: token, reporter (its row id), sector(s), country, MISP type (0 sighting,
    1 false positive, 2 expiration), when seen and when received."""

    token: str
    partner: int
    sector: str
    country: str
    type: int
    seen_at: int
    received_at: int


@dataclass(frozen=True)
class Step:
    """The number of open and of contained incidents from `at` until the next step."""

    at: int
    open: int
    contained: int

    @property
    def active(self) -> int:
        """Open plus contained: the incidents being handled."""
        return self.open + self.contained


@dataclass(frozen=True)
class MonthRow:
    """One month: incidents opened, contained, closed and reopened in it, and the alerts (attacks) raised
    in it, in all and per level."""

    month: str
    opened: int
    contained: int
    closed: int
    reopened: int
    alerts: int
    l1: int
    l2: int
    l3: int


@dataclass(frozen=True)
class SectorRow:
    """One sector: the incidents that hit it, their alerts whose sightings name it, and its reporters."""

    sector: str
    incidents: int
    alerts: int
    partners: int


@dataclass(frozen=True)
class LatencyRow:
    """Time from first sighting to alert for one month and level (`all` for every level): alerts raised,
    those with a sighting behind them, and the median and 90th percentile in seconds."""

    month: str
    level: str
    alerts: int
    known: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Summary:
    """The period in figures: incidents opened, contained, closed, reopened; alerts raised and linked to an
    incident; incidents open and contained at the end; the overall time to alert."""

    opened: int
    contained: int
    closed: int
    reopened: int
    alerts: int
    linked_alerts: int
    open_at_end: int
    contained_at_end: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Report:
    """The board's report over [since, until) (None: unbounded)."""

    since: int | None
    until: int | None
    summary: Summary
    months: list[MonthRow]
    concurrent: list[Step]
    sectors: list[SectorRow]
    latency: list[LatencyRow]


# --- concurrent incidents -----------------------------------------------------------------------------------


def concurrent(changes: Iterable[Change], since: int | None = None, until: int | None = None) -> list[Step]:
    """The step series of open and contained incidents. `changes` come in event order; those at one
    instant are applied together. With `since`, the first step is the count standing at `since`; steps at
    or after `until` are left out; a step that changes nothing is not repeated."""
    ordered = sorted(changes, key=lambda c: c.at)  # stable: event order within an instant
    states: dict[int, State] = {}
    counts: Counter[State] = Counter()
    full: list[Step] = []
    for change in ordered:
        before = states.get(change.incident)
        if before is not None:
            counts[before] -= 1
        states[change.incident] = change.state
        counts[change.state] += 1
        step = Step(change.at, counts[State.OPEN], counts[State.CONTAINED])
        if full and full[-1].at == change.at:
            full[-1] = step
        else:
            full.append(step)
    steps: list[Step] = []
    if since is not None:
        standing = [s for s in full if s.at <= since]
        last = standing[-1] if standing else Step(since, 0, 0)
        steps.append(Step(since, last.open, last.contained))
    for step in full:
        inside = (since is None or step.at > since) and (until is None or step.at < until)
        if inside and (not steps or (steps[-1].open, steps[-1].contained) != (step.open, step.contained)):
            steps.append(step)
    return steps


def standing_at(steps: Sequence[Step], at: int) -> Step:
    """The step in force at `at` (zero incidents before the first step)."""
    found = Step(at, 0, 0)
    for step in steps:
        if step.at > at:
            break
        found = step
    return found


def active_during(changes: Iterable[Change], since: int, until: int) -> bool:
    """Whether an incident, from its changes in event order, was open or contained at some instant of
    [since, until): it stood so at `since`, or a change inside the period left it so."""
    standing: State | None = None
    for change in sorted(changes, key=lambda c: c.at):
        if change.at <= since:
            standing = change.state
        elif change.at < until and change.state in ACTIVE:
            return True
    return standing in ACTIVE


# --- months, sectors, time to alert -------------------------------------------------------------------------


def per_month(
    opened: Mapping[int, int],
    changes: Iterable[Change],
    alerts: Iterable[AlertRecord],
    since: int | None = None,
    until: int | None = None,
) -> list[MonthRow]:
    """Month rows over the period: `opened` maps each incident to its opening time; an incident counts in
    the month it was opened (so the months partition the incidents opened in the period). Every month
    from the first to the last with data (or the period's own months, when it is bounded) is listed."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for at in opened.values():
        if _within(at, since, until):
            counts[month_of(at)]["opened"] += 1
    for change in changes:
        if change.action is not Action.OPEN and _within(change.at, since, until):
            counts[month_of(change.at)][change.action.value] += 1
    for alert in alerts:
        if _within(alert.raised_at, since, until):
            counts[month_of(alert.raised_at)]["alerts"] += 1
            counts[month_of(alert.raised_at)][f"l{alert.level}"] += 1
    keys = ("opened", "contain", "close", "reopen", "alerts", *(f"l{level}" for level in LEVELS))
    return [MonthRow(month, *(counts[month][k] for k in keys)) for month in _months(counts, since, until)]


def _months(counts: Mapping[str, object], since: int | None, until: int | None) -> list[str]:
    known = sorted(counts)
    first = month_bounds(known[0])[0] if known else None
    last = month_bounds(known[-1])[0] if known else None
    start = since if since is not None else first
    end = until - 1 if until is not None else last
    if start is None or end is None or end < start:
        return known
    return months_between(start, end)


def split_sectors(sector: str) -> list[str]:
    """The sectors a stored sighting's sector names (`energy+finance` -> energy, finance)."""
    return [s for s in sector.split("+") if s]


def behind(alert: AlertRecord, sightings: Iterable[SightingRecord], window: int) -> list[SightingRecord]:
    """The sightings behind `alert`: type 0, of its token, seen within `window` (microseconds) before it
    was raised, and received by then."""
    start = alert.raised_at - window
    return [
        s
        for s in sightings
        if s.token == alert.token and s.type == 0 and s.seen_at >= start and s.received_at <= alert.raised_at
    ]


def time_to_alert(alert: AlertRecord, sightings: Iterable[SightingRecord], window: int) -> int | None:
    """Microseconds from the earliest sighting behind `alert` to the alert (None if none is stored; never
    negative: a reporter's clock ahead of ours counts as no delay)."""
    first = min((s.seen_at for s in behind(alert, sightings, window)), default=None)
    return None if first is None else max(0, alert.raised_at - first)


def quantiles(values: Sequence[float]) -> tuple[float | None, float | None]:
    """The median (the mean of the two middle values for an even count) and the 90th percentile by the
    nearest-rank method, as the disclosure report computes them; (None, None) for no values."""
    if not values:
        return None, None
    ordered = sorted(values)
    return float(statistics.median(ordered)), float(ordered[math.ceil(0.9 * len(ordered)) - 1])


def latency(
    alerts: Iterable[AlertRecord], sightings: Mapping[str, Sequence[SightingRecord]], window: int
) -> list[LatencyRow]:
    """Time to alert per month and level, then `all` levels per month, months in order. `sightings` maps
    each token to its sightings."""
    spans: dict[tuple[str, str], list[float]] = defaultdict(list)
    raised: Counter[tuple[str, str]] = Counter()
    for alert in alerts:
        month = month_of(alert.raised_at)
        delay = time_to_alert(alert, sightings.get(alert.token, ()), window)
        for level in (f"L{alert.level}", "all"):
            raised[month, level] += 1
            if delay is not None:
                spans[month, level].append(delay / 1_000_000)
    rows = []
    for month, level in sorted(raised, key=lambda k: (k[0], k[1] == "all", k[1])):
        median, p90 = quantiles(spans[month, level])
        rows.append(LatencyRow(month, level, raised[month, level], len(spans[month, level]), median, p90))
    return rows


def sectors_hit(
    links: Mapping[int, Sequence[AlertRecord]],
    sightings: Mapping[str, Sequence[SightingRecord]],
    window: int,
) -> list[SectorRow]:
    """Per sector, the incidents that hit it (each once), the alerts whose sightings name it, and the
    distinct partners that reported in it; most incidents first, then by name. `links` maps each incident
    to its alerts (those of the period)."""
    incidents: dict[str, set[int]] = defaultdict(set)
    alert_ids: dict[str, set[str]] = defaultdict(set)
    partners: dict[str, set[int]] = defaultdict(set)
    for incident, alerts in links.items():
        for alert in alerts:
            for s in behind(alert, sightings.get(alert.token, ()), window):
                for sector in split_sectors(s.sector):
                    incidents[sector].add(incident)
                    alert_ids[sector].add(alert.id)
                    partners[sector].add(s.partner)
    rows = [SectorRow(k, len(incidents[k]), len(alert_ids[k]), len(partners[k])) for k in incidents]
    return sorted(rows, key=lambda r: (-r.incidents, r.sector))


def affected(
    alerts: Iterable[AlertRecord], sightings: Mapping[str, Sequence[SightingRecord]], window: int
) -> tuple[list[str], list[str], int | None]:
    """What an incident's alerts reached: the distinct sectors and countries of the sightings behind them
    (sorted), and the earliest of those sightings (None if none)."""
    sectors: set[str] = set()
    countries: set[str] = set()
    first: int | None = None
    for alert in alerts:
        for s in behind(alert, sightings.get(alert.token, ()), window):
            sectors.update(split_sectors(s.sector))
            countries.add(s.country)
            first = s.seen_at if first is None else min(first, s.seen_at)
    return sorted(sectors), sorted(countries), first


# --- the report ---------------------------------------------------------------------------------------------


def report(
    opened: Mapping[int, int],
    changes: Sequence[Change],
    links: Mapping[int, Sequence[AlertRecord]],
    alerts: Sequence[AlertRecord],
    sightings: Mapping[str, Sequence[SightingRecord]],
    window: int,
    since: int | None = None,
    until: int | None = None,
) -> Report:
    """The board's report over [since, until): `opened` maps every incident to its opening time,
    `changes` are every incident event in order, `links` each incident's alerts, `alerts` every alert;
    only what falls in the period is counted (earlier changes set the standing count)."""
    in_period = [a for a in alerts if _within(a.raised_at, since, until)]
    period_links = {
        i: [a for a in linked if _within(a.raised_at, since, until)] for i, linked in links.items()
    }
    steps = concurrent(changes, since, until)
    end = steps[-1] if steps else Step(0, 0, 0)
    actions = Counter(c.action for c in changes if _within(c.at, since, until))
    linked = {a.id for linked in period_links.values() for a in linked}
    spans = [time_to_alert(a, sightings.get(a.token, ()), window) for a in in_period]
    median, p90 = quantiles([s / 1_000_000 for s in spans if s is not None])
    summary = Summary(
        sum(1 for at in opened.values() if _within(at, since, until)),
        actions[Action.CONTAIN],
        actions[Action.CLOSE],
        actions[Action.REOPEN],
        len(in_period),
        len(linked),
        end.open,
        end.contained,
        median,
        p90,
    )
    return Report(
        since,
        until,
        summary,
        per_month(opened, changes, alerts, since, until),
        steps,
        sectors_hit(period_links, sightings, window),
        latency(in_period, sightings, window),
    )
