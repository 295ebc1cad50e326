"""What each role reads of a licensing record (issue 5 "Surfaces": officers see all; a vendor sees its own
records only, and never an officer-only note). Which records a vendor may reach at all is `common.require`'s
business (another vendor's are absent); this decides which parts of its own records it reads.

Default deny: a vendor reads the fields listed here and nothing else, so a field added to the core later is
officers' until someone lists it. Officers' only, by design:
- an application's recommendation (the screening outcomes, list matches, country risk signals and misuse
  history it rests on: the officers' working assessment), its confirmed classification record, the
  approvals given so far (who, why, which conditions) and who decided; a vendor reads the state and, when
  refused, the grounds of the refusal (which it is told), and the licence carries the conditions;
- officers' names: a gate review's reviewer and a change's confirming officer appear as "officer";
- officer-only notes, and the reasons and details of the history entries listed as officers' (screening,
  classification, approvals)."""

from __future__ import annotations

from typing import Any, Final

from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.gates import GATED, Project, gate_passed, pending_gate
from gesher.licensing.history import Actor, Role
from gesher.licensing.licences import Licence
from gesher.store.licensing import StoredItem
from gesher.store.licensing_codec import encode

OFFICER_SHOWN_AS = "officer"


def _and_notes(*actions: str) -> frozenset[str]:
    return frozenset((*actions, "note"))


# The actions whose reason a vendor reads, per kind of subject (every other reason is officers').
VENDOR_REASONS: Final[dict[str, frozenset[str]]] = {
    "item": _and_notes("classify"),
    "project": _and_notes(
        "register", "review-gate", "confirm-change", "advance", "regress", "suspend", "resume", "retire"
    ),
    "application": _and_notes("draft", "submit", "deny", "withdraw"),
    "licence": _and_notes(
        "issue", "suspend", "reinstate", "revoke", "expire", "report-received", "report-missed"
    ),
}
# The kinds of history details a vendor reads (gate findings and changes, its item's classification, its
# reports, a note's visibility); never the approvers.
VENDOR_DETAILS: Final = frozenset(
    {"gate", "finding", "required_change", "condition", "vendor", "control", "carve_out", "rationale",
     "received_on", "due_on", "period_start", "visibility"}
)  # fmt: skip
APPLICATION_FIELDS: Final = frozenset(
    {"id", "kind", "vendor", "applicant", "item", "tier", "countries", "end_user", "end_use",
     "intermediaries", "declaration_signed", "marketing_licence", "state", "version"}
)  # fmt: skip
LICENCE_FIELDS: Final = frozenset(
    {"id", "kind", "application", "vendor", "item", "tier", "countries", "valid_from", "valid_until",
     "conditions", "end_user", "marketing_licence", "state", "ended_on", "version"}
)  # fmt: skip
PROJECT_FIELDS: Final = frozenset({"id", "item", "vendor", "tier", "stage", "suspended", "version"})
REVIEW_FIELDS: Final = frozenset({"gate", "findings", "conditions"})
CHANGE_FIELDS: Final = frozenset({"id", "text"})


def vendor_reads_reason(subject_kind: str, action: str) -> bool:
    return action in VENDOR_REASONS.get(subject_kind, frozenset())


def _vendor(actor: Actor) -> bool:
    return actor.role == Role.VENDOR


def _only(data: Any, fields: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k in fields}


def application_view(app: Application, actor: Actor) -> dict[str, Any]:
    """An application: whole for an officer; for its vendor, the fields above and a refusal's grounds."""
    data: dict[str, Any] = encode(app)  # type: ignore[assignment]
    data["state"] = app.state.value
    if not _vendor(actor):
        return data
    view = _only(data, APPLICATION_FIELDS)
    if app.state == ApplicationState.DENIED:
        view["decision_reason"] = app.decision_reason
    return view


def licence_view(licence: Licence, actor: Actor) -> dict[str, Any]:
    """A licence: its terms are the vendor's to read (conditions included)."""
    data: dict[str, Any] = encode(licence)  # type: ignore[assignment]
    return _only(data, LICENCE_FIELDS) if _vendor(actor) else data


def project_view(project: Project, actor: Actor) -> dict[str, Any]:
    """A project with its gates: passed, under review, and the required changes still open. A vendor reads
    every review's findings, required changes (confirmed or not) and conditions, not the officers' names."""
    data: dict[str, Any] = encode(project)  # type: ignore[assignment]
    if _vendor(actor):
        data = {**_only(data, PROJECT_FIELDS), "reviews": [_vendor_review(r) for r in data["reviews"]]}
    pending = pending_gate(project)
    return {
        **data,
        "state": project.state,
        "pending_gate": pending.value if pending else None,
        "gates_passed": [g.value for g in GATED if gate_passed(project, g)],
        "open_changes": [{"id": c.id, "text": c.text, "gate": r.gate.value}
                         for r in project.reviews for c in r.open_changes],
    }  # fmt: skip


def _vendor_review(review: dict[str, Any]) -> dict[str, Any]:
    changes = [
        {**_only(c, CHANGE_FIELDS), "confirmed": c["confirmed_by"] is not None}
        for c in review["required_changes"]
    ]
    return {**_only(review, REVIEW_FIELDS), "reviewer": OFFICER_SHOWN_AS, "required_changes": changes}


def item_view(stored: StoredItem, actor: Actor) -> dict[str, Any]:
    """A catalogue item: the declaration and the classification with every reason, for its vendor too (who
    registered it is an officer's name when an officer did)."""
    view = {
        "name": stored.name, "vendor": stored.vendor, "tier": stored.classification.tier.value,
        "controlled": stored.classification.controlled, "capability": encode(stored.capability),
        "classification": encode(stored.classification),
    }  # fmt: skip
    return view if _vendor(actor) else {**view, "registered_by": stored.actor}
