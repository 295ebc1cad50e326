"""Managing partners: create, grant, issue and revoke tokens, authenticate. Runs in the caller's transaction;
every change is an audit event with an explicit actor."""

from __future__ import annotations

import re

from sqlalchemy import Connection

from gesher.errors import Conflict, InvalidRequest, NotFound
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.partners.tokens import display_prefix, new_token, token_hash
from gesher.policy.countries import ISO_3166
from gesher.policy.entitlement import Entitlement, TrustTier
from gesher.policy.principal import Grant, Principal, StakeholderKind
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import collections as collection_store
from gesher.store import partners as store
from gesher.store.collections import Collection
from gesher.store.partners import PartnerRow

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$")


def _check_new_partner(name: str, country: str, kind: str) -> tuple[str, str]:
    if not _NAME.match(name):
        raise InvalidRequest(
            f"partner name {name[:100]!r} must be 2-100 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (it is the HTTP Basic user name)"
        )
    code = country.strip().upper()
    if code not in ISO_3166:
        raise InvalidRequest(f"country {country[:20]!r} is not an ISO 3166-1 alpha-2 code")
    kinds = [k.value for k in StakeholderKind]
    if kind not in kinds:
        raise InvalidRequest(f"kind {kind[:30]!r} must be one of {', '.join(kinds)}")
    return code, kind


def create_partner(
    conn: Connection, actor: str, name: str, country: str, kind: str, is_admin: bool = False
) -> tuple[PartnerRow, str]:
    """A new partner and its first token (the only time the token is shown)."""
    code, kind = _check_new_partner(name, country, kind)
    if store.by_name(conn, name) is not None:
        raise Conflict(f"a partner named {name!r} already exists")
    partner = store.insert(conn, name, code, kind, is_admin, now_micros())
    audit.record(conn, actor, "partner.create", f"partner:{name}", country=code, kind=kind, admin=is_admin)
    return partner, issue_token(conn, actor, partner)


def require_partner(conn: Connection, name: str) -> PartnerRow:
    partner = store.by_name(conn, name)
    if partner is None:
        raise NotFound(f"no partner named {name!r}")
    return partner


def require_collection(conn: Connection, ref: str) -> Collection:
    found = collection_store.by_name_or_id(conn, ref)
    if found is None:
        raise NotFound(f"no collection named {ref!r}")
    return found


def issue_token(conn: Connection, actor: str, partner: PartnerRow) -> str:
    token = new_token()
    store.add_token(conn, partner.id, token_hash(token), display_prefix(token), now_micros())
    audit.record(conn, actor, "token.issue", f"partner:{partner.name}", prefix=display_prefix(token))
    return token


def revoke_tokens(conn: Connection, actor: str, partner: PartnerRow, reason: str) -> int:
    count = store.revoke_tokens(conn, partner.id, now_micros())
    audit.record(conn, actor, "token.revoke", f"partner:{partner.name}", count=count, reason=reason)
    return count


def grant(
    conn: Connection, actor: str, partner: PartnerRow, collection: Collection, can_read: bool, can_write: bool
) -> None:
    store.set_grant(conn, partner.id, collection.id, can_read, can_write)
    audit.record(
        conn,
        actor,
        "grant.set",
        f"partner:{partner.name}",
        collection=collection.id,
        read=can_read,
        write=can_write,
    )


def principal_of(
    partner: PartnerRow, grants: dict[str, tuple[bool, bool]], policy_state: tuple[int, int] | None = None
) -> Principal:
    """The policy's view of a partner. A suspended partner receives nothing, whatever its role and grants:
    every way out (TAXII refuses its tokens; an operator's export or preview as that partner) agrees."""
    if partner.suspended:
        return Principal(
            partner.id, partner.name, partner.country, partner.kind, entitlement=entitlement_of(partner)
        )
    return Principal(
        partner_id=partner.id,
        name=partner.name,
        country=partner.country,
        kind=partner.kind,
        is_admin=partner.is_admin,
        grants={
            collection_store.DEFINITIONS_ID: Grant(True, False),
            collection_store.ALERTS_ID: Grant(True, False),
        }
        | {cid: Grant(r, w) for cid, (r, w) in grants.items()},
        entitlement=entitlement_of(partner),
        policy_state=policy_state,
    )


def entitlement_of(partner: PartnerRow) -> Entitlement:
    return Entitlement(
        partner=partner.name,
        country=partner.country,
        kind=partner.kind,
        trust_tier=TrustTier(partner.trust_tier) if partner.trust_tier is not None else None,
        suspended=partner.suspended,
        sectors=partner.sector_set,
    )


_SECTOR = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def set_standing(
    conn: Connection,
    actor: str,
    partner: PartnerRow,
    reason: str,
    trust_tier: int | str | None = "keep",
    sectors: list[str] | None = None,
    suspended: bool | None = None,
    reliability: str | None = None,
) -> PartnerRow:
    """Change a partner's trust tier (1-4, or None: not vetted), sectors, suspension or source
    reliability (Admiralty A-F, weighing its sightings in correlation), with a reason. Takes effect at the
    partner's next request; every change is an audit event, and a change of tier, suspension or
    reliability a ledger entry."""
    if not reason.strip():
        raise InvalidRequest("a reason is required to change a partner's standing")
    tier = partner.trust_tier if trust_tier == "keep" else trust_tier
    if tier is not None and (not isinstance(tier, int) or tier not in TrustTier._value2member_map_):
        raise InvalidRequest(f"trust tier {tier!r} must be 1 (closest allies) to 4 (restricted)")
    chosen = frozenset(s.strip().lower() for s in sectors) if sectors is not None else partner.sector_set
    for sector in chosen:
        if not _SECTOR.fullmatch(sector):
            raise InvalidRequest(f"sector {sector[:64]!r} must be a lower-case word (a-z, 0-9, '-')")
    halted = partner.suspended if suspended is None else suspended
    grade = partner.reliability if reliability is None else _reliability(reliability)
    store.set_standing(conn, partner.id, tier, chosen, halted)
    if grade != partner.reliability:
        store.set_reliability(conn, partner.id, grade)
        old_grade, new_grade = f"reliability {partner.reliability}", f"reliability {grade}"
        subject = f"partner:{partner.name}"
        ledger.record(conn, Kind.TIER, actor, subject=subject, old=old_grade, new=new_grade, reason=reason)
    old, new = _standing(partner.trust_tier, partner.suspended), _standing(tier, halted)
    if old != new:
        ledger.record(
            conn, Kind.TIER, actor, subject=f"partner:{partner.name}", old=old, new=new, reason=reason
        )
    audit.record(
        conn,
        actor,
        "partner.standing",
        f"partner:{partner.name}",
        trust_tier=tier,
        sectors=sorted(chosen),
        suspended=halted,
        reliability=grade,
        reason=reason,
    )
    return require_partner(conn, partner.name)


RELIABILITY_GRADES = "ABCDEF"  # Admiralty: A completely reliable ... E unreliable, F cannot be judged


def _reliability(value: str) -> str:
    grade = value.strip().upper()
    if len(grade) != 1 or grade not in RELIABILITY_GRADES:
        raise InvalidRequest(
            f"source reliability {value[:20]!r} must be an Admiralty grade A (completely reliable), "
            "B (usually reliable), C (fairly reliable), D (not usually reliable), E (unreliable) or "
            "F (cannot be judged)"
        )
    return grade


def _standing(tier: int | None, suspended: bool) -> str:
    """A partner's standing in words, as the ledger records it, e.g. "tier 2" or "tier 1, suspended"."""
    words = f"tier {tier}" if tier is not None else "not vetted"
    return f"{words}, suspended" if suspended else words


def authenticate(conn: Connection, token: str, claimed_name: str | None = None) -> Principal | None:
    """The principal behind a live token; None for unknown, revoked or suspended, or when HTTP Basic names
    a different partner than the token's holder."""
    if not token or len(token) > 256:
        return None
    owner = store.owner_of_token(conn, token_hash(token))
    if owner is None or (claimed_name is not None and claimed_name != owner.partner.name):
        return None
    return principal_of(owner.partner, owner.grants, owner.policy_state)


def principal_by_name(conn: Connection, name: str) -> Principal:
    """The principal a partner would be when it calls (for exports and previews made by an operator)."""
    partner = require_partner(conn, name)
    return principal_of(partner, store.grants_of(conn, partner.id))
