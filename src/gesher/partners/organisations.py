"""Organisation records: the legal person behind each partner (legal name, aliases, country, kind,
government-owned share, sectors) and who owns it. Owners need not be partners; they are screened too."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from gesher.errors import InvalidRequest
from gesher.policy.countries import ISO_3166
from gesher.screening import normalise
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import organisations as store
from gesher.store.organisations import Organisation
from gesher.store.partners import PartnerRow

MAX_NAME = 300
MAX_DEPTH = 6  # ownership chains deeper than this are not followed (and say so)


def record_of(conn: Connection, partner: PartnerRow) -> Organisation:
    """The partner's organisation record; until one is entered, its registry entry stands in for it."""
    found = store.of_partner(conn, partner.id)
    if found is not None:
        return found
    return Organisation(0, partner.id, partner.name, (), partner.country, partner.kind, 0.0, ())


def _name(value: str, what: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned or len(cleaned) > MAX_NAME:
        raise InvalidRequest(f"{what} must be 1 to {MAX_NAME} characters, not {value[:40]!r}")
    if not normalise(cleaned):
        # A name screening cannot compare would fail every later vetting and watchlist load (which
        # re-screens everyone): refuse it when it is entered.
        raise InvalidRequest(f"{what} {value[:40]!r} has no letters or digits to screen")
    return cleaned


def _share(value: float, what: str) -> float:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidRequest(f"{what} must be between 0 and 1 (a fraction, e.g. 0.3), not {value!r}")
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in ISO_3166:
        raise InvalidRequest(f"country {value[:20]!r} is not an ISO 3166-1 alpha-2 code")
    return code


def set_record(
    conn: Connection,
    actor: str,
    partner: PartnerRow,
    legal_name: str | None = None,
    aliases: list[str] | None = None,
    government_share: float | None = None,
) -> Organisation:
    """Enter or change the partner's organisation record (an audit event with the new values)."""
    current = record_of(conn, partner)
    changed = replace(
        current,
        legal_name=_name(legal_name, "legal name") if legal_name is not None else current.legal_name,
        aliases=tuple(dict.fromkeys(_name(a, "alias") for a in aliases))
        if aliases is not None
        else current.aliases,
        government_share=_share(government_share, "government share")
        if government_share is not None
        else current.government_share,
        country=partner.country,
        kind=partner.kind,
        sectors=tuple(sorted(partner.sector_set)),
    )
    saved = (
        store.replace(conn, changed, now_micros()) if current.id else store.add(conn, changed, now_micros())
    )
    audit.record(
        conn, actor, "organisation.set", f"partner:{partner.name}", legal_name=saved.legal_name,
        aliases=list(saved.aliases), government_share=saved.government_share,
    )  # fmt: skip
    return saved


def set_owner(
    conn: Connection,
    actor: str,
    partner: PartnerRow,
    owner_name: str,
    country: str | None,
    share: float | None,
) -> Organisation:
    """Record that `owner_name` owns `share` of the partner (an existing organisation of that legal name,
    or a new record). Owners are screened with the partner: one owned by a listed entity inherits the hit."""
    owned = record_of(conn, partner)
    if not owned.id:
        owned = store.add(conn, owned, now_micros())
    name = _name(owner_name, "owner name")
    code = _country(country) if country else None
    if share is not None:
        _share(share, "owner's share")
    same = [o for o in store.by_legal_name(conn, name) if code is None or o.country in (None, code)]
    owner = (
        same[0]
        if same
        else store.add(conn, Organisation(0, None, name, (), code, None, 0.0, ()), now_micros())
    )
    if owner.id == owned.id:
        raise InvalidRequest(f"{partner.name} cannot own itself")
    store.set_owner(conn, owned.id, owner.id, share)
    audit.record(
        conn, actor, "organisation.owner", f"partner:{partner.name}", owner=name, country=code, share=share
    )
    return owner


@dataclass(frozen=True)
class Owner:
    organisation: Organisation
    share: float | None
    via: str  # the intermediate owner's name ("" when it owns the partner directly)


def ownership_chain(conn: Connection, organisation: Organisation) -> tuple[list[Owner], bool]:
    """Every direct and indirect owner (breadth first, each once), and whether the chain went deeper than
    MAX_DEPTH (then the rest is not screened, and the vetting says so)."""
    if not organisation.id:
        return [], False
    found: list[Owner] = []
    seen = {organisation.id}
    frontier = [(organisation, "")]
    for _ in range(MAX_DEPTH):
        following: list[tuple[Organisation, str]] = []
        for owned, _via in frontier:
            for owner, share in store.owners_of(conn, owned.id):
                if owner.id in seen:
                    continue
                seen.add(owner.id)
                found.append(Owner(owner, share, "" if owned.id == organisation.id else owned.legal_name))
                following.append((owner, owned.legal_name))
        frontier = following
        if not frontier:
            return found, False
    return found, True
