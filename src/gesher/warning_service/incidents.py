"""The national incident board (issue 7, "Incident board"): national-level incidents (open, contained,
closed) linked to alerts, and through them to the sightings and sectors they stand for.

Every function works in the caller's transaction and never commits (the CLI or request owns it). Every
state change and every link is an append-only `incident_events` row with its actor and reason, and an
`incident` entry of the disclosure ledger, in that same transaction. A change is a compare-and-set on the
incident's `version`: a concurrent change (another analyst, another worker) makes the later one fail with
`Conflict` (409) rather than silently overwrite it.

The rules themselves (which transitions, which figures) are the pure core's, `gesher.warning.incidents`.

`open_or_link_for_alert` is what alert publication calls: an alert on a token that already belongs to an
open or contained incident joins it (raising its level if higher); otherwise it opens a new incident
titled from the alert's rule."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gesher.errors import Conflict, InvalidRequest, NotFound
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.store import incidents as store
from gesher.store.incidents import AlertRow, EventRow, IncidentRow, SightingFacts
from gesher.store.warning import lock_token
from gesher.warning import incidents as core
from gesher.warning.incidents import Action, AlertRecord, Change, ReasonRequired, SightingRecord, State
from gesher.warning.rules import DEFAULT_RULESET

WINDOW = DEFAULT_RULESET.longest  # the sightings behind an alert: its spell of activity (72 h by default)


@dataclass(frozen=True)
class Detail:
    """One incident as `incidents show` prints it: the row, its events (oldest first), its alerts each with
    its time from first sighting (microseconds, None if no sighting is stored), the sectors and countries
    of the sightings behind them, how many partners reported, the first sighting, and the time from it to
    the first alert."""

    incident: IncidentRow
    events: list[EventRow]
    alerts: list[tuple[AlertRow, int | None]]
    sectors: list[str]
    countries: list[str]
    partners: int
    first_sighting: int | None
    time_to_alert: int | None


@dataclass(frozen=True)
class BoardRow:
    """One line of the board: the incident, its alerts, the sectors they hit, and its age (microseconds
    from opening to `now`)."""

    incident: IncidentRow
    alerts: int
    sectors: list[str]
    age: int


def _micros(now: datetime) -> int:
    return core.micros_of(now)


def _span(window: timedelta) -> int:
    return window // timedelta(microseconds=1)


# --- changes ------------------------------------------------------------------------------------------------


def open_incident(
    conn: Connection,
    title: str,
    level: int | None,
    actor: str,
    reason: str,
    alert_ids: Sequence[str],
    now: datetime,
) -> IncidentRow:
    """Open an incident and link `alert_ids` to it. Its level is the highest of `level` and the alerts'
    (at least one of the two is needed). Refused: an empty title or reason, an unknown alert, an alert
    that already belongs to an incident."""
    if not title.strip():
        raise InvalidRequest("an incident needs a title")
    if not reason.strip():
        raise ReasonRequired("to open an incident, give a reason")
    found = [_alert(conn, a) for a in dict.fromkeys(alert_ids)]
    for row in found:
        _check_unlinked(conn, row.id, None)
    levels = [row.level for row in found] + ([level] if level is not None else [])
    if not levels:
        raise InvalidRequest("give the incident a level (1-3) or at least one alert")
    if level is not None and not 1 <= level <= 3:
        raise InvalidRequest(f"level {level} is not 1, 2 or 3")
    at = _micros(now)
    incident_id = store.add_incident(conn, title.strip(), State.OPEN.value, max(levels), at)
    opened = _require(conn, incident_id)
    _record(conn, opened, Action.OPEN, actor, reason, at, None)
    for row in found:
        opened = _link(conn, opened, row, actor, f"linked when the incident was opened: {reason}", at)
    return opened


def link(
    conn: Connection, incident_id: int, alert_id: str, actor: str, now: datetime, reason: str = ""
) -> IncidentRow:
    """Link an alert to an open or contained incident, raising its level to the alert's if higher. Linking
    it again changes nothing; an alert of another incident is refused (409)."""
    incident = _require(conn, incident_id)
    row = _alert(conn, alert_id)
    if incident_id in store.incidents_of_alert(conn, alert_id):
        return incident
    _check_unlinked(conn, alert_id, incident_id)
    return _link(conn, incident, row, actor, reason.strip() or f"alert {alert_id} linked", _micros(now))


def contain(
    conn: Connection,
    incident_id: int,
    actor: str,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> IncidentRow:
    """open -> contained (a reason is needed)."""
    return change(conn, incident_id, Action.CONTAIN, actor, reason, now, expected_version)


def close(
    conn: Connection,
    incident_id: int,
    actor: str,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> IncidentRow:
    """contained -> closed (a reason is needed)."""
    return change(conn, incident_id, Action.CLOSE, actor, reason, now, expected_version)


def reopen(
    conn: Connection,
    incident_id: int,
    actor: str,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> IncidentRow:
    """contained or closed -> open (a reason is needed)."""
    return change(conn, incident_id, Action.REOPEN, actor, reason, now, expected_version)


def change(
    conn: Connection,
    incident_id: int,
    action: Action,
    actor: str,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> IncidentRow:
    """Apply a contain, close or reopen. With `expected_version` (the version the analyst saw), a change
    since then is a `Conflict`; without it, one between this read and the write is."""
    incident = _require(conn, incident_id)
    if expected_version is not None and expected_version != incident.version:
        raise _conflict(incident_id, expected_version)
    after = core.transition(State(incident.state), action, reason, f"incident {incident_id}")
    return _set(conn, incident, after, incident.level, action, actor, reason.strip(), _micros(now), None)


def open_or_link_for_alert(conn: Connection, alert_id: str, actor: str, now: datetime) -> IncidentRow:
    """The incident an alert belongs to: the one it is linked to already; else the open or contained
    incident holding an alert on the same token (linked, its level raised if the alert's is higher); else a
    new incident titled from the alert's rule, with the token's unlinked alerts of the last longest window.
    Call it in the transaction that raised the alert."""
    row = _alert(conn, alert_id)
    lock_token(conn, row.token)  # two alerts on one token at once must not open two incidents
    linked = store.incidents_of_alert(conn, alert_id)
    if linked:
        return _require(conn, linked[0])
    current = store.active_for_token(conn, row.token)
    if current is not None:
        reason = f"alert {alert_id} on {row.token} joined the incident holding its token"
        return _link(conn, current, row, actor, reason, _micros(now))
    title = f"{row.rule.split(':', 1)[0]} on {row.token}"
    reason = f"opened for alert {alert_id} ({row.rule})"
    # The earlier warnings of the same spell (e.g. the L2 before this L3) belong to the incident too.
    earlier = store.unlinked_alerts_of_token(conn, row.token, row.raised_at - _span(WINDOW))
    return open_incident(conn, title, row.level, actor, reason, [*earlier, alert_id], now)


def _link(
    conn: Connection, incident: IncidentRow, row: AlertRow, actor: str, reason: str, at: int
) -> IncidentRow:
    state = core.transition(State(incident.state), Action.LINK, reason, f"incident {incident.id}")
    updated = _set(
        conn, incident, state, max(incident.level, row.level), Action.LINK, actor, reason, at, row.id
    )
    store.link(conn, incident.id, row.id, at)
    return updated


def _set(
    conn: Connection,
    incident: IncidentRow,
    state: State,
    level: int,
    action: Action,
    actor: str,
    reason: str,
    at: int,
    alert_id: str | None,
) -> IncidentRow:
    if not store.compare_and_set(conn, incident.id, incident.version, state.value, level, at):
        raise _conflict(incident.id, incident.version)
    updated = _require(conn, incident.id)
    _record(conn, updated, action, actor, reason, at, alert_id)
    return updated


def _record(
    conn: Connection,
    incident: IncidentRow,
    action: Action,
    actor: str,
    reason: str,
    at: int,
    alert_id: str | None,
) -> None:
    event = {"incident_id": incident.id, "at": at, "actor": actor, "action": action.value}
    event |= {"state": incident.state, "reason": reason, "alert_id": alert_id}
    store.add_event(conn, event)
    ledger.record(
        conn,
        Kind.INCIDENT,
        actor,
        incident=incident.id,
        action=action.value,
        state=incident.state,
        level=incident.level,
        reason=reason,
        alert=alert_id,
    )


def _conflict(incident_id: int, version: int) -> Conflict:
    return Conflict(
        f"incident {incident_id} was changed by someone else since version {version}: show it again and retry"
    )


def _require(conn: Connection, incident_id: int) -> IncidentRow:
    found = store.incident(conn, incident_id)
    if found is None:
        raise NotFound(f"no incident {incident_id}")
    return found


def _alert(conn: Connection, alert_id: str) -> AlertRow:
    found = store.alert(conn, alert_id)
    if found is None:
        raise NotFound(f"no alert {alert_id}")
    return found


def _check_unlinked(conn: Connection, alert_id: str, incident_id: int | None) -> None:
    others = [i for i in store.incidents_of_alert(conn, alert_id) if i != incident_id]
    if others:
        raise Conflict(f"alert {alert_id} already belongs to incident {others[0]}")


# --- reading ------------------------------------------------------------------------------------------------


def _record_of(row: AlertRow) -> AlertRecord:
    return AlertRecord(row.id, row.token, row.level, row.raised_at)


def _sighting(row: SightingFacts) -> SightingRecord:
    return SightingRecord(
        row.token, row.partner_id, row.sector, row.country, row.type, row.seen_at, row.received_at
    )


def _sightings(conn: Connection, alerts: Iterable[AlertRow], window: int) -> dict[str, list[SightingRecord]]:
    """The sightings that may stand behind `alerts`, by token."""
    chosen = list(alerts)
    if not chosen:
        return {}
    since = min(a.raised_at for a in chosen) - window
    found = store.sightings_for(conn, [a.token for a in chosen], since)
    return {token: [_sighting(r) for r in rows] for token, rows in found.items()}


def show(conn: Connection, incident_id: int, window: timedelta = WINDOW) -> Detail:
    """An incident with its events, its alerts and what they reached."""
    incident = _require(conn, incident_id)
    alerts = store.alerts_of(conn, [incident_id])[incident_id]
    span = _span(window)
    sightings = _sightings(conn, alerts, span)
    records = [_record_of(a) for a in alerts]
    sectors, countries, first = core.affected(records, sightings, span)
    partners = {s.partner for r in records for s in core.behind(r, sightings.get(r.token, ()), span)}
    timed = [
        (a, core.time_to_alert(r, sightings.get(a.token, ()), span))
        for a, r in zip(alerts, records, strict=True)
    ]
    to_alert = None if first is None or not alerts else max(0, alerts[0].raised_at - first)
    events = store.events_of(conn, incident_id)
    return Detail(incident, events, timed, sectors, countries, len(partners), first, to_alert)


def listing(
    conn: Connection,
    now: datetime,
    states: Sequence[State] | None = (State.OPEN, State.CONTAINED),
    month: str | None = None,
    window: timedelta = WINDOW,
) -> list[BoardRow]:
    """The board: incidents in `states` (None: all), oldest first; with `month` (YYYY-MM), those open or
    contained at some time in that month, whatever their state now. Raises InvalidRequest for a bad
    month."""
    if month is None:
        rows = store.listing(conn, [s.value for s in states] if states is not None else None)
    else:
        since, until = _month(month)
        changes = _changes(store.all_events(conn, until))
        by_incident: dict[int, list[Change]] = {}
        for c in changes:
            by_incident.setdefault(c.incident, []).append(c)
        rows = [
            r
            for r in store.listing(conn, None, until)
            if core.active_during(by_incident.get(r.id, []), since, until)
            and (states is None or State(r.state) in states)
        ]
    links = store.alerts_of(conn, [r.id for r in rows])
    span = _span(window)
    sightings = _sightings(conn, [a for alerts in links.values() for a in alerts], span)
    at = _micros(now)
    board = []
    for r in rows:
        sectors, _, _ = core.affected([_record_of(a) for a in links[r.id]], sightings, span)
        board.append(BoardRow(r, len(links[r.id]), sectors, max(0, at - r.opened_at)))
    return board


def _month(month: str) -> tuple[int, int]:
    try:
        return core.month_bounds(month)
    except ValueError as error:
        raise InvalidRequest(str(error)) from None


def _changes(events: Iterable[EventRow]) -> list[Change]:
    """Events as the core's changes; actions it does not know (another feature's) are left out."""
    known = {a.value for a in Action}
    return [
        Change(e.incident_id, e.at, Action(e.action), State(e.state)) for e in events if e.action in known
    ]


def report(
    conn: Connection, since: int | None = None, until: int | None = None, window: timedelta = WINDOW
) -> core.Report:
    """The board's report over [since, until) (microseconds; None: unbounded)."""
    opened = {r.id: r.opened_at for r in store.listing(conn, None, until)}
    changes = _changes(store.all_events(conn, until))
    links = store.all_links(conn)
    alerts = store.alerts_between(conn, since, until)
    span = _span(window)
    in_period = [a for rows in links.values() for a in rows if _inside(a.raised_at, since, until)]
    sightings = _sightings(conn, [*alerts, *in_period], span)
    records: Mapping[int, list[AlertRecord]] = {i: [_record_of(a) for a in rows] for i, rows in links.items()}
    return core.report(
        opened, changes, records, [_record_of(a) for a in alerts], sightings, span, since, until
    )


def _inside(at: int, since: int | None, until: int | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)
