"""Reading the licensing history: officers read all of it; a vendor reads the history of its own items,
projects, applications and licences, and nothing about misuse reports, partners, parties or countries
(officers' business)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from gesher.errors import NotFound
from gesher.licensing.history import Actor, Role
from gesher.licensing_service.common import visible_to
from gesher.store import licensing as store
from gesher.store.licensing import APPLICATION, LICENCE, PROJECT, Kind, StoredEvent

VENDOR_SUBJECTS: dict[str, Kind[Any]] = {"project": PROJECT, "application": APPLICATION, "licence": LICENCE}


def history_of(conn: Connection, actor: Actor, subject_kind: str, subject_id: str) -> list[StoredEvent]:
    """One subject's history, oldest first, if the actor may read it (else NotFound, as for a missing one)."""
    if actor.role == Role.VENDOR and not _vendor_may_read(conn, actor, subject_kind, subject_id):
        raise NotFound(f"no {subject_kind} {subject_id!r}")
    return store.events(conn, subject_kind, subject_id)


def _vendor_may_read(conn: Connection, actor: Actor, subject_kind: str, subject_id: str) -> bool:
    if subject_kind == "item":
        found = store.item(conn, subject_id)
        return found is not None and visible_to(actor, found.vendor)
    kind = VENDOR_SUBJECTS.get(subject_kind)
    state = store.load(conn, kind, subject_id) if kind is not None else None
    return state is not None and visible_to(actor, state.vendor)
