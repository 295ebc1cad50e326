"""Development supervision (reference/export_control.md 2.4, issue 5 "Development supervision"): a project
per supervised item, registered at the concept stage, moving through stage gates without skipping.

The model, in words a vendor reads:
- A project is registered in CONCEPT. The gate of a stage is what must hold for the item to be in that stage
  (GATE_CHECKS, from the reference's table): the CONCEPT gate is reviewed first, then each stage's gate before
  the project enters it. The project moves one stage forward only when every gate up to the next stage has
  passed, so no stage is skipped and nothing is marketed or exported without its gates.
- A gate review is an officer's approval subject to its required changes: the gate passes once it has a
  review and every required change in its reviews is confirmed. Confirmation is an officer's act from
  outside the vendor's organisation: the vendor makes the change, someone independent of it checks it,
  because self-certification is exactly what supervision from the development stage is meant to replace.
- An officer can regress a project to an earlier stage on findings: the gates after that stage reopen and
  need new reviews. A project can be SUSPENDED at any stage (it then cannot advance, market or export) and
  resumed where it was; it can be RETIRED at any stage, for good.

Every function is pure: it returns the new Project and the Event to record, or raises TransitionRefused and
changes nothing."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from gesher.errors import InvalidRequest
from gesher.licensing.catalog import GesherTier
from gesher.licensing.config import DEFAULT_CONFIG, LicensingConfig
from gesher.licensing.history import Actor, Event, Role, event, refuse, require_independent, require_officer


class Stage(StrEnum):
    CONCEPT = "concept"
    DEVELOPMENT = "development"
    TESTING = "testing"
    MARKETING = "marketing"
    EXPORT = "export"
    SUSTAINMENT = "sustainment"
    RETIRED = "retired"

    @property
    def rank(self) -> int:
        return list(Stage).index(self)


GATED: Final = tuple(s for s in Stage if s != Stage.RETIRED)
SUSPENDED: Final = "suspended"  # the state a suspended project shows in the history

# reference 2.4, "key checks" per gate: what the review of each gate looks at.
GATE_CHECKS: Final = {
    Stage.CONCEPT: (
        "registration of exporter and product",
        "initial classification (tier and control references)",
        "intended customer class (government only?)",
        "national-security review: does it rely on domestic vulnerabilities or classified technology?",
    ),
    Stage.DEVELOPMENT: (
        "personnel vetting",
        "secure-development and leak controls",
        "safeguards by design committed: tamper-evident audit log, kill-switch, geofence, target caps",
    ),
    Stage.TESTING: (
        "testing only on owned or consenting infrastructure, no live targets",
        "safeguards demonstrated",
        "red-team / abuse-case review",
    ),
    Stage.MARKETING: (
        "marketing licence (DECL 14) or documented exemption",
        "allowed countries = tier A and the licence's scope",
        "marketing-material review (EU red flag: advertising covert capabilities)",
    ),
    Stage.EXPORT: ("per-transaction export licence", "signed end-user declaration", "screening pass"),
    Stage.SUSTAINMENT: (
        "update and upgrade deliveries checked against the 4.D.4 update note",
        "periodic reporting",
    ),
}


@dataclass(frozen=True)
class RequiredChange:
    id: str
    text: str
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None


@dataclass(frozen=True)
class GateReview:
    """An officer's review of one gate: findings, required changes (all must be confirmed before the gate
    passes) and conditions that stay attached to the project."""

    gate: Stage
    reviewer: str
    findings: tuple[str, ...] = ()
    required_changes: tuple[RequiredChange, ...] = ()
    conditions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "gate", Stage(self.gate))
        if self.gate == Stage.RETIRED:
            raise InvalidRequest("retirement has no gate")

    @property
    def open_changes(self) -> tuple[RequiredChange, ...]:
        return tuple(c for c in self.required_changes if c.confirmed_by is None)


@dataclass(frozen=True)
class Project:
    """A supervised item's development. `reviews` are the reviews in force (a regression voids those of the
    gates it reopens; the history keeps them); `version` counts transitions."""

    id: str
    item: str
    vendor: str
    tier: GesherTier
    stage: Stage = Stage.CONCEPT
    suspended: bool = False
    reviews: tuple[GateReview, ...] = ()
    version: int = 0

    @property
    def state(self) -> str:
        return SUSPENDED if self.suspended else self.stage.value

    @property
    def conditions(self) -> tuple[str, ...]:
        return tuple(c for r in self.reviews for c in r.conditions)


def needs_project(tier: GesherTier, config: LicensingConfig = DEFAULT_CONFIG) -> bool:
    """OFFENSIVE items always need a supervised project; DUAL_USE items when the operator says so."""
    return config.supervised(tier)


def gate_passed(project: Project, gate: Stage) -> bool:
    """A gate passes once it has at least one review and every required change in its reviews is confirmed."""
    reviews = [r for r in project.reviews if r.gate == gate]
    return bool(reviews) and not any(r.open_changes for r in reviews)


def gates_passed_through(project: Project, gate: Stage) -> bool:
    """Every gate from CONCEPT up to and including `gate` has passed."""
    return all(gate_passed(project, g) for g in GATED if g.rank <= gate.rank)


def pending_gate(project: Project) -> Stage | None:
    """The gate under review now: the first one not passed, up to the next stage's (None when retired, or
    when every gate up to the next stage has passed and the project can advance)."""
    if project.stage == Stage.RETIRED:
        return None
    limit = _next(project.stage) or project.stage
    return next((g for g in GATED if g.rank <= limit.rank and not gate_passed(project, g)), None)


def may_market(project: Project) -> bool:
    """An item may be marketed only while its project is in MARKETING or later, with every gate through
    MARKETING passed (the MARKETING gate includes the marketing licence), and not suspended or retired."""
    return _cleared(project, Stage.MARKETING)


def may_export(project: Project) -> bool:
    """An item may be exported only while its project is in EXPORT or SUSTAINMENT, with every gate through
    EXPORT passed, and not suspended or retired."""
    return _cleared(project, Stage.EXPORT)


def may_apply(project: Project, gate: Stage) -> bool:
    """A licence application that opens `gate` may be filed once the project stands just before it: a
    marketing licence from TESTING on (gates through TESTING passed), an export licence from MARKETING on."""
    if gate not in (Stage.MARKETING, Stage.EXPORT):
        raise InvalidRequest(f"no licence opens the {gate.value} gate")
    return _cleared(project, GATED[gate.rank - 1])


# --- transitions -------------------------------------------------------------------------------------------


def register(
    project_id: str,
    item: str,
    vendor: str,
    tier: GesherTier,
    actor: Actor,
    at: datetime,
    reason: str = "registered at the concept stage",
) -> tuple[Project, Event]:
    """A vendor (or an officer for it) registers a project at the concept stage. Only DUAL_USE and
    OFFENSIVE items are supervised; a DUAL_USE item may be registered voluntarily."""
    tier = GesherTier(tier)
    if tier.rank < GesherTier.DUAL_USE.rank:
        raise refuse(
            "NOT_SUPERVISED", f"{item} is {tier.value}: only dual-use and offensive items are supervised"
        )
    project = Project(project_id, item, vendor, tier)
    _require_party(project, actor)
    new = dataclasses.replace(project, version=1)
    return new, _event(new, "register", actor, ("", new.state), reason, at)


def review_gate(project: Project, review: GateReview, actor: Actor, at: datetime) -> tuple[Project, Event]:
    """An independent officer reviews the gate under review (see `pending_gate`). Its required changes
    arrive unconfirmed; their ids are unique within the project's reviews in force."""
    require_officer(actor, "a gate review")
    require_independent(actor, project.vendor, "a gate review")
    pending = pending_gate(project)
    if review.gate != pending:
        raise refuse("NOT_PENDING_GATE", _not_pending(project, review.gate, pending))
    if review.reviewer != actor.id:
        raise refuse("REVIEWER_MISMATCH", f"the review names {review.reviewer} but {actor.id} records it")
    _check_new_changes(project, review)
    new = _bump(project, reviews=(*project.reviews, review))
    details = (
        ("gate", review.gate.value),
        *(("finding", f) for f in review.findings),
        *(("required_change", f"{c.id}: {c.text}") for c in review.required_changes),
        *(("condition", c) for c in review.conditions),
    )
    text = f"{review.gate.value} gate reviewed: {len(review.required_changes)} required change(s)"
    return new, _event(new, "review-gate", actor, (project.state, new.state), text, at, details)


def confirm_change(
    project: Project, change_id: str, actor: Actor, at: datetime, reason: str = "change confirmed"
) -> tuple[Project, Event]:
    """An independent officer confirms that a required change was made; a vendor cannot confirm its own."""
    require_officer(actor, "confirming a required change")
    require_independent(actor, project.vendor, "confirming a required change")
    found = [(i, r) for i, r in enumerate(project.reviews) for c in r.open_changes if c.id == change_id]
    if not found:
        raise refuse("NO_OPEN_CHANGE", f"{project.id} has no unconfirmed required change {change_id!r}")
    index, review = found[0]
    changes = tuple(_confirmed(c, actor, at) if c.id == change_id else c for c in review.required_changes)
    reviews = list(project.reviews)
    reviews[index] = dataclasses.replace(review, required_changes=changes)
    new = _bump(project, reviews=tuple(reviews))
    details = (("gate", review.gate.value), ("required_change", change_id))
    return new, _event(new, "confirm-change", actor, (project.state, new.state), reason, at, details)


def advance(
    project: Project, actor: Actor, at: datetime, reason: str = "gate passed"
) -> tuple[Project, Event]:
    """The project moves to the next stage, never further, once every gate up to that stage has passed; not
    while suspended, and not past SUSTAINMENT (retiring is `retire`)."""
    _require_party(project, actor)
    _require_live(project, "advance")
    target = _next(project.stage)
    if target is None:
        raise refuse(
            "NO_NEXT_STAGE", f"{project.id} is in {project.stage.value}: there is no stage to advance to"
        )
    missing = [g.value for g in GATED if g.rank <= target.rank and not gate_passed(project, g)]
    if missing:
        raise refuse(
            "GATE_NOT_PASSED",
            f"{project.id} cannot enter {target.value}: gate(s) {', '.join(missing)} "
            "not passed (a review with every required change confirmed)",
        )
    new = _bump(project, stage=target)
    return new, _event(new, "advance", actor, (project.state, new.state), reason, at)


def regress(
    project: Project, to: Stage, findings: tuple[str, ...], actor: Actor, at: datetime, reason: str
) -> tuple[Project, Event]:
    """On findings, an officer moves the project back to an earlier stage; every gate after it reopens and
    needs a new review."""
    require_officer(actor, "regressing a project")
    to = Stage(to)
    if project.stage == Stage.RETIRED or to == Stage.RETIRED or to.rank >= project.stage.rank:
        raise refuse("NOT_EARLIER", f"{project.id} is in {project.stage.value}: cannot regress to {to.value}")
    if not findings:
        raise refuse("FINDINGS_REQUIRED", "a regression states the findings it rests on")
    new = _bump(project, stage=to, reviews=tuple(r for r in project.reviews if r.gate.rank <= to.rank))
    details = tuple(("finding", f) for f in findings)
    return new, _event(new, "regress", actor, (project.state, new.state), reason, at, details)


def suspend(project: Project, actor: Actor, at: datetime, reason: str) -> tuple[Project, Event]:
    """An officer suspends a project at any stage: it cannot advance, market or export until resumed."""
    require_officer(actor, "suspending a project")
    _require_live(project, "be suspended")
    new = _bump(project, suspended=True)
    return new, _event(new, "suspend", actor, (project.state, new.state), reason, at)


def resume(project: Project, actor: Actor, at: datetime, reason: str) -> tuple[Project, Event]:
    """An officer lifts a suspension: the project is back at the stage where it was suspended."""
    require_officer(actor, "resuming a project")
    if not project.suspended:
        raise refuse("NOT_SUSPENDED", f"{project.id} is not suspended")
    new = _bump(project, suspended=False)
    return new, _event(new, "resume", actor, (project.state, new.state), reason, at)


def retire(project: Project, actor: Actor, at: datetime, reason: str) -> tuple[Project, Event]:
    """The vendor or an officer retires a project at any stage; retirement is final."""
    _require_party(project, actor)
    if project.stage == Stage.RETIRED:
        raise refuse("RETIRED", f"{project.id} is already retired")
    new = _bump(project, stage=Stage.RETIRED, suspended=False)
    return new, _event(new, "retire", actor, (project.state, new.state), reason, at)


# --- helpers -----------------------------------------------------------------------------------------------


def _cleared(project: Project, stage: Stage) -> bool:
    live = not project.suspended and project.stage != Stage.RETIRED
    return live and project.stage.rank >= stage.rank and gates_passed_through(project, stage)


def _next(stage: Stage) -> Stage | None:
    if stage in (Stage.SUSTAINMENT, Stage.RETIRED):
        return None
    return GATED[stage.rank + 1]


def _require_party(project: Project, actor: Actor) -> None:
    """A vendor acts only on its own projects; officers act on any; the system never acts on projects."""
    if actor.role == Role.VENDOR and actor.organisation != project.vendor:
        raise refuse("NOT_YOUR_PROJECT", f"{actor.id} does not act for {project.vendor}")
    if actor.role == Role.SYSTEM:
        raise refuse("OFFICER_REQUIRED", "a project moves only by a person's act")


def _require_live(project: Project, what: str) -> None:
    if project.stage == Stage.RETIRED:
        raise refuse("RETIRED", f"{project.id} is retired: it cannot {what}")
    if project.suspended:
        raise refuse("SUSPENDED", f"{project.id} is suspended: it cannot {what}")


def _check_new_changes(project: Project, review: GateReview) -> None:
    ids = [c.id for c in review.required_changes]
    known = {c.id for r in project.reviews for c in r.required_changes}
    if len(set(ids)) != len(ids) or known & set(ids):
        raise refuse("DUPLICATE_CHANGE_ID", f"required change ids must be unique in {project.id}")
    if any(c.confirmed_by is not None for c in review.required_changes):
        raise refuse("PRECONFIRMED", "required changes arrive unconfirmed; confirming them is a separate act")


def _confirmed(change: RequiredChange, actor: Actor, at: datetime) -> RequiredChange:
    return dataclasses.replace(change, confirmed_by=actor.id, confirmed_at=at)


def _not_pending(project: Project, gate: Stage, pending: Stage | None) -> str:
    if pending is None:
        return f"{project.id} has no gate under review (advance it first, or it is retired)"
    return f"{project.id}: the gate under review is {pending.value}, not {gate.value} (no gate is skipped)"


def _bump(project: Project, **changes: object) -> Project:
    return dataclasses.replace(project, version=project.version + 1, **changes)  # type: ignore[arg-type]


def _event(
    project: Project,
    action: str,
    actor: Actor,
    states: tuple[str, str],
    reason: str,
    at: datetime,
    details: tuple[tuple[str, str], ...] = (),
) -> Event:
    return event(f"project:{project.id}", action, actor, states, reason, at, project.version, details)
