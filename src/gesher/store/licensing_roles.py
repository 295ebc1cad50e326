"""Licensing roles of partner accounts (issue 5 "Surfaces"): append-only rows, the newest per partner in
force. Nothing here updates or deletes a row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from gesher.store.tables import licensing_roles

NO_ROLE = "none"  # the role a withdrawal records


@dataclass(frozen=True)
class RoleRow:
    partner_id: int
    role: str  # vendor, officer, senior-officer, or NO_ROLE
    organisation: str
    set_at: int
    actor: str
    reason: str


def add(conn: Connection, row: RoleRow) -> None:
    values = {
        "partner_id": row.partner_id, "role": row.role, "organisation": row.organisation,
        "set_at": row.set_at, "actor": row.actor, "reason": row.reason,
    }  # fmt: skip
    conn.execute(insert(licensing_roles).values(**values))


def current(conn: Connection, partner_id: int) -> RoleRow | None:
    """The partner's role in force: its newest row, unless that withdrew the role (None: no role)."""
    t = licensing_roles
    stmt = select(t).where(t.c.partner_id == partner_id).order_by(t.c.id.desc()).limit(1)
    row = conn.execute(stmt).first()
    found = _row(row) if row else None
    return found if found is not None and found.role != NO_ROLE else None


def history(conn: Connection, partner_id: int) -> list[RoleRow]:
    """Every role the partner was given or withdrawn, oldest first."""
    t = licensing_roles
    stmt = select(t).where(t.c.partner_id == partner_id).order_by(t.c.id)
    return [_row(r) for r in conn.execute(stmt)]


def _row(row: Any) -> RoleRow:
    m = row._mapping
    return RoleRow(m["partner_id"], m["role"], m["organisation"], m["set_at"], m["actor"], m["reason"])
