"""Shared test values for the licensing core: actors, a clock, realistic items and a clean export case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from gesher.licensing import applications as apps
from gesher.licensing import gates
from gesher.licensing.applications import Application
from gesher.licensing.catalog import (
    Capability,
    Category,
    Classification,
    IntrusionPurpose,
    ItemForm,
    classify,
)
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.history import Actor, Role, TransitionRefused
from gesher.licensing.recommend import (
    CountryFacts,
    MarketingLicenceFacts,
    PartyFacts,
    Recommendation,
    RecommendationInputs,
    recommend,
)
from gesher.vetting.countries import ExportTier
from gesher.vetting.model import ScreeningOutcome

AT = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
TODAY = date(2025, 6, 1)
VENDOR_ORG = "Kestrel Cyber Ltd"
VENDOR = Actor("dana@kestrel", Role.VENDOR, VENDOR_ORG)
OTHER_VENDOR = Actor("eli@osprey", Role.VENDOR, "Osprey Systems")
OFFICER = Actor("officer-1", Role.OFFICER, "DECA")
OFFICER_2 = Actor("officer-2", Role.OFFICER, "DECA")
SENIOR = Actor("senior-1", Role.SENIOR_OFFICER, "DECA")
INSIDER = Actor("kestrel-compliance", Role.OFFICER, VENDOR_ORG)  # an officer of the vendor itself
SYSTEM = Actor("system", Role.SYSTEM)

INTRUSION = {
    "avoids_monitoring": True,
    "defeats_countermeasures": True,
    "extracts_or_modifies_data": True,
    "modifies_execution_path": True,
}

EXPLOIT_PLATFORM = Capability(
    "Harrier delivery platform",
    VENDOR_ORG,
    "zero-click exploit delivery and implant command-and-control, as an appliance and software",
    Category.INTRUSION_PLATFORM,
    forms=frozenset({ItemForm.SYSTEM, ItemForm.SOFTWARE}),
    purposes=frozenset({IntrusionPurpose.DELIVER, IntrusionPurpose.COMMUNICATE}),
    **INTRUSION,
)
EDR = Capability("Sentinel EDR", "Osprey Systems", "endpoint detection and response", Category.DEFENSIVE_TOOL)


def classified(item: Capability = EXPLOIT_PLATFORM) -> Classification:
    return classify(item)


def project_at(stage: gates.Stage, tier_item: Capability = EXPLOIT_PLATFORM) -> gates.Project:
    """A project walked legally to `stage`, every gate reviewed without required changes."""
    project, _ = gates.register("P-1", tier_item.name, VENDOR_ORG, classify(tier_item).tier, VENDOR, AT)
    project = _pass_gate(project, gates.Stage.CONCEPT)
    for target in gates.GATED[1 : stage.rank + 1]:
        project = _pass_gate(project, target)
        project, _ = gates.advance(project, VENDOR, AT)
    return project


def _pass_gate(project: gates.Project, gate: gates.Stage) -> gates.Project:
    project, _ = gates.review_gate(project, gates.GateReview(gate, OFFICER.id), OFFICER, AT)
    return project


def export_application(**changes: object) -> Application:
    values: dict[str, object] = {
        "id": "A-1",
        "kind": LicenceKind.EXPORT,
        "vendor": VENDOR_ORG,
        "applicant": VENDOR.id,
        "item": EXPLOIT_PLATFORM.name,
        "tier": classify(EXPLOIT_PLATFORM).tier,
        "countries": ("NO",),
        "end_user": "Norwegian Police Security Service",
        "end_use": "investigating terrorism under court warrant",
        "declaration_signed": True,
        "marketing_licence": "ML-1",
    }
    values.update(changes)
    return Application(**values)


def clean_inputs(**changes: object) -> RecommendationInputs:
    """A clean tier-A government end user, marketing licence in force, declaration signed: APPROVE."""
    values: dict[str, object] = {
        "kind": LicenceKind.EXPORT,
        "classification": classify(EXPLOIT_PLATFORM),
        "countries": (CountryFacts("NO", ExportTier.A, "Norway"),),
        "today": TODAY,
        "project": project_at(gates.Stage.MARKETING),
        "end_user": PartyFacts("Norwegian Police Security Service", ScreeningOutcome.CLEAR, government=True),
        "marketing_licence": MarketingLicenceFacts("ML-1", True, True, True),
        "declaration_signed": True,
    }
    values.update(changes)
    return RecommendationInputs(**values)


def clean_recommendation() -> Recommendation:
    return recommend(clean_inputs())


def in_review(app: Application | None = None, item: Capability = EXPLOIT_PLATFORM) -> Application:
    """An application walked legally to REVIEW on a clean recommendation."""
    recommendation = recommend(clean_inputs(classification=classify(item)))
    app, _ = apps.draft(app or export_application(), VENDOR, AT)
    app, _ = apps.submit(app, VENDOR, AT)
    app, _ = apps.screen(app, recommendation, SYSTEM, AT)
    app, _ = apps.confirm_classification(app, classify(item), recommendation, OFFICER, AT)
    return app


def refused(call: Callable[[], object], code: str | None = None) -> TransitionRefused:
    """Run a transition that must be refused; return the error (with its code checked, if given)."""
    try:
        call()
    except TransitionRefused as error:
        assert error.status == 409
        assert error.description, "a refusal says why"
        if code is not None:
            assert error.code == code, f"refused with {error.code} ({error.description}), expected {code}"
        return error
    raise AssertionError("the transition was not refused")
