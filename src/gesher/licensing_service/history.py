"""Reading the licensing history: officers read all of it; a vendor reads the history of its own items,
projects, applications and licences, and nothing about misuse reports, partners, parties or countries
(officers' business).

What a vendor reads of its own history is default-deny, like every vendor view (`visibility`): officer-only
notes are left out; a reason is shown only for the actions whose reason is told to the vendor (its own acts,
gate reviews, refusals, licence changes); details only of the kinds it may read (not the approvers); an
officer or the system appears as its role, not by name."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection

from gesher.errors import NotFound
from gesher.licensing.history import Actor, Role
from gesher.licensing_service import visibility
from gesher.licensing_service.common import visible_to
from gesher.licensing_service.notes import is_officer_only
from gesher.store import licensing as store
from gesher.store.licensing import APPLICATION, LICENCE, PROJECT, Kind, StoredEvent

VENDOR_SUBJECTS: dict[str, Kind[Any]] = {"project": PROJECT, "application": APPLICATION, "licence": LICENCE}


def history_of(conn: Connection, actor: Actor, subject_kind: str, subject_id: str) -> list[StoredEvent]:
    """One subject's history, oldest first, if it exists and the actor may read it (else NotFound, the same
    for both); a vendor's reading as described above."""
    if actor.role == Role.VENDOR and not _vendor_may_read(conn, actor, subject_kind, subject_id):
        raise NotFound(f"no {subject_kind} {subject_id!r}")
    events = store.events(conn, subject_kind, subject_id)
    if not events:  # every record's history starts with the event that created it
        raise NotFound(f"no {subject_kind} {subject_id!r}")
    if actor.role != Role.VENDOR:
        return events
    return [vendor_event(e) for e in events if not is_officer_only(e)]


def vendor_event(e: StoredEvent) -> StoredEvent:
    """An event as a vendor reads it (see the module's docstring)."""
    reason = e.reason if visibility.vendor_reads_reason(e.subject_kind, e.action) else ""
    details = tuple(d for d in e.details if d[0] in visibility.VENDOR_DETAILS)
    actor = e.actor if e.role == Role.VENDOR else e.role
    return dataclasses.replace(e, reason=reason, details=details, actor=actor)


def _vendor_may_read(conn: Connection, actor: Actor, subject_kind: str, subject_id: str) -> bool:
    if subject_kind == "item":
        found = store.item(conn, subject_id)
        return found is not None and visible_to(actor, found.vendor)
    kind = VENDOR_SUBJECTS.get(subject_kind)
    state = store.load(conn, kind, subject_id) if kind is not None else None
    return state is not None and visible_to(actor, state.vendor)
