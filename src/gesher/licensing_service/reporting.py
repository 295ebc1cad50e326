"""Periodic reports under licence conditions (issue 5, reference 2.5 PostExportReport): a vendor (or an
officer for it) records each usage report it files; the periodic sweep expires licences whose validity
ended and flags, once each, every report a reporting duty made due that no received report answers. Both
are events in the licence's append-only history; the pure `licences.reports_due` decides what is missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gesher.errors import InvalidRequest
from gesher.licensing import licences as lic
from gesher.licensing.history import Actor, Event
from gesher.licensing.licences import Licence, MissedReport
from gesher.licensing_service.common import now, record_events, require, require_own
from gesher.licensing_service.licences import expire_due, licences_of
from gesher.store import licensing as store
from gesher.store.licensing import LICENCE

if TYPE_CHECKING:
    from gesher.exchange.node import Node

RECEIVED = "report-received"
MISSED = "report-missed"


def record_report(
    node: Node, conn: Connection, actor: Actor, licence_id: str, received_on: date, summary: str
) -> Event:
    """Record a usage report filed under a licence (the vendor's own, or by an officer)."""
    licence = require(conn, LICENCE, licence_id, actor)
    require_own(actor, licence.vendor, f"report under {licence.id}")
    if not summary.strip():
        raise InvalidRequest("a report needs a summary of what it reports")
    at = now()
    if received_on > at.date() or received_on < licence.valid_from:
        raise InvalidRequest(f"a report on {received_on} is outside {licence.valid_from} .. today")
    event = _event(licence, RECEIVED, actor, at, summary, (("received_on", received_on.isoformat()),))
    record_events(conn, [event])
    return event


@dataclass(frozen=True)
class Sweep:
    expired: tuple[str, ...]
    missed: tuple[MissedReport, ...]  # every report overdue today
    flagged: tuple[MissedReport, ...]  # those flagged by this sweep (each is flagged once)


def sweep(node: Node, conn: Connection, actor: Actor, today: date | None = None) -> Sweep:
    """The periodic run: expire licences past their validity, then flag every missed report once."""
    expired = tuple(x.id for x in expire_due(node, conn, actor))
    day = today or now().date()
    missed: list[MissedReport] = []
    flagged: list[MissedReport] = []
    for licence in licences_of(conn, actor):
        history = store.events(conn, "licence", licence.id)
        received = tuple(
            date.fromisoformat(_detail(e.details, "received_on")) for e in history if e.action == RECEIVED
        )
        known = {_detail(e.details, "due_on") for e in history if e.action == MISSED}
        for report in lic.reports_due(licence, received, day):
            missed.append(report)
            if report.due_on.isoformat() not in known:
                flagged.append(report)
                text = (
                    f"the report due on {report.due_on} ({report.days_overdue} days overdue) was not received"
                )
                details = (
                    ("due_on", report.due_on.isoformat()),
                    ("period_start", report.period_start.isoformat()),
                )
                record_events(conn, [_event(licence, MISSED, actor, now(), text, details)])
    return Sweep(expired, tuple(missed), tuple(flagged))


def _event(
    licence: Licence,
    action: str,
    actor: Actor,
    at: datetime,
    reason: str,
    details: tuple[tuple[str, str], ...],
) -> Event:
    state = licence.state.value
    return Event(
        f"licence:{licence.id}",
        action,
        actor.id,
        actor.role,
        state,
        state,
        reason,
        at,
        licence.version,
        details,
    )


def _detail(details: tuple[tuple[str, str], ...], name: str) -> str:
    return dict(details).get(name, "")
