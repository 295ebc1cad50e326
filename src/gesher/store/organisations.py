"""Organisation records (the legal persons behind partners, and their owners) and ownership links."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import Connection, delete, select, update

from gesher.store.db import dialect_insert
from gesher.store.tables import organisations, ownership


@dataclass(frozen=True)
class Organisation:
    id: int
    partner_id: int | None
    legal_name: str
    aliases: tuple[str, ...]
    country: str | None
    kind: str | None
    government_share: float
    sectors: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every name it is screened under: the legal name first."""
        return (self.legal_name, *self.aliases)


def _from_row(row: object) -> Organisation:
    r = row._mapping  # type: ignore[attr-defined]
    return Organisation(
        r["id"],
        r["partner_id"],
        r["legal_name"],
        tuple(orjson.loads(r["aliases"])),
        r["country"],
        r["kind"],
        float(r["government_share"]),
        tuple(s for s in r["sectors"].split(",") if s),
    )


def add(conn: Connection, record: Organisation, now: int) -> Organisation:
    values = _values(record, now)
    new_id = conn.execute(organisations.insert().values(partner_id=record.partner_id, **values))
    return by_id(conn, int(new_id.inserted_primary_key[0]))  # type: ignore[return-value]


def replace(conn: Connection, record: Organisation, now: int) -> Organisation:
    stmt = update(organisations).where(organisations.c.id == record.id).values(**_values(record, now))
    conn.execute(stmt)
    return by_id(conn, record.id)  # type: ignore[return-value]


def _values(record: Organisation, now: int) -> dict[str, object]:
    return {
        "legal_name": record.legal_name,
        "aliases": orjson.dumps(list(record.aliases)).decode(),
        "country": record.country,
        "kind": record.kind,
        "government_share": record.government_share,
        "sectors": ",".join(sorted(record.sectors)),
        "updated_at": now,
    }


def by_id(conn: Connection, organisation_id: int) -> Organisation | None:
    row = conn.execute(select(organisations).where(organisations.c.id == organisation_id)).first()
    return _from_row(row) if row else None


def of_partner(conn: Connection, partner_id: int) -> Organisation | None:
    row = conn.execute(select(organisations).where(organisations.c.partner_id == partner_id)).first()
    return _from_row(row) if row else None


def by_legal_name(conn: Connection, legal_name: str) -> list[Organisation]:
    stmt = select(organisations).where(organisations.c.legal_name == legal_name).order_by(organisations.c.id)
    return [_from_row(r) for r in conn.execute(stmt)]


def set_owner(conn: Connection, owned: int, owner: int, share: float | None) -> None:
    insert = dialect_insert(conn, ownership).values(owned_id=owned, owner_id=owner, share=share)
    conn.execute(insert.on_conflict_do_update(index_elements=["owned_id", "owner_id"], set_={"share": share}))


def remove_owner(conn: Connection, owned: int, owner: int) -> bool:
    stmt = delete(ownership).where(ownership.c.owned_id == owned, ownership.c.owner_id == owner)
    return bool(conn.execute(stmt).rowcount)


def owners_of(conn: Connection, owned: int) -> list[tuple[Organisation, float | None]]:
    stmt = (
        select(organisations, ownership.c.share)
        .join(ownership, ownership.c.owner_id == organisations.c.id)
        .where(ownership.c.owned_id == owned)
        .order_by(organisations.c.id)
    )
    return [(_from_row(r), r.share) for r in conn.execute(stmt)]
