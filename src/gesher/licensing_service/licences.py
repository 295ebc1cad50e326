"""Licences through the service: an officer suspends, reinstates or revokes; the system expires those past
their validity. Vendors read their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gesher.licensing import licences as lic
from gesher.licensing.history import Actor, Event, Role
from gesher.licensing.licences import Licence, LicenceState
from gesher.licensing_service.common import check_version, now, require, saved
from gesher.store import licensing as store
from gesher.store.licensing import LICENCE

if TYPE_CHECKING:
    from gesher.exchange.node import Node


def suspend(
    node: Node,
    conn: Connection,
    actor: Actor,
    licence_id: str,
    reason: str,
    expected_version: int | None = None,
) -> Licence:
    """An officer suspends an active licence (interim: misuse alleged, a list hit, a downgrade)."""
    return _change(conn, actor, licence_id, expected_version, lambda x, at: lic.suspend(x, actor, at, reason))


def reinstate(
    node: Node,
    conn: Connection,
    actor: Actor,
    licence_id: str,
    reason: str,
    expected_version: int | None = None,
) -> Licence:
    """An officer reinstates a suspended licence that is still within its validity."""
    return _change(
        conn,
        actor,
        licence_id,
        expected_version,
        lambda x, at: lic.reinstate(x, actor, at, reason, at.date()),
    )


def revoke(
    node: Node,
    conn: Connection,
    actor: Actor,
    licence_id: str,
    reason: str,
    expected_version: int | None = None,
) -> Licence:
    """An officer revokes a licence (final)."""
    return _change(conn, actor, licence_id, expected_version, lambda x, at: lic.revoke(x, actor, at, reason))


def _change(
    conn: Connection,
    actor: Actor,
    licence_id: str,
    expected_version: int | None,
    transition: Callable[[Licence, datetime], tuple[Licence, Event]],
) -> Licence:
    """Read the licence the actor may see, check the version it last read, apply and store the transition."""
    licence = require(conn, LICENCE, licence_id, actor)
    check_version(LICENCE, licence, expected_version)
    return saved(conn, LICENCE, licence, transition(licence, now()))


def expire_due(node: Node, conn: Connection, actor: Actor) -> list[Licence]:
    """Expire every live licence whose validity has ended (the system's periodic run)."""
    at = now()
    live = store.find(conn, LICENCE, state=[s.value for s in lic.LIVE])
    return [
        saved(conn, LICENCE, x, lic.expire(x, at.date(), actor, at))
        for x in live
        if at.date() > x.valid_until
    ]


def licence_of(conn: Connection, actor: Actor, licence_id: str) -> Licence:
    return require(conn, LICENCE, licence_id, actor)


def licences_of(conn: Connection, actor: Actor, state: LicenceState | None = None) -> list[Licence]:
    where: dict[str, object] = {} if state is None else {"state": LicenceState(state).value}
    if actor.role == Role.VENDOR:
        where["vendor"] = actor.organisation
    return store.find(conn, LICENCE, **where)
