"""Misuse reports through the service, and the cascade applied at once, in the same transaction:
licences suspended or revoked and open applications refused (each saved by compare-and-set), open
applications whose facts changed screened again, a denied end user added to a new version of the national
denied-parties list (loading it re-screens every partner, so a partner it matches is cut off), a partner's
trust tier lowered (the sharing policy follows at its next request), a country's tier lowering recorded in
the history (later recommendations use it; changing the operator's country file stays the operator's act)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gesher.errors import Conflict, InvalidRequest
from gesher.licensing import misuse
from gesher.licensing.applications import OPEN, Application
from gesher.licensing.conditions import TargetClass
from gesher.licensing.history import Actor, event, require_officer
from gesher.licensing.licences import LIVE, Licence
from gesher.licensing.misuse import (
    Action,
    Cascade,
    LowerCountryTier,
    LowerPartnerTier,
    MisuseFinding,
    MisuseReport,
)
from gesher.licensing_service import applications as app_service
from gesher.licensing_service.common import created, micros, new_id, now, record_events, require, saved
from gesher.partners import service as partners
from gesher.partners import watchlists
from gesher.partners.watchlists import Update
from gesher.policy.entitlement import TrustTier
from gesher.store import licensing as store
from gesher.store.licensing import APPLICATION, LICENCE, MISUSE
from gesher.vetting.countries import ExportTier

if TYPE_CHECKING:
    from datetime import datetime

    from gesher.exchange.node import Node

DENIED_PARTIES_LIST = "national-denied-parties"
DENY_PARTY = "deny-end-user"
LOWER_PARTNER = "lower-partner-tier"
CSV_HEADER = ("id", "schema", "name", "aliases", "weak_aliases", "country", "listed_since", "removed_on",
              "authority", "citation")  # fmt: skip


def receive(
    node: Node,
    conn: Connection,
    actor: Actor,
    source: str,
    summary: str,
    *,
    licences: tuple[str, ...] = (),
    country: str = "",
    end_user: str = "",
    targets: frozenset[TargetClass] = frozenset(),
    credibility: str = "",
    report_id: str | None = None,
) -> MisuseReport:
    """An officer (or the system) records a report; the licences it names must exist."""
    for licence_id in licences:
        require(conn, LICENCE, licence_id, actor)
    code = node.countries().get(country).alpha2 if country.strip() else ""
    report = MisuseReport(
        report_id or new_id("M"), source, summary, tuple(licences), code, end_user, targets, credibility
    )
    return created(conn, MISUSE, misuse.receive(report, actor, now()))


def investigate(
    node: Node, conn: Connection, actor: Actor, report_id: str, finding: MisuseFinding | str, reason: str
) -> MisuseReport:
    report = report_of(conn, actor, report_id)
    return saved(
        conn, MISUSE, report, misuse.investigate(report, MisuseFinding(finding), actor, now(), reason)
    )


@dataclass(frozen=True)
class Applied:
    """What acting on a report changed, all in the caller's transaction."""

    report: MisuseReport
    cascade: Cascade
    rescreened: tuple[Application, ...] = ()
    denied_list: Update | None = None
    partners_lowered: tuple[str, ...] = ()


def act(
    node: Node, conn: Connection, actor: Actor, report_id: str, actions: tuple[Action, ...], reason: str
) -> Applied:
    """Take the actions (the core checks they are allowed by the finding) and apply their cascade at once."""
    report = report_of(conn, actor, report_id)
    for action in actions:
        _check_current(node, conn, action)
    at = now()
    report = saved(conn, MISUSE, report, misuse.act(report, actions, actor, at, reason))
    applications = store.find(conn, APPLICATION, state=[s.value for s in OPEN])
    licences = _licences_for(conn, actions)
    cascade = misuse.cascade_all(actions, applications, licences, actor, at, reason)
    _store_cascade(conn, cascade, {a.id: a for a in applications}, {x.id: x for x in licences})
    for change in cascade.country_tier_changes:
        _record_country(conn, change, actor, at, f"misuse report {report.id}: {reason}")
    lowered = tuple(_lower_partner(conn, c, actor, at, f"misuse report {report.id}: {reason}")
                    for c in cascade.partner_tier_changes)  # fmt: skip
    denied = _deny_parties(node, conn, actor, report, cascade.denied_parties, at, reason)
    rescreened = tuple(
        app_service.screen(node, conn, actor, app)
        for app in (store.load(conn, APPLICATION, i) for i in cascade.rescreen)
        if app is not None and app.state in OPEN
    )
    return Applied(report, cascade, rescreened, denied, lowered)


def report_of(conn: Connection, actor: Actor, report_id: str) -> MisuseReport:
    """A misuse report: officers' business only (a vendor reads none, not even about its own licences)."""
    require_officer(actor, "reading a misuse report")
    return require(conn, MISUSE, report_id, actor)


def reports_of(conn: Connection, actor: Actor) -> list[MisuseReport]:
    """Every misuse report, by id (officers only)."""
    require_officer(actor, "reading misuse reports")
    return store.find(conn, MISUSE)


def lower_country(node: Node, conn: Connection, country: str, to: ExportTier | None) -> LowerCountryTier:
    """The action lowering a country from the tier it has now (as recommendations see it) to `to`."""
    current = app_service.country_facts(node, conn, country).export_tier
    return LowerCountryTier(node.countries().get(country).alpha2, current, to)


def lower_partner(conn: Connection, name: str, to: TrustTier) -> LowerPartnerTier:
    """The action lowering a partner from the trust tier it holds now to `to`."""
    held = partners.require_partner(conn, name).trust_tier
    if held is None:
        raise InvalidRequest(f"{name} has no trust tier to lower")
    return LowerPartnerTier(name, TrustTier(held), TrustTier(to))


def denied_parties(conn: Connection) -> list[str]:
    """Every end user ever denied by a misuse action, first denial first."""
    return list(dict.fromkeys(e.subject_id for e in store.events(conn, "party") if e.action == DENY_PARTY))


# --- applying the cascade ------------------------------------------------------------------------------


def _check_current(node: Node, conn: Connection, action: Action) -> None:
    """A tier change names the tier it lowers from: if that is no longer the tier, it was decided on stale
    facts (someone else changed it): refuse, read again."""
    if isinstance(action, LowerPartnerTier):
        partner = partners.require_partner(conn, action.partner)
        if partner.trust_tier != int(action.from_tier):
            raise Conflict(
                f"{partner.name} is at trust tier {partner.trust_tier}, "
                f"not {int(action.from_tier)}: read it again"
            )
    if isinstance(action, LowerCountryTier):
        current = app_service.country_facts(node, conn, action.country).export_tier
        if current != action.from_tier:
            shown = current.value if current else "no list"
            raise Conflict(f"{action.country} is at {shown} now: read it again")


def _licences_for(conn: Connection, actions: tuple[Action, ...]) -> list[Licence]:
    """Live licences, and every licence an action names whatever its state (so a stale one is a no-op)."""
    found = {x.id: x for x in store.find(conn, LICENCE, state=[s.value for s in LIVE])}
    for action in actions:
        named = getattr(action, "licence", None)
        if isinstance(named, str) and named not in found:
            licence = store.load(conn, LICENCE, named)
            if licence is None:
                raise Conflict(f"licence {named} does not exist")
            found[named] = licence
    return list(found.values())


def _store_cascade(
    conn: Connection, cascade: Cascade, applications: dict[str, Application], licences: dict[str, Licence]
) -> None:
    at = micros(now())
    for licence in (*cascade.suspended_licences, *cascade.revoked_licences):
        store.save(conn, LICENCE, licence, licences[licence.id].version, at)
    for app in cascade.refused_applications:
        store.save(conn, APPLICATION, app, applications[app.id].version, at)
    record_events(conn, cascade.events)


def _record_country(
    conn: Connection, change: LowerCountryTier, actor: Actor, at: datetime, reason: str
) -> None:
    states = (
        change.from_tier.value if change.from_tier else "",
        change.to_tier.value if change.to_tier else "",
    )
    note = (("note", "recorded for licensing; the operator's country file is unchanged"),)
    record_events(conn, [event(f"country:{change.country.upper()}", app_service.COUNTRY_TIER_LOWERED,
                                  actor, states, reason, at, 1, note)])  # fmt: skip


def _lower_partner(
    conn: Connection, change: LowerPartnerTier, actor: Actor, at: datetime, reason: str
) -> str:
    partner = partners.require_partner(conn, change.partner)
    partners.set_standing(conn, actor.id, partner, reason, trust_tier=int(change.to_tier))
    states = (str(int(change.from_tier)), str(int(change.to_tier)))
    record_events(conn, [event(f"partner:{partner.name}", LOWER_PARTNER, actor, states, reason, at, 1)])
    return partner.name


def _deny_parties(
    node: Node,
    conn: Connection,
    actor: Actor,
    report: MisuseReport,
    parties: tuple[str, ...],
    at: datetime,
    reason: str,
) -> Update | None:
    """Record each denial and load a new version of the national denied-parties list holding everyone ever
    denied: loading it re-screens every partner in this transaction."""
    if not parties:
        return None
    record_events(conn, [event(f"party:{p}", DENY_PARTY, actor, ("", "denied"), reason, at, 1,
                                  (("misuse_report", report.id),)) for p in parties])  # fmt: skip
    everyone = denied_parties(conn)
    version = str(len(store.events(conn, "party")))
    text = _denied_csv(everyone, report, at.date())
    why = f"misuse report {report.id}: end user denied"
    return watchlists.update(
        node, conn, actor.id, text, f"{DENIED_PARTIES_LIST}.csv", why, DENIED_PARTIES_LIST, version, at.date()
    )


def _denied_csv(parties: list[str], report: MisuseReport, today: date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for number, party in enumerate(parties, 1):
        citation = f"denied after misuse report {report.id}"
        authority = "National export licensing authority"
        listed = today.isoformat()
        writer.writerow(
            (f"denied-{number}", "LegalEntity", party, "", "", "", listed, "", authority, citation)
        )
    return out.getvalue()
