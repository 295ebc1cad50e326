"""What every licensing service shares: the clock, new ids, the vendor's own-organisation check, storing a
transition (state and event in one go)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from gesher.errors import Conflict, NotFound
from gesher.ledger import entries as ledger_entries
from gesher.ledger_service import log as ledger
from gesher.licensing.history import Actor, Event, Role, refuse
from gesher.store import licensing as store
from gesher.store.licensing import Kind, S


def now() -> datetime:
    return datetime.now(UTC)


def micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def visible_to(actor: Actor, vendor: str) -> bool:
    """Officers and the system see every vendor's records; a vendor only its own organisation's."""
    return actor.role != Role.VENDOR or actor.organisation == vendor


def require_own(actor: Actor, vendor: str, what: str) -> None:
    """A vendor acts only for its own organisation (the core checks this for some transitions only)."""
    if not visible_to(actor, vendor):
        raise refuse(
            "NOT_YOUR_ORGANISATION", f"{actor.id} acts for {actor.organisation}, not for {vendor}: {what}"
        )


def require(conn: Connection, kind: Kind[S], state_id: str, actor: Actor, vendor_of: str = "vendor") -> S:
    """The state with this id, if the actor may see it (another vendor's is as absent as a missing one)."""
    state = store.load(conn, kind, state_id)
    vendor = getattr(state, vendor_of, "") if state is not None else ""
    if state is None or (vendor and not visible_to(actor, vendor)):
        raise NotFound(f"no {kind.name} {state_id!r}")
    return state


def check_version(kind: Kind[S], state: S, expected: int | None) -> None:
    """The version the caller last read (an If-Match): if the state moved on since, refuse before deciding."""
    if expected is not None and state.version != expected:
        raise Conflict(
            f"{kind.name} {state.id} is at version {state.version}, not {expected}: "
            "changed by someone else, read it again"
        )


# Licensing decisions the ledger records (issue 6): what an application ends in, and every change of a
# licence's state, a denied party included; not the steps between (submission, screening, notes).
_APPLICATION_DECISIONS = frozenset({"approve", "deny", "withdraw"})


def _is_decision(event: Event) -> bool:
    kind = event.subject.partition(":")[0]
    if kind == "application":
        return event.action in _APPLICATION_DECISIONS
    return kind in {"licence", "party"} and event.from_state != event.to_state


def record_events(conn: Connection, events: Sequence[Event]) -> None:
    """Store events in the licensing history; the decisions among them are also ledger entries, in the
    same transaction."""
    store.add_events(conn, events)
    decided = [e for e in events if _is_decision(e)]
    if decided:
        ledger.append(conn, *(_ledger_entry(e) for e in decided))


def _ledger_entry(event: Event) -> ledger_entries.Entry:
    decision = f"{event.action}: {event.from_state or 'new'} -> {event.to_state}"
    reason = event.reason.strip() or event.action
    return ledger_entries.make(
        ledger_entries.Kind.LICENCE,
        event.at,
        event.actor,
        subject=event.subject,
        decision=decision,
        reason=reason,
    )


def saved(conn: Connection, kind: Kind[S], old: S, result: tuple[S, Event]) -> S:
    """Store a transition's new state (compare-and-set on the old version) and its event."""
    new, event = result
    store.save(conn, kind, new, old.version, micros(event.at))
    record_events(conn, [event])
    return new


def created(conn: Connection, kind: Kind[S], result: tuple[S, Event], **extra: object) -> S:
    """Store a new state and the event that created it."""
    new, event = result
    store.insert_state(conn, kind, new, micros(event.at), **extra)
    record_events(conn, [event])
    return new
