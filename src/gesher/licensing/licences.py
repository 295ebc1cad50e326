"""Licences (reference/export_control.md 2.3 "License", issue 5 "Two licences"): issued from an approved
application, with typed conditions and a validity period, running

    ACTIVE <-> SUSPENDED -> REVOKED | EXPIRED

- SUSPENDED is interim (misuse alleged, a list hit on re-screening, a country downgraded); an officer
  reinstates it, or revokes it. REVOKED and EXPIRED are final: nothing brings a licence back.
- A licence expires once the day passed in is after its last valid day; nothing reads a clock here.
- A reporting duty makes a report due every N days from the start of validity; `reports_due` lists the
  reports missed, each a compliance flag (reference 2.5 PostExportReport)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing.applications import GRANTED, Application
from gesher.licensing.catalog import GesherTier
from gesher.licensing.conditions import Condition, LicenceKind, ReportingDuty, mandatory_conditions, merged
from gesher.licensing.config import DEFAULT_CONFIG, LicensingConfig
from gesher.licensing.history import Actor, Event, Role, event, refuse, require_officer
from gesher.licensing.recommend import MarketingLicenceFacts


class LicenceState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    EXPIRED = "expired"


LIVE: Final = frozenset({LicenceState.ACTIVE, LicenceState.SUSPENDED})


@dataclass(frozen=True)
class Licence:
    """`countries`: the licensed countries (marketing) or the one destination (export). `ended_on`: the day it
    was revoked or expired (reporting stops then)."""

    id: str
    kind: LicenceKind
    application: str
    vendor: str
    item: str
    tier: GesherTier
    countries: tuple[str, ...]
    valid_from: date
    valid_until: date  # the last valid day
    conditions: tuple[Condition, ...] = ()
    end_user: str = ""
    marketing_licence: str | None = None
    state: LicenceState = LicenceState.ACTIVE
    ended_on: date | None = None
    version: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LicenceKind(self.kind))
        object.__setattr__(self, "tier", GesherTier(self.tier))
        object.__setattr__(self, "state", LicenceState(self.state))
        object.__setattr__(self, "countries", tuple(c.strip().upper() for c in self.countries))
        if not self.countries:
            raise InvalidRequest(f"licence {self.id} names no country")
        if self.valid_until < self.valid_from:
            raise InvalidRequest(f"licence {self.id}: validity ends before it starts")

    @property
    def destination(self) -> str:
        return self.countries[0]


@dataclass(frozen=True)
class MissedReport:
    """A compliance flag: the report due on `due_on` (for the period from `period_start`) was not received."""

    licence: str
    due_on: date
    period_start: date
    days_overdue: int


def issue(
    app: Application,
    licence_id: str,
    valid_from: date,
    valid_until: date,
    actor: Actor,
    at: datetime,
    config: LicensingConfig = DEFAULT_CONFIG,
) -> tuple[Licence, Event]:
    """An approved application becomes an ACTIVE licence carrying its tier's mandatory conditions and those
    the approvers attached. Only an approved application yields a licence."""
    if app.state not in GRANTED:
        raise refuse(
            "NOT_APPROVED", f"{app.id} is {app.state.value}: only an approved application is licensed"
        )
    if actor.role != Role.SYSTEM:
        require_officer(actor, "issuing a licence")
    conditions = merged(mandatory_conditions(app.tier, app.kind, config), app.conditions)
    licence = Licence(
        licence_id,
        app.kind,
        app.id,
        app.vendor,
        app.item,
        app.tier,
        app.countries,
        valid_from,
        valid_until,
        conditions=conditions,
        end_user=app.end_user,
        marketing_licence=app.marketing_licence,
    )
    text = f"issued from {app.id}, valid {valid_from.isoformat()} to {valid_until.isoformat()}"
    return licence, _event(licence, "issue", actor, ("", licence.state), text, at)


def suspend(licence: Licence, actor: Actor, at: datetime, reason: str) -> tuple[Licence, Event]:
    """An officer suspends an ACTIVE licence: interim, until it is reinstated or revoked."""
    require_officer(actor, "suspending a licence")
    _require_state(licence, frozenset({LicenceState.ACTIVE}), "be suspended")
    return _moved(licence, "suspend", actor, at, reason, state=LicenceState.SUSPENDED)


def reinstate(
    licence: Licence, actor: Actor, at: datetime, reason: str, today: date
) -> tuple[Licence, Event]:
    """An officer reinstates a SUSPENDED licence, unless its validity has ended (then it expires instead)."""
    require_officer(actor, "reinstating a licence")
    _require_state(licence, frozenset({LicenceState.SUSPENDED}), "be reinstated")
    if today > licence.valid_until:
        raise refuse(
            "VALIDITY_ENDED", f"licence {licence.id} ended on {licence.valid_until}: expire it instead"
        )
    return _moved(licence, "reinstate", actor, at, reason, state=LicenceState.ACTIVE)


def revoke(licence: Licence, actor: Actor, at: datetime, reason: str) -> tuple[Licence, Event]:
    """An officer revokes an ACTIVE or SUSPENDED licence, for good (the end-user declaration's remedy:
    restrict or disable the system)."""
    require_officer(actor, "revoking a licence")
    _require_state(licence, LIVE, "be revoked")
    return _moved(licence, "revoke", actor, at, reason, state=LicenceState.REVOKED, ended_on=at.date())


def expire(licence: Licence, today: date, actor: Actor, at: datetime) -> tuple[Licence, Event]:
    """An ACTIVE or SUSPENDED licence expires once `today` is after its last valid day, not before."""
    if actor.role != Role.SYSTEM:
        require_officer(actor, "expiring a licence")
    _require_state(licence, LIVE, "expire")
    if today <= licence.valid_until:
        raise refuse("STILL_VALID", f"licence {licence.id} is valid until {licence.valid_until}")
    reason = f"validity ended on {licence.valid_until.isoformat()}"
    return _moved(
        licence, "expire", actor, at, reason, state=LicenceState.EXPIRED, ended_on=licence.valid_until
    )


def effective_state(licence: Licence, today: date) -> LicenceState:
    """The state on `today`: a live licence past its last valid day is EXPIRED even before `expire` runs."""
    if licence.state in LIVE and today > licence.valid_until:
        return LicenceState.EXPIRED
    return licence.state


def in_force(licence: Licence, today: date) -> bool:
    """ACTIVE and within its validity on `today`."""
    return licence.state == LicenceState.ACTIVE and licence.valid_from <= today <= licence.valid_until


def covers(licence: Licence, item: str, country: str) -> bool:
    """The licence is for this item and names this country (whatever its state)."""
    return licence.item == item and country.strip().upper() in licence.countries


def marketing_licence_facts(licence: Licence, item: str, country: str, today: date) -> MarketingLicenceFacts:
    """What the recommendation needs to know about the marketing licence an export application cites."""
    if licence.kind != LicenceKind.MARKETING:
        raise InvalidRequest(f"{licence.id} is an export licence, not a marketing licence")
    upper = country.strip().upper()
    return MarketingLicenceFacts(
        licence.id, in_force(licence, today), licence.item == item, upper in licence.countries
    )


def reports_due(
    licence: Licence, reports_received: tuple[date, ...], today: date
) -> tuple[MissedReport, ...]:
    """Every report the licence's reporting duties made due up to `today` (and before the licence ended) that
    no report received answers. A report answers the earliest unanswered due date whose period it falls in,
    from the period's start up to the due date plus the grace days; each report answers one due date."""
    missed: list[MissedReport] = []
    for duty in _duties(licence):
        missed.extend(_missed(licence, duty, sorted(reports_received), today))
    return tuple(sorted(missed, key=lambda m: m.due_on))


# --- helpers -----------------------------------------------------------------------------------------------


def _duties(licence: Licence) -> tuple[ReportingDuty, ...]:
    return tuple(c for c in licence.conditions if isinstance(c, ReportingDuty))


def _missed(licence: Licence, duty: ReportingDuty, reports: list[date], today: date) -> list[MissedReport]:
    last = min(today, licence.valid_until, licence.ended_on or licence.valid_until)
    unused = list(reports)
    missed = []
    for start, due in _periods(licence.valid_from, duty.every_days, last):
        deadline = due + timedelta(days=duty.grace_days)
        answer = next((r for r in unused if start <= r <= deadline), None)
        if answer is not None:
            unused.remove(answer)
        elif today > deadline:
            missed.append(MissedReport(licence.id, due, start, (today - due).days))
    return missed


def _periods(start: date, every_days: int, last: date) -> list[tuple[date, date]]:
    """(period start, due date) for every due date up to `last`."""
    step = timedelta(days=every_days)
    periods = []
    due = start + step
    while due <= last:
        periods.append((due - step, due))
        due += step
    return periods


def _require_state(licence: Licence, allowed: frozenset[LicenceState], what: str) -> None:
    if licence.state not in allowed:
        final = " (final)" if licence.state not in LIVE else ""
        raise refuse("WRONG_STATE", f"licence {licence.id} is {licence.state.value}{final}: it cannot {what}")


def _moved(
    licence: Licence, action: str, actor: Actor, at: datetime, reason: str, **changes: object
) -> tuple[Licence, Event]:
    new = dataclasses.replace(licence, version=licence.version + 1, **changes)  # type: ignore[arg-type]
    return new, _event(new, action, actor, (licence.state, new.state), reason, at)


def _event(
    licence: Licence, action: str, actor: Actor, states: tuple[str, str], reason: str, at: datetime
) -> Event:
    return event(f"licence:{licence.id}", action, actor, states, reason, at, licence.version)
