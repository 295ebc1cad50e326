"""Partner accounts, their hashed API tokens and per-collection grants."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select, update

from gesher.store.db import dialect_insert
from gesher.store.policies import LABEL_COUNT, POLICY_IN_FORCE
from gesher.store.tables import api_tokens, grants, partners


@dataclass(frozen=True)
class PartnerRow:
    id: int
    name: str
    country: str
    kind: str
    is_admin: bool
    suspended: bool
    trust_tier: int | None = None
    sectors: str = ""  # comma-separated
    reliability: str = "F"  # Admiralty source reliability A-F of what it reports (F: cannot be judged)

    @property
    def sector_set(self) -> frozenset[str]:
        return frozenset(s for s in self.sectors.split(",") if s)


@dataclass(frozen=True)
class TokenOwner:
    """The partner behind a live token, with its grants: one query authenticates and authorises."""

    partner: PartnerRow
    grants: dict[str, tuple[bool, bool]]
    policy_state: tuple[int, int]  # (policy in force, number of labels), read in the same query


_PARTNER_COLS = (
    partners.c.id,
    partners.c.name,
    partners.c.country,
    partners.c.kind,
    partners.c.is_admin,
    partners.c.suspended,
    partners.c.trust_tier,
    partners.c.sectors,
    partners.c.reliability,
)
_WIDTH = len(_PARTNER_COLS)


def insert(conn: Connection, name: str, country: str, kind: str, is_admin: bool, now: int) -> PartnerRow:
    result = conn.execute(
        partners.insert().values(
            name=name,
            country=country,
            kind=kind,
            is_admin=is_admin,
            suspended=False,
            created_at=now,
            sectors="",
        )
    )
    return PartnerRow(int(result.inserted_primary_key[0]), name, country, kind, is_admin, False)


def by_name(conn: Connection, name: str) -> PartnerRow | None:
    row = conn.execute(select(*_PARTNER_COLS).where(partners.c.name == name)).first()
    return PartnerRow(*row) if row else None


def all_partners(conn: Connection) -> list[PartnerRow]:
    return [PartnerRow(*r) for r in conn.execute(select(*_PARTNER_COLS).order_by(partners.c.name))]


def set_standing(
    conn: Connection,
    partner_id: int,
    trust_tier: int | None,
    sectors: frozenset[str],
    suspended: bool,
) -> None:
    stmt = update(partners).where(partners.c.id == partner_id)
    conn.execute(stmt.values(trust_tier=trust_tier, sectors=",".join(sorted(sectors)), suspended=suspended))


def set_reliability(conn: Connection, partner_id: int, grade: str) -> None:
    conn.execute(update(partners).where(partners.c.id == partner_id).values(reliability=grade))


def add_token(conn: Connection, partner_id: int, token_hash: str, prefix: str, now: int) -> None:
    conn.execute(
        api_tokens.insert().values(
            partner_id=partner_id, token_hash=token_hash, prefix=prefix, created_at=now
        )
    )


def revoke_tokens(conn: Connection, partner_id: int, now: int) -> int:
    stmt = (
        update(api_tokens)
        .where(api_tokens.c.partner_id == partner_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(conn.execute(stmt).rowcount)


# Built once: this runs on every authenticated request. It also reads which policy is in force and the
# number of access labels, so the policy cache is checked on every request without a query of its own.
_OWNER_OF_TOKEN = (
    select(
        *_PARTNER_COLS,
        grants.c.collection_id,
        grants.c.can_read,
        grants.c.can_write,
        POLICY_IN_FORCE.label("policy_id"),
        LABEL_COUNT.label("labels"),
    )
    .select_from(
        api_tokens.join(partners, partners.c.id == api_tokens.c.partner_id).outerjoin(
            grants, grants.c.partner_id == partners.c.id
        )
    )
    .where(
        api_tokens.c.token_hash == bindparam("token_hash"),
        api_tokens.c.revoked_at.is_(None),
        partners.c.suspended.is_(False),
    )
)


def owner_of_token(conn: Connection, token_hash: str) -> TokenOwner | None:
    """The live (not revoked, not suspended) partner holding this token hash, with its grants."""
    rows = conn.execute(_OWNER_OF_TOKEN, {"token_hash": token_hash}).all()
    if not rows:
        return None
    partner = PartnerRow(*rows[0][:_WIDTH])
    found = {r.collection_id: (bool(r.can_read), bool(r.can_write)) for r in rows if r.collection_id}
    return TokenOwner(partner, found, (int(rows[0].policy_id), int(rows[0].labels)))


def set_grant(conn: Connection, partner_id: int, collection_id: str, can_read: bool, can_write: bool) -> None:
    values = {
        "partner_id": partner_id,
        "collection_id": collection_id,
        "can_read": can_read,
        "can_write": can_write,
    }
    stmt = dialect_insert(conn, grants).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[grants.c.partner_id, grants.c.collection_id],
        set_={"can_read": can_read, "can_write": can_write},
    )
    conn.execute(stmt)


def grants_of(conn: Connection, partner_id: int) -> dict[str, tuple[bool, bool]]:
    stmt = select(grants.c.collection_id, grants.c.can_read, grants.c.can_write).where(
        grants.c.partner_id == partner_id
    )
    return {r.collection_id: (bool(r.can_read), bool(r.can_write)) for r in conn.execute(stmt)}
