"""Who a caller of the licensing REST API is (issue 5 "Surfaces"): an operator gives a partner account a
licensing role (vendor of an organisation, officer or senior officer of an agency), recorded append-only and
in the audit log; a request then acts as `Actor("partner:<name>", role, organisation)`.

Default deny: an account without a role, one whose role was withdrawn, and a suspended account are refused
(403) on every licensing route, whatever else they may do (an administrator of the exchange is not an
export-control officer unless an operator says so). The system role is never given to an account: it is the
exchange's own (automatic screening, expiry)."""

from __future__ import annotations

from sqlalchemy import Connection

from gesher.errors import Forbidden, InvalidRequest
from gesher.licensing.history import Actor, Role
from gesher.policy.principal import Principal
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import licensing_roles as store
from gesher.store.licensing_roles import NO_ROLE, RoleRow
from gesher.store.partners import PartnerRow

# The officers' own agency when none is given (an officer of the vendor's organisation is never independent).
NATIONAL_AUTHORITY = "national-export-authority"
ASSIGNABLE = (Role.VENDOR, Role.OFFICER, Role.SENIOR_OFFICER)
MAX_ORGANISATION = 300  # the column (and the catalog's vendor column)


def set_role(
    conn: Connection,
    actor: str,
    partner: PartnerRow,
    role: Role | str | None,
    organisation: str | None,
    reason: str,
) -> RoleRow | None:
    """Give the partner a licensing role (None or "none": withdraw it), with a reason; a vendor names its
    organisation (the catalog's vendor), an officer its agency (default NATIONAL_AUTHORITY). Returns the role
    now in force. Recorded in the roles' history and the audit log, in the caller's transaction."""
    if not reason.strip():
        raise InvalidRequest("a reason is required to change a licensing role")
    chosen = _role(role)
    org = _organisation(chosen, organisation)
    row = RoleRow(partner.id, chosen.value if chosen else NO_ROLE, org, now_micros(), actor, reason)
    store.add(conn, row)
    audit.record(
        conn, actor, "partner.licensing-role", f"partner:{partner.name}", role=row.role,
        organisation=org, reason=reason,
    )  # fmt: skip
    return store.current(conn, partner.id)


def _role(role: Role | str | None) -> Role | None:
    if role is None or str(role) == NO_ROLE:
        return None
    try:
        chosen = Role(role)
    except ValueError:
        chosen = None
    if chosen not in ASSIGNABLE:
        known = ", ".join([*(r.value for r in ASSIGNABLE), NO_ROLE])
        raise InvalidRequest(f"a licensing role is one of {known}, not {str(role)[:40]!r}")
    return chosen


def _organisation(role: Role | None, organisation: str | None) -> str:
    org = (organisation or "").strip()
    if role == Role.VENDOR and not org:
        raise InvalidRequest("a vendor's role names its organisation (the vendor of its catalogue items)")
    if role in (Role.OFFICER, Role.SENIOR_OFFICER) and not org:
        org = NATIONAL_AUTHORITY
    if len(org) > MAX_ORGANISATION or not org.isprintable():
        raise InvalidRequest(f"an organisation is printable and at most {MAX_ORGANISATION} characters")
    return org


def role_of(conn: Connection, partner: PartnerRow) -> RoleRow | None:
    """The partner's licensing role in force (None: it has none)."""
    return store.current(conn, partner.id)


def history_of(conn: Connection, partner: PartnerRow) -> list[RoleRow]:
    """Every licensing role the partner was given or withdrawn, oldest first."""
    return store.history(conn, partner.id)


def actor_of(conn: Connection, principal: Principal) -> Actor:
    """The licensing Actor behind an authenticated caller, or Forbidden (403): no role, or suspended."""
    entitlement = principal.entitlement
    if entitlement is not None and entitlement.suspended:
        raise Forbidden("a suspended account has no access to export licensing")
    row = store.current(conn, principal.partner_id)
    if row is None:
        raise Forbidden("this account has no licensing role: an operator gives one (vendor or officer)")
    return Actor(f"partner:{principal.name}", Role(row.role), row.organisation)
