"""Licence applications (reference/export_control.md 2.3, issue 5 "Two licences"): a marketing licence
application (item, target countries) or an export licence application (item, destination, end user, end use,
signed end-user declaration, marketing licence reference), running

    DRAFT -> SCREENING -> CLASSIFICATION -> REVIEW -> APPROVED | APPROVED_WITH_CONDITIONS | DENIED
    (WITHDRAWN from any state before a decision)

The rules, in words a vendor and an officer read:
- The vendor drafts and submits. An export application without a signed end-user declaration, or (for a
  supervised item) without a marketing licence reference, is refused at submission: nothing changes.
- Screening records the recommendation (`recommend.recommend`). A hard denial (DENY) denies the application at
  once: it is not a matter of judgement, and the denial is recorded with its reasons. A potential match on a
  list parks the application in SCREENING until the match is resolved and it is screened again.
- An officer confirms the item's classification; the application then waits for review. Re-screening can
  happen at any open state (a list update, a country downgrade); a changed recommendation voids approvals
  already given, because they were given on other facts.
- A person decides. An approver is an officer independent of the vendor, never the applicant, and never the
  same officer twice. OFFENSIVE items need two distinct approvers (LicensingConfig.offensive_approvers); a
  presumption of denial is overridden only with a senior officer among the approvers; a hard denial is never
  approved. Any officer may deny. A decided application stays decided: deciding it again is refused, so two
  concurrent decisions cannot both win once the service re-reads the application in its transaction."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing.catalog import Classification, GesherTier
from gesher.licensing.conditions import Condition, LicenceKind, merged
from gesher.licensing.config import DEFAULT_CONFIG, LicensingConfig
from gesher.licensing.history import (
    Actor,
    Event,
    Role,
    event,
    refuse,
    require_independent,
    require_officer,
    require_reason,
)
from gesher.licensing.recommend import Recommendation, Verdict


class ApplicationState(StrEnum):
    DRAFT = "draft"
    SCREENING = "screening"
    CLASSIFICATION = "classification"
    REVIEW = "review"
    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved-with-conditions"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"


OPEN: Final = frozenset(
    {ApplicationState.SCREENING, ApplicationState.CLASSIFICATION, ApplicationState.REVIEW}
)
DECIDED: Final = frozenset(
    {ApplicationState.APPROVED, ApplicationState.APPROVED_WITH_CONDITIONS, ApplicationState.DENIED}
)
GRANTED: Final = frozenset({ApplicationState.APPROVED, ApplicationState.APPROVED_WITH_CONDITIONS})
# screening outcomes that park an application in SCREENING until an officer resolves the match (2.3)
PARKING_CODES: Final = frozenset({"SCREENING_REVIEW"})


@dataclass(frozen=True)
class Approval:
    officer: str
    role: Role
    reason: str
    at: datetime
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Application:
    """One application. `countries` are the target countries (marketing) or the one destination (export);
    `version` counts transitions (a store can compare-and-set on it)."""

    id: str
    kind: LicenceKind
    vendor: str
    applicant: str
    item: str
    tier: GesherTier
    countries: tuple[str, ...]
    end_user: str = ""
    end_use: str = ""
    intermediaries: tuple[str, ...] = ()
    declaration_signed: bool = False
    marketing_licence: str | None = None
    state: ApplicationState = ApplicationState.DRAFT
    recommendation: Recommendation | None = None
    classification: Classification | None = None
    approvals: tuple[Approval, ...] = ()
    decided_by: tuple[str, ...] = ()
    decision_reason: str = ""
    version: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", LicenceKind(self.kind))
        object.__setattr__(self, "tier", GesherTier(self.tier))
        object.__setattr__(self, "countries", tuple(c.strip().upper() for c in self.countries))
        _check_shape(self)

    @property
    def destination(self) -> str:
        return self.countries[0]

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The conditions the approvers attached (a licence adds the mandatory ones of its tier)."""
        return merged(*(a.conditions for a in self.approvals))


def _check_shape(app: Application) -> None:
    if not (app.id.strip() and app.vendor.strip() and app.applicant.strip() and app.item.strip()):
        raise InvalidRequest("an application needs an id, a vendor, an applicant and an item")
    if not app.countries or any(not c for c in app.countries):
        raise InvalidRequest("an application names its countries")
    if app.kind == LicenceKind.EXPORT:
        if len(app.countries) != 1:
            raise InvalidRequest("an export application has exactly one destination country")
        if not (app.end_user.strip() and app.end_use.strip()):
            raise InvalidRequest("an export application names its end user and states its end use")


def draft(application: Application, actor: Actor, at: datetime) -> tuple[Application, Event]:
    """A vendor drafts an application for its own item (the applicant is the vendor's person filing it)."""
    if application.state != ApplicationState.DRAFT or application.version != 0:
        raise refuse("NOT_NEW", f"{application.id} is not a new draft")
    _require_vendor(application, actor)
    if application.applicant != actor.id:
        text = f"{actor.id} files it, but the application names {application.applicant}"
        raise refuse("APPLICANT_MISMATCH", text)
    new = dataclasses.replace(application, version=1)
    return new, _event(new, "draft", actor, ("", new.state), f"{new.kind.value} application drafted", at)


def submit(
    app: Application, actor: Actor, at: datetime, config: LicensingConfig = DEFAULT_CONFIG
) -> tuple[Application, Event]:
    """The vendor submits a draft for screening. An export application needs the signed end-user declaration
    and, for a supervised item, a marketing licence reference: without them it is refused, nothing changes."""
    _require_vendor(app, actor)
    _require_state(app, frozenset({ApplicationState.DRAFT}), "submit")
    if app.kind == LicenceKind.EXPORT and not app.declaration_signed:
        raise refuse("MISSING_DECLARATION", f"{app.id}: the end user's signed declaration is required")
    if app.kind == LicenceKind.EXPORT and config.supervised(app.tier) and not app.marketing_licence:
        text = f"{app.id}: a {app.tier.value} item needs a marketing licence before an export licence"
        raise refuse("NO_MARKETING_LICENCE", text)
    return _moved(app, "submit", actor, at, "submitted for screening", state=ApplicationState.SCREENING)


def screen(
    app: Application, recommendation: Recommendation, actor: Actor, at: datetime, why: str = ""
) -> tuple[Application, Event]:
    """Screening (the system or an officer) records the recommendation on an open application. A hard denial
    denies it at once. In SCREENING, a potential match parks it there; otherwise it moves on to
    CLASSIFICATION. Later, a changed recommendation voids the approvals already given. `why`: what set off
    a screening again (a watchlist update), kept in the history's reason."""
    _require_screener(actor)
    _require_state(app, OPEN, "be screened")
    if recommendation.verdict == Verdict.DENY:
        return _denied(app, recommendation, actor, at, why)
    state = app.state
    if app.state == ApplicationState.SCREENING and not recommendation.codes() & PARKING_CODES:
        state = ApplicationState.CLASSIFICATION
    changed = app.recommendation != recommendation
    text = f"recommendation {recommendation.verdict.value}" + (f" ({why})" if why.strip() else "")
    if changed and app.approvals:
        text += "; the approvals given on the earlier recommendation are void"
    approvals = () if changed else app.approvals
    return _moved(
        app,
        _screen_action(app, state),
        actor,
        at,
        text,
        state=state,
        recommendation=recommendation,
        approvals=approvals,
    )


def _screen_action(app: Application, state: ApplicationState) -> str:
    if app.state != ApplicationState.SCREENING:
        return "rescreen"
    return "screen" if state != app.state else "screening-parked"


def confirm_classification(
    app: Application,
    classification: Classification,
    recommendation: Recommendation,
    actor: Actor,
    at: datetime,
) -> tuple[Application, Event]:
    """An officer confirms the item's classification for this application; its tier becomes the application's
    and the recommendation is the one made with it. A hard denial denies it; otherwise it awaits review."""
    require_officer(actor, "confirming a classification")
    _require_state(app, frozenset({ApplicationState.CLASSIFICATION}), "have its classification confirmed")
    app = dataclasses.replace(app, classification=classification, tier=classification.tier)
    if recommendation.verdict == Verdict.DENY:
        return _denied(app, recommendation, actor, at)
    text = f"classified {classification.tier.value}; recommendation {recommendation.verdict.value}"
    return _moved(
        app, "classify", actor, at, text, state=ApplicationState.REVIEW, recommendation=recommendation
    )


def approve(
    app: Application,
    actor: Actor,
    at: datetime,
    reason: str,
    conditions: tuple[Condition, ...] = (),
    config: LicensingConfig = DEFAULT_CONFIG,
) -> tuple[Application, Event]:
    """An independent officer approves an application under review. The last approval needed decides it:
    APPROVED_WITH_CONDITIONS if any approver attached conditions, APPROVED otherwise."""
    _require_state(app, frozenset({ApplicationState.REVIEW}), "be approved")
    _require_approver(app, actor)
    require_reason(reason, "an approval")
    approvals = (*app.approvals, Approval(actor.id, actor.role, reason, at, conditions))
    needed = config.approvers_required(app.tier)
    _require_approvable(app, approvals, needed)
    if len(approvals) < needed:
        text = f"approval {len(approvals)} of {needed}: {reason}"
        return _moved(app, "approve", actor, at, text, approvals=approvals)
    conditional = any(a.conditions for a in approvals)
    state = ApplicationState.APPROVED_WITH_CONDITIONS if conditional else ApplicationState.APPROVED
    decided = tuple(a.officer for a in approvals)
    return _moved(
        app,
        "approve",
        actor,
        at,
        reason,
        state=state,
        approvals=approvals,
        decided_by=decided,
        decision_reason=reason,
    )


def deny(app: Application, actor: Actor, at: datetime, reason: str) -> tuple[Application, Event]:
    """Any officer may deny an open application, with a reason."""
    require_officer(actor, "denying an application")
    _require_state(app, OPEN, "be denied")
    denied = ApplicationState.DENIED
    return _moved(
        app, "deny", actor, at, reason, state=denied, decided_by=(actor.id,), decision_reason=reason
    )


def withdraw(app: Application, actor: Actor, at: datetime, reason: str) -> tuple[Application, Event]:
    """The vendor (or an officer) withdraws an application at any state before a decision."""
    if not actor.is_officer:
        _require_vendor(app, actor)
    _require_state(app, OPEN | {ApplicationState.DRAFT}, "be withdrawn")
    return _moved(app, "withdraw", actor, at, reason, state=ApplicationState.WITHDRAWN)


def is_open(app: Application) -> bool:
    """Submitted and not yet decided or withdrawn (a misuse cascade refuses open applications)."""
    return app.state in OPEN


# --- checks ------------------------------------------------------------------------------------------------


def _require_state(app: Application, allowed: frozenset[ApplicationState], what: str) -> None:
    if app.state in allowed:
        return
    if app.state in DECIDED:
        raise refuse("ALREADY_DECIDED", f"{app.id} was already decided ({app.state.value}): it cannot {what}")
    raise refuse("WRONG_STATE", f"{app.id} is {app.state.value}: it cannot {what}")


def _require_vendor(app: Application, actor: Actor) -> None:
    if actor.role != Role.VENDOR or actor.organisation != app.vendor:
        raise refuse("NOT_YOUR_APPLICATION", f"only {app.vendor} files and submits {app.id}")


def _require_screener(actor: Actor) -> None:
    if actor.role != Role.SYSTEM and not actor.is_officer:
        raise refuse("SCREENER_REQUIRED", "screening is done by the system or an officer, not a vendor")


def _require_approver(app: Application, actor: Actor) -> None:
    """An approver is an officer independent of the vendor, not the applicant, and approves only once."""
    require_officer(actor, "approving an application")
    if actor.id == app.applicant:
        raise refuse("SELF_APPROVAL", f"{actor.id} filed {app.id} and cannot approve it")
    require_independent(actor, app.vendor, "approving an application")
    if any(a.officer == actor.id for a in app.approvals):
        text = f"{actor.id} already approved {app.id}: the next approver must be someone else"
        raise refuse("SAME_APPROVER", text)


def _require_approvable(app: Application, approvals: tuple[Approval, ...], needed: int) -> None:
    """A hard denial is never approved; a presumption of denial only with a senior officer among the
    approvers; an application never screened is not approved."""
    if app.recommendation is None:
        raise refuse("NOT_SCREENED", f"{app.id} has no recommendation: it was never screened")
    if app.recommendation.verdict == Verdict.DENY:
        raise refuse("HARD_DENIAL", f"{app.id} meets a hard-denial rule: no one can approve it")
    if app.recommendation.codes() & PARKING_CODES:
        raise refuse(
            "UNRESOLVED_MATCH", f"{app.id}: a potential list match must be resolved and re-screened first"
        )
    seniors = any(a.role == Role.SENIOR_OFFICER for a in approvals)
    if app.recommendation.verdict == Verdict.PRESUME_DENIAL and len(approvals) >= needed and not seniors:
        text = f"{app.id}: denial is presumed; a senior officer must be among the approvers"
        raise refuse("SENIOR_REQUIRED", text)


# --- helpers -----------------------------------------------------------------------------------------------


def _denied(
    app: Application, recommendation: Recommendation, actor: Actor, at: datetime, why: str = ""
) -> tuple[Application, Event]:
    denials = "; ".join(r.text for r in recommendation.reasons if r.verdict == Verdict.DENY)
    return _moved(
        app,
        "deny",
        actor,
        at,
        f"hard denial: {denials}" + (f" ({why})" if why.strip() else ""),
        state=ApplicationState.DENIED,
        recommendation=recommendation,
        approvals=(),
        decided_by=(actor.id,),
        decision_reason=denials,
    )


def _moved(
    app: Application, action: str, actor: Actor, at: datetime, reason: str, **changes: object
) -> tuple[Application, Event]:
    new = dataclasses.replace(app, version=app.version + 1, **changes)  # type: ignore[arg-type]
    return new, _event(new, action, actor, (app.state, new.state), reason, at)


def _event(
    app: Application, action: str, actor: Actor, states: tuple[str, str], reason: str, at: datetime
) -> Event:
    details = tuple(("approver", a.officer) for a in app.approvals) if action == "approve" else ()
    return event(f"application:{app.id}", action, actor, states, reason, at, app.version, details)
