"""Misuse reports and what they set off (reference/export_control.md 2.5, issue 5 "Misuse and monitoring"):

    RECEIVED -> INVESTIGATED (substantiated | unsubstantiated | inconclusive) -> ACTIONED

- On receipt, an officer may suspend the licences concerned at once (interim: time-to-suspend after a credible
  allegation is a measure of the system). Once investigated: a substantiated finding allows any action; an
  inconclusive one only suspension; an unsubstantiated one none (the report is closed as ACTIONED with no
  action).
- Actions are typed values: suspend or revoke a licence, deny the end user, lower a country's cyber-export
  tier, lower a partner's trust tier. `cascade` computes, purely, everything an action changes at once:
  licences suspended or revoked, open applications refused, applications to screen again, parties denied,
  country and partner tier changes. It returns the new states and their events; the service stores them
  and applies the tier changes to vetting and the sharing policy in the same transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing import applications as apps
from gesher.licensing import licences as lic
from gesher.licensing.applications import Application
from gesher.licensing.catalog import GesherTier
from gesher.licensing.conditions import LicenceKind, ProhibitedTargets, TargetClass
from gesher.licensing.history import Actor, Event, Role, event, refuse, require_officer, require_reason
from gesher.licensing.licences import Licence, LicenceState
from gesher.policy.entitlement import TrustTier
from gesher.vetting.countries import ExportTier


class MisuseState(StrEnum):
    RECEIVED = "received"
    INVESTIGATED = "investigated"
    ACTIONED = "actioned"


class MisuseFinding(StrEnum):
    SUBSTANTIATED = "substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    INCONCLUSIVE = "inconclusive"


# Best first: A .. EMBARGOED; None (on no list) sits between C and EMBARGOED, as in vetting.
COUNTRY_TIER_ORDER: Final[tuple[ExportTier | None, ...]] = (
    ExportTier.A,
    ExportTier.B,
    ExportTier.C,
    None,
    ExportTier.EMBARGOED,
)


@dataclass(frozen=True)
class SuspendLicence:
    licence: str


@dataclass(frozen=True)
class RevokeLicence:
    licence: str


@dataclass(frozen=True)
class DenyEndUser:
    party: str


@dataclass(frozen=True)
class LowerCountryTier:
    """Lower a country's cyber-export tier from the tier it has (as the service read it) to a worse one."""

    country: str
    from_tier: ExportTier | None
    to_tier: ExportTier | None

    def __post_init__(self) -> None:
        order = COUNTRY_TIER_ORDER
        if order.index(self.to_tier) <= order.index(self.from_tier):
            raise InvalidRequest(
                f"{self.country}: {_tier(self.to_tier)} is not lower than {_tier(self.from_tier)}"
            )


@dataclass(frozen=True)
class LowerPartnerTier:
    """Lower a partner's trust tier (1 closest .. 4 restricted) from the tier it holds to a worse one."""

    partner: str
    from_tier: TrustTier
    to_tier: TrustTier

    def __post_init__(self) -> None:
        if TrustTier(self.to_tier) <= TrustTier(self.from_tier):
            raise InvalidRequest(f"{self.partner}: tier {self.to_tier} is not lower than {self.from_tier}")


Action = SuspendLicence | RevokeLicence | DenyEndUser | LowerCountryTier | LowerPartnerTier
ANY_ACTION: Final = (SuspendLicence, RevokeLicence, DenyEndUser, LowerCountryTier, LowerPartnerTier)
ALLOWED: Final[dict[MisuseFinding | None, tuple[type, ...]]] = {
    None: (SuspendLicence,),  # on receipt: interim suspension only
    MisuseFinding.SUBSTANTIATED: ANY_ACTION,
    MisuseFinding.INCONCLUSIVE: (SuspendLicence,),
    MisuseFinding.UNSUBSTANTIATED: (),
}


@dataclass(frozen=True)
class MisuseReport:
    """An allegation of misuse: from whom (`source`: Citizen Lab, Amnesty Tech, a partner government...),
    about which licences, country and end user, against whom."""

    id: str
    source: str
    summary: str
    licences: tuple[str, ...] = ()
    country: str = ""
    end_user: str = ""
    targets: frozenset[TargetClass] = frozenset()
    credibility: str = ""
    state: MisuseState = MisuseState.RECEIVED
    finding: MisuseFinding | None = None
    actions: tuple[Action, ...] = ()
    version: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", frozenset(TargetClass(t) for t in self.targets))
        if not (self.id.strip() and self.source.strip() and self.summary.strip()):
            raise InvalidRequest("a misuse report needs an id, a source and a summary")


@dataclass(frozen=True)
class Cascade:
    """What one or more actions change at once: the new states (with their events, in order) and the
    changes the service applies outside licensing (denied-party list, country tiers, partner tiers).
    `rescreen` lists open applications whose facts changed: screen them again. `rereview` lists live
    licences in a downgraded country that stay in force until an officer re-reviews them."""

    suspended_licences: tuple[Licence, ...] = ()
    revoked_licences: tuple[Licence, ...] = ()
    refused_applications: tuple[Application, ...] = ()
    rescreen: tuple[str, ...] = ()
    rereview: tuple[str, ...] = ()
    denied_parties: tuple[str, ...] = ()
    country_tier_changes: tuple[LowerCountryTier, ...] = ()
    partner_tier_changes: tuple[LowerPartnerTier, ...] = ()
    events: tuple[Event, ...] = field(default=())


def receive(report: MisuseReport, actor: Actor, at: datetime) -> tuple[MisuseReport, Event]:
    """An officer (or the system, ingesting a feed) records a new report."""
    if actor.role == Role.VENDOR:
        raise refuse("OFFICER_REQUIRED", "misuse reports are recorded by officers or the system")
    if report.version != 0 or report.state != MisuseState.RECEIVED:
        raise refuse("NOT_NEW", f"misuse report {report.id} was already received")
    new = dataclasses.replace(report, version=1)
    return new, _event(new, "receive", actor, ("", new.state), f"received from {report.source}", at)


def investigate(
    report: MisuseReport, finding: MisuseFinding, actor: Actor, at: datetime, reason: str
) -> tuple[MisuseReport, Event]:
    """An officer records the investigation's finding on a received report."""
    require_officer(actor, "an investigation finding")
    require_reason(reason, "an investigation finding")
    _require_state(report, MisuseState.RECEIVED, "be investigated")
    new = _bump(report, state=MisuseState.INVESTIGATED, finding=MisuseFinding(finding))
    return new, _event(new, "investigate", actor, (report.state, new.state), f"{finding}: {reason}", at)


def act(
    report: MisuseReport, actions: tuple[Action, ...], actor: Actor, at: datetime, reason: str
) -> tuple[MisuseReport, Event]:
    """An officer takes actions: on receipt, interim suspensions (the report stays RECEIVED); once
    investigated, the actions its finding allows, which close it as ACTIONED. Then `cascade_all` them."""
    require_officer(actor, "acting on a misuse report")
    if report.state == MisuseState.ACTIONED:
        raise refuse("WRONG_STATE", f"misuse report {report.id} is already actioned: open a new report")
    allowed = ALLOWED[report.finding]
    bad = [type(a).__name__ for a in actions if not isinstance(a, allowed)]
    if bad:
        finding = report.finding.value if report.finding else "no finding yet"
        raise refuse(
            "ACTION_NOT_ALLOWED", f"{', '.join(bad)} not allowed on misuse report {report.id} ({finding})"
        )
    if report.state == MisuseState.RECEIVED and not actions:
        raise refuse("NO_ACTION", "an interim action names at least one licence to suspend")
    state = MisuseState.RECEIVED if report.state == MisuseState.RECEIVED else MisuseState.ACTIONED
    new = _bump(report, state=state, actions=(*report.actions, *actions))
    name = "interim-action" if state == MisuseState.RECEIVED else "action"
    return new, _event(new, name, actor, (report.state, new.state), reason, at)


def breached_conditions(report: MisuseReport, licence: Licence) -> tuple[str, ...]:
    """The licence's target prohibitions the reported misuse would breach (a substantiated breach is grounds
    to revoke: reference 2.3 "prohibited target classes")."""
    return tuple(
        f"{licence.id}: {c.text} (reported: {', '.join(sorted(t.value for t in report.targets & c.classes))})"
        for c in licence.conditions
        if isinstance(c, ProhibitedTargets) and report.targets & c.classes
    )


# --- cascade -----------------------------------------------------------------------------------------------


def cascade(
    action: Action,
    applications: Iterable[Application],
    licences: Iterable[Licence],
    actor: Actor,
    at: datetime,
    reason: str,
) -> Cascade:
    """Everything one action changes at once, computed from the applications and licences given (the
    service passes those it read in its transaction; inputs are not changed):
    - suspend a licence: it is suspended if active; open export applications citing it (a marketing
      licence) are screened again;
    - revoke a licence: it is revoked if live; if it is a marketing licence, open export applications citing
      it are refused and live export licences issued under it are suspended for review;
    - deny an end user: open applications naming it (end user or intermediary) are refused, live licences to
      it are revoked, and it joins the denied parties (the service adds it to the national list, which cuts
      off any partner it matches);
    - lower a country's tier: live licences there that the new tier no longer allows are suspended (every
      licence if it is now embargoed, offensive ones once it leaves tier A; a marketing licence covering
      other countries too is suspended whole, since narrowing it is a new decision), the others are
      re-reviewed, and open applications to it are screened again;
    - lower a partner's tier: a change the service applies to the partner's entitlement."""
    require_officer(actor, "a misuse cascade")
    apps_ = tuple(applications)
    lics = tuple(licences)
    match action:
        case SuspendLicence(licence=lid):
            return _suspend_licence(_find(lics, lid), apps_, actor, at, reason)
        case RevokeLicence(licence=lid):
            return _revoke_licence(_find(lics, lid), apps_, lics, actor, at, reason)
        case DenyEndUser(party=party):
            return _deny_party(party, apps_, lics, actor, at, reason)
        case LowerCountryTier():
            return _lower_country(action, apps_, lics, actor, at, reason)
        case LowerPartnerTier():
            return Cascade(partner_tier_changes=(action,))
    raise InvalidRequest(f"unknown misuse action {action!r}")  # pragma: no cover - exhaustive above


def cascade_all(
    actions: tuple[Action, ...],
    applications: Iterable[Application],
    licences: Iterable[Licence],
    actor: Actor,
    at: datetime,
    reason: str,
) -> Cascade:
    """Several actions in order, each seeing what the earlier ones changed; a licence or application appears
    once, in its final state."""
    current_apps = {a.id: a for a in applications}
    current_lics = {lc.id: lc for lc in licences}
    original = dict(current_lics)
    parts = []
    for action in actions:
        part = cascade(action, current_apps.values(), current_lics.values(), actor, at, reason)
        current_apps.update((a.id, a) for a in part.refused_applications)
        current_lics.update((lc.id, lc) for lc in (*part.suspended_licences, *part.revoked_licences))
        parts.append(part)
    changed = [lc for lid, lc in current_lics.items() if lc != original[lid]]
    refused = {a.id: a for p in parts for a in p.refused_applications}
    return Cascade(
        suspended_licences=tuple(lc for lc in changed if lc.state == LicenceState.SUSPENDED),
        revoked_licences=tuple(lc for lc in changed if lc.state == LicenceState.REVOKED),
        refused_applications=tuple(refused.values()),
        rescreen=_unique(x for p in parts for x in p.rescreen if x not in refused),
        rereview=_unique(x for p in parts for x in p.rereview),
        denied_parties=_unique(x for p in parts for x in p.denied_parties),
        country_tier_changes=tuple(x for p in parts for x in p.country_tier_changes),
        partner_tier_changes=tuple(x for p in parts for x in p.partner_tier_changes),
        events=tuple(e for p in parts for e in p.events),
    )


def _suspend_licence(
    licence: Licence, applications: tuple[Application, ...], actor: Actor, at: datetime, reason: str
) -> Cascade:
    if licence.state != LicenceState.ACTIVE:
        return Cascade()
    new, ev = lic.suspend(licence, actor, at, reason)
    return Cascade(suspended_licences=(new,), rescreen=_citing(licence, applications), events=(ev,))


def _revoke_licence(
    licence: Licence,
    applications: tuple[Application, ...],
    licences: tuple[Licence, ...],
    actor: Actor,
    at: datetime,
    reason: str,
) -> Cascade:
    if licence.state not in lic.LIVE:
        return Cascade()
    revoked, ev = lic.revoke(licence, actor, at, reason)
    why = f"marketing licence {licence.id} revoked: {reason}"
    refused = [apps.deny(a, actor, at, why) for a in applications if a.id in _citing(licence, applications)]
    under = [x for x in licences if x.marketing_licence == licence.id and x.state == LicenceState.ACTIVE]
    suspended = [lic.suspend(x, actor, at, why) for x in under]
    return Cascade(
        suspended_licences=tuple(s for s, _ in suspended),
        revoked_licences=(revoked,),
        refused_applications=tuple(a for a, _ in refused),
        events=(ev, *(e for _, e in refused), *(e for _, e in suspended)),
    )


def _deny_party(
    party: str,
    applications: tuple[Application, ...],
    licences: tuple[Licence, ...],
    actor: Actor,
    at: datetime,
    reason: str,
) -> Cascade:
    why = f"end user {party} denied: {reason}"
    named = [a for a in applications if apps.is_open(a) and _names(a, party)]
    refused = [apps.deny(a, actor, at, why) for a in named]
    live = [x for x in licences if x.state in lic.LIVE and _same(x.end_user, party)]
    revoked = [lic.revoke(x, actor, at, why) for x in live]
    return Cascade(
        revoked_licences=tuple(r for r, _ in revoked),
        refused_applications=tuple(a for a, _ in refused),
        denied_parties=(party,),
        events=(*(e for _, e in refused), *(e for _, e in revoked)),
    )


def _lower_country(
    change: LowerCountryTier,
    applications: tuple[Application, ...],
    licences: tuple[Licence, ...],
    actor: Actor,
    at: datetime,
    reason: str,
) -> Cascade:
    country = change.country.strip().upper()
    why = f"{country} lowered to {_tier(change.to_tier)}: {reason}"
    there = [x for x in licences if x.state in lic.LIVE and country in x.countries]
    barred = [x for x in there if x.state == LicenceState.ACTIVE and not allowed_in(x.tier, change.to_tier)]
    suspended = [lic.suspend(x, actor, at, why) for x in barred]
    return Cascade(
        suspended_licences=tuple(s for s, _ in suspended),
        rescreen=tuple(a.id for a in applications if apps.is_open(a) and country in a.countries),
        rereview=tuple(x.id for x in there if x not in barred),
        country_tier_changes=(change,),
        events=tuple(e for _, e in suspended),
    )


def allowed_in(tier: GesherTier, country_tier: ExportTier | None) -> bool:
    """Whether a licence of `tier` may stay in force in a country of `country_tier` pending re-review:
    nothing stays in an embargoed country; offensive items only in tier A."""
    if country_tier == ExportTier.EMBARGOED:
        return False
    return tier != GesherTier.OFFENSIVE or country_tier == ExportTier.A


# --- helpers -----------------------------------------------------------------------------------------------


def _find(licences: tuple[Licence, ...], licence_id: str) -> Licence:
    found = next((x for x in licences if x.id == licence_id), None)
    if found is None:
        raise InvalidRequest(f"licence {licence_id} is not among the licences given to the cascade")
    return found


def _citing(licence: Licence, applications: tuple[Application, ...]) -> tuple[str, ...]:
    if licence.kind != LicenceKind.MARKETING:
        return ()
    return tuple(a.id for a in applications if apps.is_open(a) and a.marketing_licence == licence.id)


def _names(app: Application, party: str) -> bool:
    return _same(app.end_user, party) or any(_same(i, party) for i in app.intermediaries)


def _same(a: str, b: str) -> bool:
    return bool(a.strip()) and a.strip().casefold() == b.strip().casefold()


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _tier(tier: ExportTier | None) -> str:
    return f"tier {tier.value}" if tier else "no list"


def _require_state(report: MisuseReport, state: MisuseState, what: str) -> None:
    if report.state != state:
        raise refuse("WRONG_STATE", f"misuse report {report.id} is {report.state.value}: it cannot {what}")


def _bump(report: MisuseReport, **changes: object) -> MisuseReport:
    return dataclasses.replace(report, version=report.version + 1, **changes)  # type: ignore[arg-type]


def _event(
    report: MisuseReport, action: str, actor: Actor, states: tuple[str, str], reason: str, at: datetime
) -> Event:
    details = tuple(("action", repr(a)) for a in report.actions) if action.endswith("action") else ()
    return event(f"misuse:{report.id}", action, actor, states, reason, at, report.version, details)
