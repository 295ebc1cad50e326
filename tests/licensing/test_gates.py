"""Development supervision (reference/export_control.md 2.4): stage gates without skipping, required changes
confirmed by someone independent of the vendor, regression, suspension and retirement. Example tests, then
a hypothesis state machine that tries every transition, legal or not, against an independent model."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from gesher.licensing import gates
from gesher.licensing.catalog import GesherTier
from gesher.licensing.config import LicensingConfig
from gesher.licensing.gates import GATED, GateReview, Project, RequiredChange, Stage
from gesher.licensing.history import Actor, Event
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
    VENDOR_ORG,
    project_at,
    refused,
)


def registered() -> Project:
    project, event = gates.register(
        "P-1", EXPLOIT_PLATFORM.name, VENDOR_ORG, GesherTier.OFFENSIVE, VENDOR, AT
    )
    assert (event.action, event.from_state, event.to_state, event.version) == ("register", "", "concept", 1)
    return project


def review(gate: Stage, *change_ids: str) -> GateReview:
    changes = tuple(RequiredChange(c, f"change {c}") for c in change_ids)
    return GateReview(gate, OFFICER.id, ("finding",), changes, ("no live targets",))


def test_which_tiers_need_a_project() -> None:
    assert gates.needs_project(GesherTier.OFFENSIVE)
    assert not gates.needs_project(GesherTier.DUAL_USE)
    assert gates.needs_project(GesherTier.DUAL_USE, LicensingConfig(supervise_dual_use=True))
    assert not gates.needs_project(GesherTier.DEFENSIVE, LicensingConfig(supervise_dual_use=True))
    refused(
        lambda: gates.register("P-2", "EDR", VENDOR_ORG, GesherTier.DEFENSIVE, VENDOR, AT), "NOT_SUPERVISED"
    )
    refused(
        lambda: gates.register("P-2", "x", VENDOR_ORG, GesherTier.OFFENSIVE, OTHER_VENDOR, AT),
        "NOT_YOUR_PROJECT",
    )


def test_a_gate_passes_only_when_every_required_change_is_confirmed() -> None:
    project, event = gates.review_gate(registered(), review(Stage.CONCEPT, "c1", "c2"), OFFICER, AT)
    assert event.details == (
        ("gate", "concept"),
        ("finding", "finding"),
        ("required_change", "c1: change c1"),
        ("required_change", "c2: change c2"),
        ("condition", "no live targets"),
    )
    assert not gates.gate_passed(project, Stage.CONCEPT)
    refused(lambda: gates.advance(project, VENDOR, AT), "GATE_NOT_PASSED")
    project, event = gates.confirm_change(project, "c1", OFFICER_2, AT)
    assert event.details == (("gate", "concept"), ("required_change", "c1"))
    assert not gates.gate_passed(project, Stage.CONCEPT)
    project, _ = gates.confirm_change(project, "c2", OFFICER, AT)
    assert gates.gate_passed(project, Stage.CONCEPT)
    assert gates.pending_gate(project) == Stage.DEVELOPMENT
    refused(lambda: gates.advance(project, VENDOR, AT), "GATE_NOT_PASSED")  # DEVELOPMENT's own gate is next
    project, _ = gates.review_gate(project, review(Stage.DEVELOPMENT), OFFICER, AT)
    project, event = gates.advance(project, VENDOR, AT)
    assert (project.stage, event.from_state, event.to_state) == (Stage.DEVELOPMENT, "concept", "development")
    assert project.conditions == ("no live targets", "no live targets")


def test_the_vendor_never_confirms_its_own_change() -> None:
    project, _ = gates.review_gate(registered(), review(Stage.CONCEPT, "c1"), OFFICER, AT)
    refused(lambda: gates.confirm_change(project, "c1", VENDOR, AT), "OFFICER_REQUIRED")
    refused(lambda: gates.confirm_change(project, "c1", INSIDER, AT), "NOT_INDEPENDENT")
    refused(lambda: gates.confirm_change(project, "c9", OFFICER, AT), "NO_OPEN_CHANGE")
    refused(lambda: gates.review_gate(project, review(Stage.CONCEPT), VENDOR, AT), "OFFICER_REQUIRED")


def test_reviews_are_checked() -> None:
    project = registered()
    refused(lambda: gates.review_gate(project, review(Stage.TESTING), OFFICER, AT), "NOT_PENDING_GATE")
    other = dataclasses.replace(review(Stage.CONCEPT), reviewer="someone-else")
    refused(lambda: gates.review_gate(project, other, OFFICER, AT), "REVIEWER_MISMATCH")
    refused(
        lambda: gates.review_gate(project, review(Stage.CONCEPT, "x", "x"), OFFICER, AT),
        "DUPLICATE_CHANGE_ID",
    )
    done = GateReview(Stage.CONCEPT, OFFICER.id, required_changes=(RequiredChange("x", "t", OFFICER.id),))
    refused(lambda: gates.review_gate(project, done, OFFICER, AT), "PRECONFIRMED")
    with pytest.raises(ValueError):
        GateReview("launch", OFFICER.id)


def test_marketing_and_export_need_their_gates() -> None:
    testing = project_at(Stage.TESTING)
    assert gates.may_apply(testing, Stage.MARKETING) and not gates.may_apply(testing, Stage.EXPORT)
    assert not gates.may_market(testing) and not gates.may_export(testing)
    marketing = project_at(Stage.MARKETING)
    assert gates.may_market(marketing) and not gates.may_export(marketing)
    assert gates.may_apply(marketing, Stage.EXPORT)
    export = project_at(Stage.EXPORT)
    assert gates.may_market(export) and gates.may_export(export)
    suspended, _ = gates.suspend(export, OFFICER, AT, "misuse alleged")
    assert not gates.may_market(suspended) and not gates.may_export(suspended)
    assert not gates.may_apply(suspended, Stage.EXPORT)


def test_regression_reopens_the_later_gates() -> None:
    project = project_at(Stage.EXPORT)
    refused(lambda: gates.regress(project, Stage.TESTING, (), OFFICER, AT, "leak"), "FINDINGS_REQUIRED")
    refused(lambda: gates.regress(project, Stage.SUSTAINMENT, ("x",), OFFICER, AT, "x"), "NOT_EARLIER")
    refused(lambda: gates.regress(project, Stage.TESTING, ("x",), VENDOR, AT, "x"), "OFFICER_REQUIRED")
    back, event = gates.regress(project, Stage.TESTING, ("geofence bypassed in a test",), OFFICER, AT, "leak")
    assert back.stage == Stage.TESTING and event.details == (("finding", "geofence bypassed in a test"),)
    assert gates.gate_passed(back, Stage.TESTING) and not gates.gate_passed(back, Stage.MARKETING)
    assert not gates.may_market(back) and gates.pending_gate(back) == Stage.MARKETING


def test_suspension_resumption_and_retirement() -> None:
    project = project_at(Stage.DEVELOPMENT)
    refused(lambda: gates.suspend(project, VENDOR, AT, "x"), "OFFICER_REQUIRED")
    refused(lambda: gates.resume(project, OFFICER, AT, "x"), "NOT_SUSPENDED")
    suspended, event = gates.suspend(project, SENIOR, AT, "personnel vetting lapsed")
    assert (event.from_state, event.to_state) == ("development", "suspended")
    refused(lambda: gates.advance(suspended, VENDOR, AT), "SUSPENDED")
    refused(lambda: gates.suspend(suspended, OFFICER, AT, "again"), "SUSPENDED")
    resumed, event = gates.resume(suspended, OFFICER, AT, "vetting renewed")
    assert (resumed.stage, event.to_state) == (Stage.DEVELOPMENT, "development")
    retired, _ = gates.retire(suspended, VENDOR, AT, "abandoned")
    assert retired.stage == Stage.RETIRED and not retired.suspended
    refused(lambda: gates.retire(retired, OFFICER, AT, "again"), "RETIRED")
    refused(lambda: gates.advance(retired, OFFICER, AT), "RETIRED")
    refused(lambda: gates.retire(project, OTHER_VENDOR, AT, "not theirs"), "NOT_YOUR_PROJECT")
    refused(lambda: gates.advance(project, SYSTEM, AT), "OFFICER_REQUIRED")
    refused(lambda: gates.suspend(project, OFFICER, AT, "  "), "REASON_REQUIRED")


def test_sustainment_is_the_last_gated_stage() -> None:
    project = project_at(Stage.SUSTAINMENT)
    assert gates.pending_gate(project) is None
    refused(lambda: gates.advance(project, VENDOR, AT), "NO_NEXT_STAGE")
    assert gates.may_export(project)


# --- state machine -----------------------------------------------------------------------------------------

ACTORS = st.sampled_from([VENDOR, OTHER_VENDOR, OFFICER, OFFICER_2, SENIOR, INSIDER, SYSTEM])


class GateMachine(RuleBasedStateMachine):
    """Every transition tried from every state, legal or not, checked against a model kept here."""

    @initialize()
    def start(self) -> None:
        self.project = registered()
        self.stage = Stage.CONCEPT
        self.suspended = False
        self.reviewed: set[Stage] = set()
        self.open: dict[str, Stage] = {}
        self.counter = 0

    # model
    def passed(self, gate: Stage) -> bool:
        return gate in self.reviewed and gate not in self.open.values()

    def next_stage(self) -> Stage | None:
        if self.stage in (Stage.SUSTAINMENT, Stage.RETIRED):
            return None
        return GATED[self.stage.rank + 1]

    def pending(self) -> Stage | None:
        if self.stage == Stage.RETIRED:
            return None
        limit = self.next_stage() or self.stage
        return next((g for g in GATED if g.rank <= limit.rank and not self.passed(g)), None)

    def apply(self, result: tuple[Project, Event]) -> None:
        new, event = result
        assert new.version == self.project.version + 1
        assert event.version == new.version
        assert event.from_state == self.project.state and event.to_state == new.state
        self.project = new

    def expect_refusal(self, call: Callable[[], object]) -> None:
        before = self.project
        refused(call)
        assert self.project is before

    # rules
    @rule(gate=st.sampled_from(GATED), changes=st.integers(0, 2), actor=ACTORS)
    def review_a_gate(self, gate: Stage, changes: int, actor: Actor) -> None:
        ids = [f"c{self.counter + i}" for i in range(changes)]
        review = GateReview(gate, actor.id, required_changes=tuple(RequiredChange(i, i) for i in ids))
        legal = gate == self.pending() and actor in (OFFICER, OFFICER_2, SENIOR)
        call = partial(gates.review_gate, self.project, review, actor, AT)
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        self.counter += changes
        self.reviewed.add(gate)
        self.open.update(dict.fromkeys(ids, gate))

    @precondition(lambda self: self.stage != Stage.RETIRED and not self.suspended)
    @rule(steps=st.integers(1, 6), changes=st.integers(0, 1))
    def progress(self, steps: int, changes: int) -> None:
        """The legal path forward, a few moves at a time, so runs reach the late stages: confirm an open
        change, else review the pending gate, else advance."""
        for _ in range(steps):
            gate = self.pending()
            if self.open:
                change = min(self.open)
                self.apply(gates.confirm_change(self.project, change, OFFICER_2, AT))
                del self.open[change]
            elif gate is not None:
                self.review_a_gate(gate, changes, OFFICER)
            elif self.next_stage() is not None:
                self.advance(VENDOR)

    @precondition(lambda self: bool(self.open))
    @rule(data=st.data())
    def confirm_an_open_change(self, data: st.DataObject) -> None:
        change = data.draw(st.sampled_from(sorted(self.open)))
        self.apply(gates.confirm_change(self.project, change, OFFICER_2, AT))
        del self.open[change]

    @rule(data=st.data(), actor=ACTORS)
    def confirm_a_change(self, data: st.DataObject, actor: Actor) -> None:
        change = data.draw(st.sampled_from(sorted(self.open) or ["none"]))
        legal = change in self.open and actor in (OFFICER, OFFICER_2, SENIOR)
        call = partial(gates.confirm_change, self.project, change, actor, AT)
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        del self.open[change]

    @rule(actor=ACTORS)
    def advance(self, actor: Actor) -> None:
        target = self.next_stage()
        permitted = actor in (VENDOR, OFFICER, OFFICER_2, SENIOR, INSIDER)
        ready = target is not None and all(self.passed(g) for g in GATED if g.rank <= target.rank)
        call = partial(gates.advance, self.project, actor, AT)
        if not (permitted and ready and not self.suspended):
            return self.expect_refusal(call)
        self.apply(call())
        assert target is not None
        self.stage = target

    @rule(to=st.sampled_from(list(Stage)), actor=ACTORS)
    def regress(self, to: Stage, actor: Actor) -> None:
        legal = actor in (OFFICER, OFFICER_2, SENIOR, INSIDER) and self.stage != Stage.RETIRED
        legal = legal and to != Stage.RETIRED and to.rank < self.stage.rank
        call = partial(gates.regress, self.project, to, ("finding",), actor, AT, "regressed")
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        self.stage = to
        self.reviewed = {g for g in self.reviewed if g.rank <= to.rank}
        self.open = {c: g for c, g in self.open.items() if g.rank <= to.rank}

    @rule(actor=ACTORS)
    def suspend(self, actor: Actor) -> None:
        legal = (
            actor in (OFFICER, OFFICER_2, SENIOR, INSIDER)
            and not self.suspended
            and self.stage != Stage.RETIRED
        )
        call = partial(gates.suspend, self.project, actor, AT, "misuse alleged")
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        self.suspended = True

    @rule(actor=ACTORS)
    def resume(self, actor: Actor) -> None:
        legal = actor in (OFFICER, OFFICER_2, SENIOR, INSIDER) and self.suspended
        call = partial(gates.resume, self.project, actor, AT, "cleared")
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        self.suspended = False

    @rule(actor=ACTORS, now=st.integers(0, 5))
    def retire(self, actor: Actor, now: int) -> None:
        if now:  # retirement ends the run's interest: try it one time in six
            return
        legal = actor in (VENDOR, OFFICER, OFFICER_2, SENIOR, INSIDER) and self.stage != Stage.RETIRED
        call = partial(gates.retire, self.project, actor, AT, "end of life")
        if not legal:
            return self.expect_refusal(call)
        self.apply(call())
        self.stage, self.suspended = Stage.RETIRED, False

    # invariants
    @invariant()
    def matches_the_model(self) -> None:
        assert (self.project.stage, self.project.suspended) == (self.stage, self.suspended)
        assert gates.pending_gate(self.project) == self.pending()
        assert all(gates.gate_passed(self.project, g) == self.passed(g) for g in GATED)

    @invariant()
    def never_past_concept_with_an_unconfirmed_change_at_or_before_its_stage(self) -> None:
        """The CONCEPT gate is reviewed in CONCEPT; every later stage is entered only through its gate."""
        if self.project.stage not in (Stage.CONCEPT, Stage.RETIRED):
            assert gates.gates_passed_through(self.project, self.project.stage)

    @invariant()
    def marketing_and_export_follow_the_gates(self) -> None:
        if gates.may_market(self.project):
            assert self.project.stage in (Stage.MARKETING, Stage.EXPORT, Stage.SUSTAINMENT)
            assert not any(
                c.confirmed_by is None
                for r in self.project.reviews
                for c in r.required_changes
                if r.gate.rank <= Stage.MARKETING.rank
            )
        if gates.may_export(self.project):
            assert gates.may_market(self.project) and self.project.stage in (Stage.EXPORT, Stage.SUSTAINMENT)


GateMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
TestGateMachine = GateMachine.TestCase
