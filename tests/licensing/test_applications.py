"""Licence applications (reference/export_control.md 2.3; issue 5 "Two licences" and "Bad input"): the
legal path, every refusal, and a hypothesis state machine in which any actor tries any transition."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from functools import partial

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gesher.errors import InvalidRequest
from gesher.licensing import applications as apps
from gesher.licensing.applications import DECIDED, GRANTED, OPEN, Application, ApplicationState
from gesher.licensing.catalog import Capability, GesherTier, classify
from gesher.licensing.conditions import LicenceKind, NoReexport
from gesher.licensing.history import Actor, Event, Role
from gesher.licensing.recommend import CountryFacts, PartyFacts, Recommendation, Verdict, recommend
from gesher.vetting.countries import ExportTier
from gesher.vetting.model import ScreeningOutcome
from tests.licensing.helpers import (
    AT,
    EXPLOIT_PLATFORM,
    INSIDER,
    OFFICER,
    OFFICER_2,
    OTHER_VENDOR,
    SENIOR,
    SYSTEM,
    VENDOR,
    clean_inputs,
    clean_recommendation,
    export_application,
    in_review,
    refused,
)
from tests.licensing.test_catalog import PENTEST

S = ApplicationState
# the vendor's own filer, who also holds an officer role somewhere: approving its own filing is refused
APPLICANT_AS_OFFICER = Actor(VENDOR.id, Role.OFFICER, "DECA")
POLICE = "Norwegian Police Security Service"


def rec(**changes: object) -> Recommendation:
    return recommend(clean_inputs(**changes))


REFER = rec(countries=(CountryFacts("NO", ExportTier.A, risk_signals=("hosted spyware misuse",)),))
PARKED = rec(end_user=PartyFacts(POLICE, ScreeningOutcome.REVIEW, government=True))
UNKNOWN = rec(end_user=PartyFacts(POLICE, ScreeningOutcome.UNKNOWN, government=True))
PRESUMED = rec(
    end_user=PartyFacts(POLICE, "clear", government=True, misuse_substantiated_on=(date(2024, 1, 9),))
)
LISTED = rec(end_user=PartyFacts(POLICE, ScreeningOutcome.MATCH, government=True))


def test_the_recommendations_used_here() -> None:
    assert [r.verdict for r in (clean_recommendation(), REFER, PARKED, UNKNOWN, PRESUMED, LISTED)] == [
        Verdict.APPROVE,
        Verdict.REFER,
        Verdict.REFER,
        Verdict.REFER,
        Verdict.PRESUME_DENIAL,
        Verdict.DENY,
    ]


def test_an_offensive_export_needs_two_distinct_independent_approvers() -> None:
    app = in_review()
    assert app.tier == GesherTier.OFFENSIVE and app.state == S.REVIEW
    refused(lambda: apps.approve(app, VENDOR, AT, "mine"), "OFFICER_REQUIRED")
    refused(lambda: apps.approve(app, APPLICANT_AS_OFFICER, AT, "mine"), "SELF_APPROVAL")
    refused(lambda: apps.approve(app, INSIDER, AT, "ours"), "NOT_INDEPENDENT")
    refused(lambda: apps.approve(app, SYSTEM, AT, "auto"), "OFFICER_REQUIRED")
    refused(lambda: apps.approve(app, OFFICER, AT, " "), "REASON_REQUIRED")
    once, event = apps.approve(app, OFFICER, AT, "meets every rule")
    assert once.state == S.REVIEW and event.reason.startswith("approval 1 of 2")
    refused(lambda: apps.approve(once, OFFICER, AT, "again"), "SAME_APPROVER")
    twice, event = apps.approve(once, OFFICER_2, AT, "concur")
    assert twice.state == S.APPROVED and twice.decided_by == ("officer-1", "officer-2")
    assert event.details == (("approver", "officer-1"), ("approver", "officer-2"))
    refused(lambda: apps.approve(twice, SENIOR, AT, "third"), "ALREADY_DECIDED")
    refused(lambda: apps.deny(twice, SENIOR, AT, "changed my mind"), "ALREADY_DECIDED")
    refused(lambda: apps.withdraw(twice, VENDOR, AT, "too late"), "ALREADY_DECIDED")


def test_concurrent_decisions_cannot_both_win() -> None:
    """Two officers read the same application with one approval and decide at once: each pure result is a
    new version of the same version, so the store's compare-and-set lets one win; the loser, re-reading
    the state inside its transaction, is refused."""
    once, _ = apps.approve(in_review(), OFFICER, AT, "first")
    approved, _ = apps.approve(once, OFFICER_2, AT, "approve")
    denied, _ = apps.deny(once, SENIOR, AT, "deny")
    assert approved.version == denied.version == once.version + 1
    refused(lambda: apps.deny(approved, SENIOR, AT, "deny"), "ALREADY_DECIDED")
    refused(lambda: apps.approve(denied, OFFICER_2, AT, "approve"), "ALREADY_DECIDED")


def test_one_approver_for_a_dual_use_item_and_conditions_make_it_conditional() -> None:
    draft = export_application(item=PENTEST.name, tier=GesherTier.DUAL_USE, marketing_licence=None)
    app = in_review(draft, PENTEST)
    assert app.tier == GesherTier.DUAL_USE
    approved, _ = apps.approve(app, OFFICER, AT, "fine", conditions=(NoReexport(),))
    assert approved.state == S.APPROVED_WITH_CONDITIONS and approved.conditions == (NoReexport(),)


def test_bad_submissions_are_refused_and_change_nothing() -> None:
    draft, _ = apps.draft(export_application(declaration_signed=False), VENDOR, AT)
    refused(lambda: apps.submit(draft, VENDOR, AT), "MISSING_DECLARATION")
    assert draft.state == S.DRAFT and draft.version == 1
    no_ml, _ = apps.draft(export_application(marketing_licence=None), VENDOR, AT)
    refused(lambda: apps.submit(no_ml, VENDOR, AT), "NO_MARKETING_LICENCE")
    refused(lambda: apps.submit(draft, OTHER_VENDOR, AT), "NOT_YOUR_APPLICATION")
    refused(lambda: apps.draft(export_application(), OTHER_VENDOR, AT), "NOT_YOUR_APPLICATION")
    refused(lambda: apps.draft(export_application(applicant="someone"), VENDOR, AT), "APPLICANT_MISMATCH")
    refused(lambda: apps.draft(draft, VENDOR, AT), "NOT_NEW")
    with pytest.raises(InvalidRequest):
        export_application(countries=("NO", "SE"))
    with pytest.raises(InvalidRequest):
        export_application(end_use=" ")
    with pytest.raises(InvalidRequest):
        export_application(kind=LicenceKind.MARKETING, countries=())


def submitted() -> Application:
    app, _ = apps.draft(export_application(), VENDOR, AT)
    app, _ = apps.submit(app, VENDOR, AT)
    return app


def test_a_hard_denial_at_screening_is_recorded_and_final() -> None:
    denied, event = apps.screen(submitted(), LISTED, SYSTEM, AT)
    assert denied.state == S.DENIED and event.action == "deny" and event.actor == "system"
    assert "confirmed match" in denied.decision_reason
    refused(lambda: apps.approve(denied, OFFICER, AT, "override"), "ALREADY_DECIDED")
    refused(lambda: apps.screen(submitted(), LISTED, VENDOR, AT), "SCREENER_REQUIRED")


def test_a_potential_match_parks_the_application_until_resolved() -> None:
    parked, event = apps.screen(submitted(), PARKED, SYSTEM, AT)
    assert parked.state == S.SCREENING and event.action == "screening-parked"
    moved, event = apps.screen(parked, clean_recommendation(), OFFICER, AT)
    assert moved.state == S.CLASSIFICATION and event.action == "screen"
    unknown, _ = apps.screen(submitted(), UNKNOWN, SYSTEM, AT)
    assert unknown.state == S.CLASSIFICATION  # a confidential list cannot be resolved: an officer weighs it
    in_review_, _ = apps.confirm_classification(unknown, classify(EXPLOIT_PLATFORM), PARKED, OFFICER, AT)
    refused(lambda: apps.approve(in_review_, OFFICER, AT, "ok"), "UNRESOLVED_MATCH")


def test_a_presumption_of_denial_needs_a_senior_officer() -> None:
    app, _ = apps.screen(in_review(), PRESUMED, SYSTEM, AT)
    once, _ = apps.approve(app, OFFICER, AT, "the misuse was a different unit, since disbanded")
    refused(lambda: apps.approve(once, OFFICER_2, AT, "concur"), "SENIOR_REQUIRED")
    approved, _ = apps.approve(once, SENIOR, AT, "override in writing: unit disbanded, new oversight law")
    assert approved.state == S.APPROVED


def test_a_changed_recommendation_voids_earlier_approvals() -> None:
    once, _ = apps.approve(in_review(), OFFICER, AT, "first")
    same, event = apps.screen(once, clean_recommendation(), SYSTEM, AT)
    assert same.approvals == once.approvals and event.action == "rescreen"
    changed, event = apps.screen(once, REFER, SYSTEM, AT)
    assert changed.approvals == () and "void" in event.reason
    denied, _ = apps.screen(once, LISTED, SYSTEM, AT)
    assert denied.state == S.DENIED


def test_withdrawal() -> None:
    refused(lambda: apps.withdraw(submitted(), OTHER_VENDOR, AT, "not mine"), "NOT_YOUR_APPLICATION")
    withdrawn, _ = apps.withdraw(submitted(), VENDOR, AT, "deal fell through")
    assert withdrawn.state == S.WITHDRAWN
    refused(lambda: apps.withdraw(withdrawn, OFFICER, AT, "again"), "WRONG_STATE")
    refused(lambda: apps.submit(withdrawn, VENDOR, AT), "WRONG_STATE")
    refused(
        lambda: apps.confirm_classification(submitted(), classify(EDR_), clean_recommendation(), OFFICER, AT)
    )


EDR_ = EXPLOIT_PLATFORM


# --- state machine -----------------------------------------------------------------------------------------

ACTORS = st.sampled_from(
    [VENDOR, OTHER_VENDOR, APPLICANT_AS_OFFICER, INSIDER, OFFICER, OFFICER_2, SENIOR, SYSTEM]
)
RECOMMENDATIONS = st.sampled_from([clean_recommendation(), REFER, PARKED, UNKNOWN, PRESUMED, LISTED])
INDEPENDENT = (OFFICER, OFFICER_2, SENIOR)
ITEMS = st.sampled_from([EXPLOIT_PLATFORM, PENTEST])
MOSTLY = st.sampled_from([True, True, True, False])  # a well-formed application, most of the time


class ApplicationMachine(RuleBasedStateMachine):
    @initialize(signed=MOSTLY, has_ml=MOSTLY, offensive=st.booleans())
    def start(self, signed: bool, has_ml: bool, offensive: bool) -> None:
        tier = GesherTier.OFFENSIVE if offensive else GesherTier.DUAL_USE
        draft = export_application(
            declaration_signed=signed, marketing_licence="ML-1" if has_ml else None, tier=tier
        )
        self.app, _ = apps.draft(draft, VENDOR, AT)
        self.state = S.DRAFT
        self.approvers: list[str] = []
        self.rec: Recommendation | None = None
        self.submittable = signed and (has_ml or not offensive)

    def apply(self, result: tuple[Application, Event]) -> None:
        new, event = result
        assert new.version == event.version == self.app.version + 1
        assert (event.from_state, event.to_state) == (self.app.state, new.state)
        self.app = new

    def expect_refusal(self, call: Callable[[], object]) -> None:
        before = self.app
        refused(call)
        assert self.app is before

    @rule(actor=ACTORS)
    def submit(self, actor: Actor) -> None:
        call = partial(apps.submit, self.app, actor, AT)
        if not (actor == VENDOR and self.state == S.DRAFT and self.submittable):
            return self.expect_refusal(call)
        self.apply(call())
        self.state = S.SCREENING

    @rule(recommendation=RECOMMENDATIONS, actor=ACTORS)
    def screen(self, recommendation: Recommendation, actor: Actor) -> None:
        call = partial(apps.screen, self.app, recommendation, actor, AT)
        if not (actor in (*INDEPENDENT, INSIDER, APPLICANT_AS_OFFICER, SYSTEM) and self.state in OPEN):
            return self.expect_refusal(call)
        self.apply(call())
        if recommendation.verdict == Verdict.DENY:
            self.state = S.DENIED
        elif self.state == S.SCREENING and recommendation is not PARKED:
            self.state = S.CLASSIFICATION
        if recommendation != self.rec:
            self.approvers = []
        self.rec = recommendation

    @rule(recommendation=RECOMMENDATIONS, actor=ACTORS, item=ITEMS)
    def confirm_classification(self, recommendation: Recommendation, actor: Actor, item: Capability) -> None:
        call = partial(apps.confirm_classification, self.app, classify(item), recommendation, actor, AT)
        if not (actor.is_officer and self.state == S.CLASSIFICATION):
            return self.expect_refusal(call)
        self.apply(call())
        self.state = S.DENIED if recommendation.verdict == Verdict.DENY else S.REVIEW
        self.rec = recommendation

    @rule(actor=ACTORS)
    def approve(self, actor: Actor) -> None:
        call = partial(apps.approve, self.app, actor, AT, "approved on the facts")
        needed = 2 if self.app.tier == GesherTier.OFFENSIVE else 1
        legal = self.state == S.REVIEW and actor in INDEPENDENT and actor.id not in self.approvers
        legal = legal and self.rec is not None and self.rec.verdict != Verdict.DENY and self.rec is not PARKED
        last = len(self.approvers) + 1 >= needed
        if legal and last and self.rec is PRESUMED:
            legal = SENIOR.id in self.approvers or actor == SENIOR
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        self.approvers.append(actor.id)
        if last:
            self.state = S.APPROVED

    @precondition(lambda self: self.state in OPEN | {S.DRAFT})
    @rule(recommendations=st.lists(RECOMMENDATIONS, min_size=1, max_size=4), two=st.booleans(), item=ITEMS)
    def progress(self, recommendations: list[Recommendation], two: bool, item: Capability) -> None:
        """The legal path forward, a few moves at a time, so runs reach decisions often."""
        for recommendation in recommendations:
            if self.state == S.DRAFT and self.submittable:
                self.submit(VENDOR)
            elif self.state == S.SCREENING:
                self.screen(recommendation, SYSTEM)
            elif self.state == S.CLASSIFICATION:
                self.confirm_classification(recommendation, OFFICER, item)
            elif self.state == S.REVIEW:
                for officer in (SENIOR, OFFICER)[: 2 if two else 1]:
                    if self.state == S.REVIEW and officer.id not in self.approvers:
                        self.approve(officer)

    @rule(actor=ACTORS, now=st.integers(0, 3))
    def deny(self, actor: Actor, now: int = 0) -> None:
        if now:  # a denial ends the run's interest: try it one time in four
            return
        call = partial(apps.deny, self.app, actor, AT, "denied on the facts")
        if not (actor.is_officer and self.state in OPEN):
            return self.expect_refusal(call)
        self.apply(call())
        self.state = S.DENIED

    @rule(actor=ACTORS, now=st.integers(0, 3))
    def withdraw(self, actor: Actor, now: int = 0) -> None:
        if now:  # withdrawal ends the run's interest: try it one time in four
            return
        call = partial(apps.withdraw, self.app, actor, AT, "withdrawn")
        if not ((actor.is_officer or actor == VENDOR) and self.state in (OPEN | {S.DRAFT})):
            return self.expect_refusal(call)
        self.apply(call())
        self.state = S.WITHDRAWN

    @invariant()
    def matches_the_model(self) -> None:
        assert self.app.state == self.state
        assert [a.officer for a in self.app.approvals] == self.approvers or self.state == S.DENIED

    @invariant()
    def approvals_are_distinct_independent_and_enough(self) -> None:
        ids = [a.officer for a in self.app.approvals]
        assert len(ids) == len(set(ids)) and self.app.applicant not in ids
        assert not {a.officer for a in self.app.approvals} & {INSIDER.id, VENDOR.id}
        if self.app.state in GRANTED:
            needed = 2 if self.app.tier == GesherTier.OFFENSIVE else 1
            assert len(ids) >= needed
            assert self.app.recommendation is not None and self.app.recommendation.verdict != Verdict.DENY
            if self.app.recommendation.verdict == Verdict.PRESUME_DENIAL:
                assert any(a.role == Role.SENIOR_OFFICER for a in self.app.approvals)

    @invariant()
    def a_decision_is_final(self) -> None:
        if self.app.state in DECIDED:
            assert self.app.decided_by and self.app.decision_reason


ApplicationMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestApplicationMachine = ApplicationMachine.TestCase


def test_draft_replace_keeps_validation() -> None:
    with pytest.raises(InvalidRequest):
        dataclasses.replace(export_application(), end_user="")
