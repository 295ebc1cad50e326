"""Issue 5's "Done when", on the pure core alone: a vendor registers an offensive tool at the concept stage,
passes the gates with required changes, obtains a marketing and then an export licence to a vetted
destination, is refused for a listed end user, and sees the licence suspended by a misuse report; every step
is in the history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypeVar

from gesher.licensing import applications as apps
from gesher.licensing import gates, licences, misuse
from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.catalog import GesherTier, classify
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.gates import GateReview, RequiredChange, Stage
from gesher.licensing.history import Event
from gesher.licensing.misuse import MisuseReport, SuspendLicence
from gesher.licensing.recommend import CountryFacts, PartyFacts, RecommendationInputs, Verdict, recommend
from gesher.vetting.countries import ExportTier
from gesher.vetting.model import ScreeningOutcome
from tests.licensing.helpers import (
    AT,
    EXPLOIT_PLATFORM,
    OFFICER,
    OFFICER_2,
    SENIOR,
    SYSTEM,
    VENDOR,
    VENDOR_ORG,
    export_application,
)

T = TypeVar("T")
NORWAY = CountryFacts("NO", ExportTier.A, "Norway")
POLICE = PartyFacts("Norwegian Police Security Service", ScreeningOutcome.CLEAR, government=True)
LISTED = PartyFacts("Intellexa S.A.", ScreeningOutcome.MATCH, government=False)


def test_done_when() -> None:
    history: list[Event] = []

    def keep(result: tuple[T, Event]) -> T:
        history.append(result[1])
        return result[0]

    classification = classify(EXPLOIT_PLATFORM)
    assert classification.tier == GesherTier.OFFENSIVE and gates.needs_project(classification.tier)

    # concept stage: registration, then every gate with a required change confirmed by an officer
    project = keep(gates.register("P-1", EXPLOIT_PLATFORM.name, VENDOR_ORG, classification.tier, VENDOR, AT))
    for number, gate in enumerate([Stage.CONCEPT, Stage.DEVELOPMENT, Stage.TESTING]):
        change = RequiredChange(f"rc-{number}", f"fix found at the {gate.value} gate")
        project = keep(
            gates.review_gate(project, GateReview(gate, OFFICER.id, ("finding",), (change,)), OFFICER, AT)
        )
        project = keep(gates.confirm_change(project, change.id, OFFICER_2, AT, "verified on site"))
        if gate != Stage.CONCEPT:
            project = keep(gates.advance(project, VENDOR, AT))
    assert project.stage == Stage.TESTING

    # marketing licence (tier-A countries), then the MARKETING gate
    def facts(kind: LicenceKind, **more: object) -> RecommendationInputs:
        return RecommendationInputs(kind, classification, (NORWAY,), date(2025, 6, 1), project, **more)

    def decide(app: Application, recommendation_facts: RecommendationInputs) -> Application:
        rec = recommend(recommendation_facts)
        app = keep(apps.draft(app, VENDOR, AT))
        app = keep(apps.submit(app, VENDOR, AT))
        app = keep(apps.screen(app, rec, SYSTEM, AT))
        if app.state == ApplicationState.DENIED:
            return app
        app = keep(apps.confirm_classification(app, classification, rec, OFFICER, AT))
        app = keep(apps.approve(app, OFFICER, AT, "meets every rule"))
        return keep(apps.approve(app, SENIOR, AT, "concur"))

    marketing_app = Application(
        "MA-1",
        LicenceKind.MARKETING,
        VENDOR_ORG,
        VENDOR.id,
        EXPLOIT_PLATFORM.name,
        classification.tier,
        ("NO",),
    )
    marketing_app = decide(marketing_app, facts(LicenceKind.MARKETING))
    marketing = keep(licences.issue(marketing_app, "ML-1", date(2025, 6, 1), date(2027, 5, 31), OFFICER, AT))
    project = keep(
        gates.review_gate(project, GateReview(Stage.MARKETING, OFFICER.id, ("ML-1 issued",)), OFFICER, AT)
    )
    project = keep(gates.advance(project, VENDOR, AT))
    assert gates.may_market(project) and not gates.may_export(project)

    # export licence to a vetted destination
    ml_facts = licences.marketing_licence_facts(marketing, EXPLOIT_PLATFORM.name, "NO", date(2025, 6, 1))
    export_facts = facts(
        LicenceKind.EXPORT, end_user=POLICE, marketing_licence=ml_facts, declaration_signed=True
    )
    export_app = export_application(id="EA-1", end_user=POLICE.name)
    export_app = decide(export_app, export_facts)
    assert export_app.state == ApplicationState.APPROVED
    export = keep(licences.issue(export_app, "EL-1", date(2025, 6, 1), date(2026, 5, 31), OFFICER, AT))
    project = keep(
        gates.review_gate(project, GateReview(Stage.EXPORT, OFFICER.id, ("EL-1 issued",)), OFFICER, AT)
    )
    project = keep(gates.advance(project, VENDOR, AT))
    assert gates.may_export(project)

    # refused for a listed end user
    listed_facts = facts(
        LicenceKind.EXPORT, end_user=LISTED, marketing_licence=ml_facts, declaration_signed=True
    )
    listed_app = export_application(id="EA-2", end_user=LISTED.name, end_use="lawful interception")
    assert recommend(listed_facts).verdict == Verdict.DENY
    listed_app = decide(listed_app, listed_facts)
    assert listed_app.state == ApplicationState.DENIED and "confirmed match" in listed_app.decision_reason

    # a misuse report suspends the licence at once
    report = keep(
        misuse.receive(MisuseReport("M-1", "Amnesty Tech", "implant on an activist's phone"), SYSTEM, AT)
    )
    report = keep(misuse.act(report, (SuspendLicence("EL-1"),), SENIOR, AT, "credible allegation"))
    result = misuse.cascade(SuspendLicence("EL-1"), (), (export,), SENIOR, AT + timedelta(minutes=5), "M-1")
    history.extend(result.events)
    [suspended] = result.suspended_licences
    assert suspended.state == licences.LicenceState.SUSPENDED and not licences.in_force(
        suspended, date(2025, 7, 1)
    )
    assert report.finding is None and report.state == misuse.MisuseState.RECEIVED

    subjects = {e.subject.split(":")[0] for e in history}
    assert subjects == {"project", "application", "licence", "misuse"}
    assert [e.action for e in history if e.subject == "licence:EL-1"] == ["issue", "suspend"]
    assert all(e.reason and e.actor for e in history)
    assert [e.to_state for e in history if e.subject == "application:EA-2"][-1] == "denied"


def test_findings_feed_the_next_decision() -> None:
    """After a substantiated finding, the service records it on the party: the next application to the same
    end user is presumed denied."""
    found = PartyFacts(
        POLICE.name, ScreeningOutcome.CLEAR, government=True, misuse_substantiated_on=(date(2025, 6, 2),)
    )
    inputs = RecommendationInputs(
        LicenceKind.MARKETING, classify(EXPLOIT_PLATFORM), (NORWAY,), date(2025, 7, 1), end_user=found
    )
    assert recommend(inputs).verdict == Verdict.DENY  # no project: a hard denial outranks the presumption
    assert "MISUSE_SUBSTANTIATED" in recommend(inputs).codes(Verdict.PRESUME_DENIAL)
