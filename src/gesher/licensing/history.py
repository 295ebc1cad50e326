"""Who did what, when and why: the actors of the licensing workflow, the `Event` every transition returns for
the append-only history (DESIGN.md 5.5; issue 5 "Everything recorded"), and `TransitionRefused`, raised by
every illegal transition before anything changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from gesher.errors import Conflict, InvalidRequest


class Role(StrEnum):
    """What an actor may do. A vendor files and answers; officers review, confirm and decide; a senior
    officer may also override a presumption of denial (reference/export_control.md 2.2); the system runs
    the automatic steps (screening, expiry) and never approves anything."""

    VENDOR = "vendor"
    OFFICER = "officer"
    SENIOR_OFFICER = "senior-officer"
    SYSTEM = "system"


OFFICERS = frozenset({Role.OFFICER, Role.SENIOR_OFFICER})


@dataclass(frozen=True)
class Actor:
    """A person (or the system) acting. `organisation` is the vendor's organisation for a vendor, and the
    officer's agency for an officer: an officer of the vendor's own organisation is never independent."""

    id: str
    role: Role
    organisation: str = ""

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidRequest("an actor needs an id")
        object.__setattr__(self, "role", Role(self.role))

    @property
    def is_officer(self) -> bool:
        return self.role in OFFICERS


SYSTEM = Actor("system", Role.SYSTEM)


@dataclass(frozen=True)
class Event:
    """One entry of the append-only history: `subject` is "kind:id" (e.g. "application:A-7"), `version` the
    subject's version after the transition (a store can use it for compare-and-set), `details` any facts
    worth keeping (change ids, approvers, conditions) as (name, value) pairs."""

    subject: str
    action: str
    actor: str
    role: Role
    from_state: str
    to_state: str
    reason: str
    at: datetime
    version: int
    details: tuple[tuple[str, str], ...] = ()


class TransitionRefused(Conflict):
    """An illegal transition: nothing changed. `code` names the rule that refused it (for clients and
    tests); the message says why in words a user understands."""

    status = 409
    title = "Transition refused"

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description, details={"code": code})
        self.code = code


def refuse(code: str, description: str) -> TransitionRefused:
    """The error to raise (`raise refuse(...)`), so call sites read as the rule they enforce."""
    return TransitionRefused(code, description)


def event(
    subject: str,
    action: str,
    actor: Actor,
    states: tuple[str, str],
    reason: str,
    at: datetime,
    version: int,
    details: tuple[tuple[str, str], ...] = (),
) -> Event:
    """An Event, after checking that the clock value is timezone-aware and a reason is given."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidRequest("event times must be timezone-aware")
    if not reason.strip():
        raise refuse("REASON_REQUIRED", f"{action} needs a reason for the history")
    return Event(subject, action, actor.id, actor.role, states[0], states[1], reason, at, version, details)


def require_reason(reason: str, what: str) -> None:
    """A decision is written down: approvals, findings and overrides carry their reason."""
    if not reason.strip():
        raise refuse("REASON_REQUIRED", f"{what} needs a written reason")


def require_officer(actor: Actor, what: str) -> None:
    """Only officers review, confirm and decide: a vendor or the system cannot."""
    if not actor.is_officer:
        raise refuse("OFFICER_REQUIRED", f"{what} is an officer's decision; {actor.id} is a {actor.role}")


def require_independent(actor: Actor, vendor: str, what: str) -> None:
    """An officer who belongs to the vendor's organisation is not independent of it."""
    if vendor and actor.organisation == vendor:
        raise refuse(
            "NOT_INDEPENDENT", f"{what} must be done outside the vendor: {actor.id} belongs to {vendor}"
        )
