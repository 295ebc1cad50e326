"""Managing the sharing policy: load a new version (validated, append-only, audited), and explain or
preview decisions exactly as enforcement makes them (the same Clearance and Outbound, never a copy)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection

from gesher.errors import InvalidRequest, NotFound
from gesher.exchange.clearance import Clearance, held_until_release
from gesher.exchange.outbound import Outbound
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.partners.service import principal_of, require_partner
from gesher.policy.decide import Decision
from gesher.policy.policy_file import parse_policy
from gesher.policy.principal import Principal
from gesher.policy.rules import Policy
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import objects as object_store
from gesher.store import partners as partner_store
from gesher.store import policies as store
from gesher.store.objects import StoredLocation
from gesher.taxii.query import TaxiiQuery, Versions


def load(conn: Connection, actor: str, text: str, source: str, reason: str) -> tuple[int, Policy]:
    """Validate and store a new policy; in force from the next request, in every worker."""
    if not reason.strip():
        raise InvalidRequest("a reason is required to change the sharing policy")
    policy = parse_policy(text, source)
    policy_id = store.add(conn, policy.version, policy.digest, text, now_micros(), actor, reason)
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    ledger.record(conn, Kind.POLICY, actor, policy_version=policy_id, sha256=sha256, reason=reason)
    audit.record(
        conn,
        actor,
        "policy.load",
        f"policy:{policy_id}",
        version=policy.version,
        digest=policy.digest,
        reason=reason,
    )
    return policy_id, policy


@dataclass(frozen=True)
class Explanation:
    """What one partner receives of one object version, and why."""

    partner: str
    collection: str
    object_id: str
    version: str
    can_read_collection: bool
    decision: Decision | None  # None: the version carries no label yet (never served)
    redactions: list[tuple[tuple[str, ...], Decision]]
    released: bool
    served: bytes | None  # the exact bytes the partner would receive, None when withheld
    sanitised: tuple[str, ...] = ()  # what its sanitisation profile changes, in words

    @property
    def receives(self) -> bool:
        return self.served is not None


def explain(conn: Connection, clearance: Clearance, partner_name: str, object_id: str) -> list[Explanation]:
    """For every stored version of `object_id`, whether `partner_name` receives it, in what form
    and why. The answer comes from the enforcement path itself: `served` is what Outbound returns."""
    partner = require_partner(conn, partner_name)
    principal = principal_of(partner, partner_store.grants_of(conn, partner.id))
    locations = object_store.locations(conn, object_id)
    if not locations:
        raise NotFound(f"no object {object_id!r} in this exchange")
    return [_explain(conn, clearance, principal, loc) for loc in locations]


def _explain(
    conn: Connection, clearance: Clearance, principal: Principal, loc: StoredLocation
) -> Explanation:
    entitlement = principal.entitlement
    assert entitlement is not None
    decided = clearance.decisions(conn, entitlement, loc.label_id) if loc.label_id is not None else None
    grant = principal.grants.get(loc.collection_id)
    can_read = grant is not None and grant.can_read
    served = _served(conn, clearance, principal, loc) if can_read else None
    return Explanation(
        partner=principal.name,
        collection=loc.collection_name,
        object_id=loc.object_id,
        version=loc.version_text,
        can_read_collection=can_read,
        decision=decided[0] if decided else None,
        redactions=decided[1] if decided else [],
        released=loc.released,
        served=served,
        sanitised=_sanitised(conn, clearance, principal, loc) if served is not None else (),
    )


def _sanitised(
    conn: Connection, clearance: Clearance, principal: Principal, loc: StoredLocation
) -> tuple[str, ...]:
    """The sanitiser's own account of what it changes in this version for this partner."""
    assert principal.entitlement is not None and loc.label_id is not None
    allowed = clearance.allowed(conn, principal.entitlement)
    sanitiser = clearance.sanitiser(allowed, allowed.profiles.get(loc.label_id))
    if sanitiser is None:
        return ()
    denied = allowed.denied_selectors.get(loc.label_id, ())
    if not loc.released:
        denied = (*denied, *allowed.pending_selectors.get(loc.label_id, ()))
    return sanitiser.apply(orjson.loads(loc.body), denied).redactions


def _served(
    conn: Connection, clearance: Clearance, principal: Principal, loc: StoredLocation
) -> bytes | None:
    q = TaxiiQuery(ids=(loc.object_id,), versions=Versions(latest=False, every=True))
    page = Outbound(conn, principal, clearance).objects(loc.collection_id, q, None, 1000)
    for _, body, *_ in page.rows:
        served = bytes(body)  # type: ignore[call-overload]
        if _version_of(served) == loc.version_text:
            return served
    return None


def _version_of(body: bytes) -> str | None:
    obj = orjson.loads(body)
    version = obj.get("modified", obj.get("created"))
    return str(version) if version is not None else None


def preview(conn: Connection, clearance: Clearance, object_id: str) -> list[Explanation]:
    """Every partner's view of the object: who would receive it, in what form, and who would not."""
    if not object_store.locations(conn, object_id):
        raise NotFound(f"no object {object_id!r} in this exchange")
    found: list[Explanation] = []
    for partner in partner_store.all_partners(conn):
        if partner.is_admin:
            continue
        found.extend(explain(conn, clearance, partner.name, object_id))
    return found


def explanation_lines(e: Explanation) -> list[str]:
    """The explanation as sentences, in the order the policy checked them."""
    lines: list[str] = []
    if not e.can_read_collection:
        lines.append(f"no read grant on collection {e.collection}")
    if e.decision is None:
        lines.append("this version has no access label yet (run `gesher policy relabel`): never served")
        return lines
    d = e.decision
    lines.extend(d.reasons)
    if d.allowed:
        lines.append(f"decided by {d.decided_by}; sanitisation profile: {d.profile or 'none'}")
        if d.needs_release and not e.released:
            lines.append("pending: no second analyst has approved this version's release")
    lines.extend(f"sanitised: {r}" for r in e.sanitised)
    for selectors, part in e.redactions:
        if held_until_release(d, part) and not e.released:
            lines.append(f"held back until a second analyst releases this version: {', '.join(selectors)}")
        if not part.allowed:
            lines.append(f"redacted {', '.join(selectors)}: {part.reasons[-1]}")
    if d.allowed and e.can_read_collection and e.served is None and (e.released or not d.needs_release):
        lines.append(
            "withheld: it points at an object hidden from the partner, "
            "or redaction would leave no valid object"
        )
    return lines


def as_json(e: Explanation) -> dict[str, object]:
    d = e.decision
    return {
        "partner": e.partner,
        "collection": e.collection,
        "object_id": e.object_id,
        "version": e.version,
        "receives": e.receives,
        "allowed_by_policy": d.allowed if d else False,
        "decided_by": d.decided_by if d else None,
        "profile": d.profile if d else None,
        "needs_release": d.needs_release if d else None,
        "released": e.released,
        "explanation": explanation_lines(e),
        "served": orjson.loads(e.served) if e.served is not None else None,
    }
