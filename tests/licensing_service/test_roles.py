"""Licensing roles of partner accounts, on SQLite and PostgreSQL: default deny (no role, a withdrawn role or a
suspended account is Forbidden), a vendor names its organisation, officers default to the national
authority, the system role is never given, and every change is in the roles' history and the audit log."""

from __future__ import annotations

import pytest

from gesher.errors import Forbidden, InvalidRequest
from gesher.exchange.node import Node
from gesher.licensing.history import Actor, Role
from gesher.licensing_service import roles
from gesher.partners import service
from gesher.store import audit
from gesher.store.partners import PartnerRow
from tests.licensing_service.helpers import VENDOR_ORG, tx


def account(node: Node, name: str = "kestrel") -> PartnerRow:
    return tx(node, lambda c: service.create_partner(c, "test", name, "GB", "industry")[0])


def actor_of(node: Node, name: str) -> Actor:
    with node.db.read() as conn:
        return roles.actor_of(conn, service.principal_by_name(conn, name))


def test_no_role_is_no_access(node: Node) -> None:
    account(node)
    with pytest.raises(Forbidden, match="no licensing role"):
        actor_of(node, "kestrel")


def test_roles_are_given_changed_and_withdrawn_with_a_history(node: Node) -> None:
    partner = account(node)
    tx(node, lambda c: roles.set_role(c, "cli:op", partner, "vendor", VENDOR_ORG, "signed the undertaking"))
    assert actor_of(node, "kestrel") == Actor("partner:kestrel", Role.VENDOR, VENDOR_ORG)
    held = tx(node, lambda c: roles.set_role(c, "cli:op", partner, Role.OFFICER, None, "seconded to DECA"))
    assert held is not None and (held.role, held.organisation) == ("officer", roles.NATIONAL_AUTHORITY)
    assert tx(node, lambda c: roles.set_role(c, "cli:op", partner, "none", None, "left")) is None
    with pytest.raises(Forbidden):
        actor_of(node, "kestrel")
    with node.db.read() as conn:
        history = roles.history_of(conn, partner)
        recorded = [
            e for e in audit.events(conn, "partner:kestrel") if e["action"] == "partner.licensing-role"
        ]
    assert [(r.role, r.reason) for r in history] == [
        ("vendor", "signed the undertaking"), ("officer", "seconded to DECA"), ("none", "left")
    ]  # fmt: skip
    assert len(recorded) == 3 and all(e["actor"] == "cli:op" for e in recorded)


@pytest.mark.parametrize(
    ("role", "organisation", "reason", "says"),
    [
        ("vendor", None, "r", "names its organisation"),
        ("vendor", "  ", "r", "names its organisation"),
        ("system", None, "r", "one of vendor"),
        ("admin", None, "r", "one of vendor"),
        ("officer", None, " ", "reason is required"),
        ("officer", "x" * 301, "r", "at most 300"),
        ("officer", "DE\nCA", "r", "printable"),
    ],
)
def test_bad_roles_are_refused_and_nothing_is_recorded(
    node: Node, role: str, organisation: str | None, reason: str, says: str
) -> None:
    partner = account(node)
    with pytest.raises(InvalidRequest, match=says):
        tx(node, lambda c: roles.set_role(c, "cli:op", partner, role, organisation, reason))
    with node.db.read() as conn:
        assert roles.history_of(conn, partner) == []


def test_a_suspended_account_has_no_access_whatever_its_role(node: Node) -> None:
    partner = account(node)
    tx(node, lambda c: roles.set_role(c, "cli:op", partner, "senior-officer", "DECA", "appointed"))
    assert actor_of(node, "kestrel").role == Role.SENIOR_OFFICER
    tx(node, lambda c: service.set_standing(c, "cli:op", partner, "suspended", suspended=True))
    with pytest.raises(Forbidden, match="suspended"):
        actor_of(node, "kestrel")
