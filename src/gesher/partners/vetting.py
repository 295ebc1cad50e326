"""Vetting partners: gather what the pure assessment needs (country profile, screening of the partner and
of every owner, agreements in force), record the assessment, let an officer approve or override the
proposed tier with a reason, and re-screen everyone when a list changes. A listed partner is cut off in
the same transaction: suspended (the policy serves it nothing from its next request) and its tokens
revoked. Delisting never reinstates: it opens a review. History is append-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gesher.errors import Conflict, Forbidden, InvalidRequest
from gesher.partners import organisations, service
from gesher.partners.organisations import Owner
from gesher.partners.screening import NamesScreening, record, screen_names
from gesher.policy.entitlement import TrustTier
from gesher.screening import Screener
from gesher.stix.timestamps import now_micros
from gesher.store import partners as partner_store
from gesher.store import vetting as store
from gesher.store.partners import PartnerRow
from gesher.store.vetting import VettingEvent
from gesher.vetting.assess import assess
from gesher.vetting.model import Assessment, OwnerScreening, ScreeningOutcome, VettingInputs

if TYPE_CHECKING:
    from gesher.exchange.node import Node

LISTED = "listed"  # the event that cut a partner off because of a watchlist hit
DELISTED = "delisting-review"  # no longer listed: an officer must decide (never an automatic reinstatement)
REVIEW = "screening-review"  # a potential match for an officer


@dataclass(frozen=True)
class Vetting:
    partner: PartnerRow
    assessment: Assessment
    screening: NamesScreening
    owners: tuple[tuple[Owner, NamesScreening], ...]
    chain_truncated: bool
    cut_off: bool

    def as_json(self) -> dict[str, object]:
        a = self.assessment
        return {
            "partner": self.partner.name,
            "proposed_tier": int(a.proposed_tier) if a.proposed_tier is not None else None,
            "composite_risk": a.composite_risk.value,
            "blocking": a.blocking,
            "needs_review": a.needs_review,
            "government_end_user": a.government_end_user,
            "cut_off": self.cut_off,
            "screening": {"outcome": self.screening.outcome, "hits": self.screening.hits},
            "owners": [
                {"name": o.organisation.legal_name, "share": o.share, "via": o.via, "outcome": s.outcome}
                for o, s in self.owners
            ],
            "ownership_chain_truncated": self.chain_truncated,
            "reasons": [{"code": r.code, "text": r.text, "effect": r.effect.value} for r in a.reasons],
            "dimensions": {
                k: {"score": d.score, "reasons": list(d.reasons)} for k, d in a.dimensions.items()
            },
        }


def _screen_partner(
    conn: Connection, screener: Screener, partner: PartnerRow
) -> tuple[NamesScreening, tuple[tuple[Owner, NamesScreening], ...], bool]:
    org = organisations.record_of(conn, partner)
    # A partner is an organisation; an owner may be a person or an organisation (schema unknown).
    own = screen_names(screener, f"partner:{partner.name}", org.names, partner.country, "Organization")
    chain, truncated = organisations.ownership_chain(conn, org)
    owners = tuple(
        (o, screen_names(screener, f"organisation:{o.organisation.id}", o.organisation.names,
                         o.organisation.country, None))
        for o in chain
    )  # fmt: skip
    return own, owners, truncated


def _agreements(node: Node, conn: Connection, partner: PartnerRow) -> tuple[str, ...]:
    _, policy = node.clearance.current_policy(conn)
    now = now_micros()
    return tuple(a.name for a in policy.agreements if partner.name in a.partners and a.in_force(now))


def vet(node: Node, conn: Connection, actor: str, partner: PartnerRow) -> Vetting:
    """Assess the partner now and record it; cut it off at once if it or an owner is a listed match."""
    if partner.is_admin:
        raise InvalidRequest(f"{partner.name} administers this exchange: it is not vetted as a partner")
    screener = node.screeners.current(conn)
    own, owners, truncated = _screen_partner(conn, screener, partner)
    org = organisations.record_of(conn, partner)
    inputs = VettingInputs(
        partner=partner.name,
        country=node.countries().find(partner.country),
        kind=partner.kind,
        screening=ScreeningOutcome(own.outcome),
        assessed_on=datetime.now(UTC).date(),
        screening_detail="; ".join(own.hits),
        owners=tuple(
            OwnerScreening(
                o.organisation.legal_name, ScreeningOutcome(s.outcome), o.share, o.via, "; ".join(s.hits)
            )
            for o, s in owners
        ),
        government_share=org.government_share,
        agreements=_agreements(node, conn, partner),
    )
    assessment = assess(inputs)
    record(conn, actor, [own, *(s for _, s in owners)])
    vetting = Vetting(partner, assessment, own, owners, truncated, cut_off=False)
    _event(conn, partner, actor, "assessed", assessment, "assessment", vetting.as_json())
    if _listed(own, owners):
        return Vetting(
            partner, assessment, own, owners, truncated, cut_off=cut_off(conn, actor, partner, own, owners)
        )
    return vetting


def screen_registration(node: Node, conn: Connection, actor: str, partner: PartnerRow) -> NamesScreening:
    """Screen a partner being registered (and its recorded owners). A match refuses the registration: the
    caller's transaction rolls back and no account exists; a review is recorded for an officer."""
    own, owners, _ = _screen_partner(conn, node.screeners.current(conn), partner)
    if _listed(own, owners):
        hits = own.hits + [h for _, s in owners for h in s.hits]
        raise Forbidden(f"{partner.name} is not registered: it matches a watchlist entry ({'; '.join(hits)})")
    record(conn, actor, [own, *(s for _, s in owners)])
    if "review" in (own.outcome, *(s.outcome for _, s in owners)):
        detail = {"hits": own.hits}
        store.add_event(conn, _row(partner, actor, REVIEW, None, None, None, "registration", detail))
    return own


def _listed(own: NamesScreening, owners: tuple[tuple[Owner, NamesScreening], ...]) -> bool:
    return own.outcome == "match" or any(s.outcome == "match" for _, s in owners)


def cut_off(
    conn: Connection,
    actor: str,
    partner: PartnerRow,
    own: NamesScreening,
    owners: tuple[tuple[Owner, NamesScreening], ...],
) -> bool:
    """Suspend a listed partner and revoke its tokens (False when it already was cut off for a listing)."""
    hits = own.hits + [f"owner {o.organisation.legal_name}: {h}" for o, s in owners for h in s.hits]
    reason = "watchlist match: " + "; ".join(hits)
    if _cut_off_for_listing(partner, store.latest_events(conn, (LISTED, DELISTED)).get(partner.id)):
        return False
    service.set_standing(conn, actor, partner, reason, suspended=True)
    service.revoke_tokens(conn, actor, partner, reason)
    store.add_event(
        conn, _row(partner, actor, LISTED, None, partner.trust_tier, None, reason, {"hits": hits})
    )
    return True


def _cut_off_for_listing(partner: PartnerRow, last_listing_event: VettingEvent | None) -> bool:
    """Whether the partner is suspended because of a listing no officer has looked at since (events
    unrelated to listings, like a tier decision, change nothing)."""
    return partner.suspended and last_listing_event is not None and last_listing_event.action == LISTED


def approve_tier(
    conn: Connection, actor: str, partner: PartnerRow, tier: int | None, reason: str
) -> VettingEvent:
    """An officer's decision on the latest assessment: the proposed tier (approved) or another one
    (overridden, the reason saying why). A partner whose assessment is a hard denial gets no tier."""
    if not reason.strip():
        raise InvalidRequest("a reason is required to approve or override a trust tier")
    if tier is not None and tier not in TrustTier._value2member_map_:
        raise InvalidRequest(f"trust tier {tier!r} must be 1 (closest allies) to 4 (restricted), or none")
    assessed = [e for e in store.events_of(conn, partner.id) if e.action == "assessed"]
    if not assessed:
        raise Conflict(f"{partner.name} has not been vetted yet: run `gesher vet {partner.name}` first")
    last = assessed[-1]
    if last.details.get("blocking") and tier is not None:
        raise Conflict(
            f"{partner.name}'s latest vetting is a hard denial ({last.risk}): no trust tier can be approved; "
            "clear the cause (e.g. a watchlist hit judged a false positive, then vet again) first"
        )
    action = "approved" if tier == last.proposed_tier else "overridden"
    service.set_standing(conn, actor, partner, f"vetting {action}: {reason}", trust_tier=tier)
    row = _row(partner, actor, action, last.proposed_tier, tier, last.risk, reason, {"assessment": last.id})
    store.add_event(conn, row)
    return store.events_of(conn, partner.id)[-1]


@dataclass(frozen=True)
class Rescreen:
    screened: int
    cut_off: tuple[str, ...]
    review: tuple[str, ...]
    delisted: tuple[str, ...]  # cut off for a listing, no longer listed: an officer must decide


def rescreen_all(node: Node, conn: Connection, actor: str, reason: str) -> Rescreen:
    """Screen every partner (and its owners) against the lists in force, after a list update or on demand."""
    screener = node.screeners.current(conn)
    listings = store.latest_events(conn, (LISTED, DELISTED))
    decisions = store.latest_events(conn, (REVIEW, "assessed", "approved", "overridden"))
    cut, review, delisted, results = [], [], [], []
    partners = [p for p in partner_store.all_partners(conn) if not p.is_admin]
    for partner in partners:
        own, owners, _ = _screen_partner(conn, screener, partner)
        results += [own, *(s for _, s in owners)]
        if _listed(own, owners):
            if cut_off(conn, actor, partner, own, owners):
                cut.append(partner.name)
        elif _cut_off_for_listing(partner, listings.get(partner.id)):
            delisted.append(partner.name)
            detail = {"outcome": own.outcome}
            store.add_event(conn, _row(partner, actor, DELISTED, None, None, None, reason, detail))
        elif "review" in (own.outcome, *(s.outcome for _, s in owners)):
            review.append(partner.name)
            last = decisions.get(partner.id)
            if last is None or last.action != REVIEW:  # one open review at a time, until an officer acts
                detail = {"hits": own.hits}
                store.add_event(conn, _row(partner, actor, REVIEW, None, None, None, reason, detail))
    record(conn, actor, results)
    return Rescreen(len(partners), tuple(cut), tuple(review), tuple(delisted))


def due(conn: Connection, days: int) -> list[PartnerRow]:
    """Active partners whose last assessment is older than `days`, or who were never vetted."""
    horizon = now_micros() - int(timedelta(days=days).total_seconds() * 1_000_000)
    assessed = store.latest_events(conn, ("assessed",))
    return [
        p
        for p in partner_store.all_partners(conn)
        if not p.is_admin and not p.suspended and (p.id not in assessed or assessed[p.id].at < horizon)
    ]


def _event(
    conn: Connection,
    partner: PartnerRow,
    actor: str,
    action: str,
    a: Assessment,
    reason: str,
    details: dict[str, object],
) -> None:
    tier = int(a.proposed_tier) if a.proposed_tier is not None else None
    store.add_event(conn, _row(partner, actor, action, tier, None, a.composite_risk.value, reason, details))


def _row(
    partner: PartnerRow,
    actor: str,
    action: str,
    proposed: int | None,
    tier: int | None,
    risk: str | None,
    reason: str,
    details: dict[str, object],
) -> dict[str, object]:
    return {
        "partner_id": partner.id, "at": now_micros(), "actor": actor, "action": action,
        "proposed_tier": proposed, "tier": tier, "risk": risk, "reason": reason, "details": details,
    }  # fmt: skip
