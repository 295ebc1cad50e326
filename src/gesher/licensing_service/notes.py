"""Notes on a licensing subject (an item, project, application or licence). An officer's note is officer-only
unless the officer shares it with the vendor; a vendor's note on its own subject is shared. A note is an
entry of the subject's append-only history (action "note", detail `visibility`); a vendor's reading of a
history never holds an officer-only note (`history.history_of`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from gesher.errors import InvalidRequest, NotFound
from gesher.licensing.history import Actor, Role, event, refuse
from gesher.licensing_service.common import now, record_events, require, visible_to
from gesher.store import licensing as store
from gesher.store.licensing import APPLICATION, LICENCE, PROJECT, Kind, StoredEvent

NOTE = "note"
VISIBILITY = "visibility"
OFFICER_ONLY = "officer-only"
SHARED = "shared"
SUBJECTS = ("item", "project", "application", "licence")
MAX_NOTE = 4000


def add_note(
    conn: Connection,
    actor: Actor,
    subject_kind: str,
    subject_id: str,
    text: str,
    officer_only: bool | None = None,
) -> StoredEvent:
    """Add a note to a subject the actor may see. `officer_only` None: officer-only for an officer, shared
    for a vendor; a vendor cannot write an officer-only note, and the system writes none."""
    visibility = _visibility(actor, officer_only)
    if not text.strip() or len(text) > MAX_NOTE:
        raise InvalidRequest(f"a note holds 1 to {MAX_NOTE} characters")
    state, version = _subject(conn, actor, subject_kind, subject_id)
    details = ((VISIBILITY, visibility),)
    subject = f"{subject_kind}:{subject_id}"
    record_events(conn, [event(subject, NOTE, actor, (state, state), text, now(), version, details)])
    return store.events(conn, subject_kind, subject_id)[-1]


def is_officer_only(e: StoredEvent) -> bool:
    """A note is officer-only unless it says it is shared (an unreadable one stays hidden)."""
    return e.action == NOTE and dict(e.details).get(VISIBILITY) != SHARED


def _visibility(actor: Actor, officer_only: bool | None) -> str:
    if actor.role == Role.SYSTEM:
        raise refuse("OFFICER_REQUIRED", "notes are written by officers and vendors, not the system")
    if actor.role == Role.VENDOR:
        if officer_only:
            raise refuse("OFFICER_REQUIRED", f"{actor.id} is a vendor: officer-only notes are officers'")
        return SHARED
    return OFFICER_ONLY if officer_only is None or officer_only else SHARED


def _subject(conn: Connection, actor: Actor, kind: str, subject_id: str) -> tuple[str, int]:
    """The subject's state and version now, if the actor may see it (NotFound, as for a missing one)."""
    if kind == "item":
        found = store.item(conn, subject_id)
        if found is None or not visible_to(actor, found.vendor):
            raise NotFound(f"no item named {subject_id!r}")
        return found.classification.tier.value, 1
    kinds: dict[str, Kind[Any]] = {"project": PROJECT, "application": APPLICATION, "licence": LICENCE}
    if kind not in kinds:
        raise InvalidRequest(f"notes are kept on {', '.join(SUBJECTS)}, not {kind[:20]!r}")
    state = require(conn, kinds[kind], subject_id, actor)
    return str(state.state), state.version
