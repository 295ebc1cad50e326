"""Licences (reference/export_control.md 2.3, 2.5): issued only from an approved application with its tier's
mandatory conditions; ACTIVE <-> SUSPENDED -> REVOKED | EXPIRED, final states final; missed reports flagged.
Examples, a hypothesis state machine, and properties of `reports_due`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gesher.errors import InvalidRequest
from gesher.licensing import applications as apps
from gesher.licensing import licences as lic
from gesher.licensing.catalog import GesherTier
from gesher.licensing.conditions import (
    EndUseLimit,
    GovernmentEndUserOnly,
    GovernmentToGovernmentOnly,
    LicenceKind,
    NoReexport,
    ProhibitedTargets,
    ReportingDuty,
    mandatory_conditions,
)
from gesher.licensing.config import LicensingConfig
from gesher.licensing.history import Actor, Event
from gesher.licensing.licences import Licence, LicenceState
from tests.licensing.helpers import AT, OFFICER, OFFICER_2, SENIOR, SYSTEM, VENDOR, in_review, refused

L = LicenceState
START, END = date(2025, 1, 1), date(2026, 12, 31)


def approved_app() -> apps.Application:
    once, _ = apps.approve(in_review(), OFFICER, AT, "ok")
    approved, _ = apps.approve(once, OFFICER_2, AT, "ok", conditions=(GovernmentToGovernmentOnly(),))
    return approved


def issued(**changes: object) -> Licence:
    licence, event = lic.issue(approved_app(), "EL-1", START, END, SYSTEM, AT)
    assert (event.action, event.to_state, event.version) == ("issue", "active", 1)
    return dataclasses.replace(licence, **changes)


def test_an_offensive_export_licence_carries_the_declaration_terms() -> None:
    licence = issued()
    assert licence.state == L.ACTIVE and licence.destination == "NO" and licence.marketing_licence == "ML-1"
    assert licence.conditions == (
        EndUseLimit(),
        NoReexport(),
        GovernmentEndUserOnly(),
        ProhibitedTargets(frozenset({"journalists", "human-rights-defenders", "political-opposition"})),
        ReportingDuty(90),
        GovernmentToGovernmentOnly(),  # the approvers' own condition
    )
    assert all(c.text for c in licence.conditions)


def test_mandatory_conditions_per_tier() -> None:
    assert mandatory_conditions(GesherTier.DUAL_USE, LicenceKind.EXPORT) == (NoReexport(), ReportingDuty(180))
    assert mandatory_conditions(GesherTier.DEFENSIVE, LicenceKind.EXPORT) == ()
    assert mandatory_conditions(GesherTier.OFFENSIVE, LicenceKind.MARKETING) == ()
    g2g = mandatory_conditions(
        GesherTier.OFFENSIVE, LicenceKind.EXPORT, LicensingConfig(g2g_only_offensive=True)
    )
    assert GovernmentToGovernmentOnly() in g2g
    with pytest.raises(InvalidRequest):
        ReportingDuty(30, grace_days=30)
    with pytest.raises(InvalidRequest):
        ProhibitedTargets(frozenset())


def test_only_an_approved_application_is_licensed() -> None:
    refused(lambda: lic.issue(in_review(), "EL-1", START, END, OFFICER, AT), "NOT_APPROVED")
    refused(lambda: lic.issue(approved_app(), "EL-1", START, END, VENDOR, AT), "OFFICER_REQUIRED")
    with pytest.raises(InvalidRequest):
        lic.issue(approved_app(), "EL-1", END, START, OFFICER, AT)


def test_suspension_reinstatement_revocation() -> None:
    licence = issued()
    refused(lambda: lic.suspend(licence, VENDOR, AT, "x"), "OFFICER_REQUIRED")
    suspended, event = lic.suspend(licence, OFFICER, AT, "misuse alleged by Citizen Lab")
    assert (event.from_state, event.to_state, suspended.version) == ("active", "suspended", 2)
    refused(lambda: lic.suspend(suspended, OFFICER, AT, "again"), "WRONG_STATE")
    active, _ = lic.reinstate(suspended, OFFICER, AT, "allegation unsubstantiated", date(2025, 6, 1))
    assert active.state == L.ACTIVE
    refused(lambda: lic.reinstate(suspended, OFFICER, AT, "late", date(2027, 1, 1)), "VALIDITY_ENDED")
    revoked, event = lic.revoke(suspended, SENIOR, AT, "misuse substantiated")
    assert revoked.state == L.REVOKED and revoked.ended_on == AT.date()
    for attempt in (
        lambda: lic.reinstate(revoked, OFFICER, AT, "undo", date(2025, 6, 1)),
        lambda: lic.suspend(revoked, OFFICER, AT, "x"),
        lambda: lic.revoke(revoked, OFFICER, AT, "x"),
        lambda: lic.expire(revoked, date(2027, 1, 1), SYSTEM, AT),
    ):
        error = refused(attempt, "WRONG_STATE")
        assert "(final)" in error.description


def test_expiry_follows_the_clock_passed_in() -> None:
    licence = issued()
    refused(lambda: lic.expire(licence, END, SYSTEM, AT), "STILL_VALID")
    refused(lambda: lic.expire(licence, END + timedelta(days=1), VENDOR, AT), "OFFICER_REQUIRED")
    assert lic.in_force(licence, END) and not lic.in_force(licence, START - timedelta(days=1))
    assert lic.effective_state(licence, END + timedelta(days=1)) == L.EXPIRED
    expired, event = lic.expire(licence, END + timedelta(days=1), SYSTEM, AT)
    assert expired.state == L.EXPIRED and expired.ended_on == END and event.actor == "system"
    refused(lambda: lic.reinstate(expired, OFFICER, AT, "x", END), "WRONG_STATE")


def test_marketing_licence_facts() -> None:
    marketing = issued(kind=LicenceKind.MARKETING, countries=("NO", "JP"), conditions=())
    facts = lic.marketing_licence_facts(marketing, marketing.item, "jp", date(2025, 6, 1))
    assert (facts.in_force, facts.covers_item, facts.covers_country) == (True, True, True)
    assert not lic.marketing_licence_facts(marketing, "other item", "MX", date(2025, 6, 1)).covers_country
    suspended, _ = lic.suspend(marketing, OFFICER, AT, "x")
    assert not lic.marketing_licence_facts(suspended, marketing.item, "NO", date(2025, 6, 1)).in_force
    with pytest.raises(InvalidRequest):
        lic.marketing_licence_facts(issued(), "x", "NO", date(2025, 6, 1))


# --- reports -----------------------------------------------------------------------------------------------


def reporting(every: int = 90, grace: int = 0) -> Licence:
    return issued(conditions=(ReportingDuty(every, grace),))


def test_missed_reports_raise_flags() -> None:
    licence = reporting()  # due 2025-04-01, 2025-06-30, 2025-09-28, ...
    assert lic.reports_due(licence, (), date(2025, 4, 1)) == ()  # due today: not yet missed
    missed = lic.reports_due(licence, (), date(2025, 4, 2))
    assert missed == (lic.MissedReport("EL-1", date(2025, 4, 1), START, 1),)
    on_time = (date(2025, 3, 30), date(2025, 6, 30))
    assert lic.reports_due(licence, on_time, date(2025, 7, 15)) == ()
    one_report_for_two_periods = (date(2025, 3, 30),)
    [flag] = lic.reports_due(licence, one_report_for_two_periods, date(2025, 7, 15))
    assert flag.due_on == date(2025, 6, 30) and flag.days_overdue == 15


def test_grace_days_and_the_end_of_the_licence() -> None:
    licence = reporting(grace=10)
    assert lic.reports_due(licence, (date(2025, 4, 8),), date(2025, 5, 1)) == ()  # late, within grace
    assert lic.reports_due(licence, (), date(2025, 4, 11)) == ()
    assert len(lic.reports_due(licence, (), date(2025, 4, 12))) == 1
    revoked, _ = lic.revoke(reporting(), OFFICER, AT, "misuse")  # revoked on 2025-06-01
    assert [m.due_on for m in lic.reports_due(revoked, (), date(2026, 1, 1))] == [date(2025, 4, 1)]
    assert lic.reports_due(issued(conditions=()), (), date(2026, 1, 1)) == ()


@given(
    every=st.integers(7, 120),
    today=st.dates(START, END + timedelta(days=400)),
    skip=st.integers(0, 10),
)
def test_reporting_on_every_due_date_is_never_flagged(every: int, today: date, skip: int) -> None:
    licence = reporting(every)
    due = [
        START + timedelta(days=every * k) for k in range(1, 200) if START + timedelta(days=every * k) <= END
    ]
    assert lic.reports_due(licence, tuple(due), today) == ()
    if skip < len(due):
        missing = tuple(d for i, d in enumerate(due) if i != skip)
        flags = lic.reports_due(licence, missing, today)
        assert [f.due_on for f in flags] == ([due[skip]] if today > due[skip] else [])


# --- state machine -----------------------------------------------------------------------------------------

ACTORS = st.sampled_from([VENDOR, OFFICER, SENIOR, SYSTEM])


class LicenceMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.licence = issued()
        self.today = START
        self.ever_final: LicenceState | None = None

    def apply(self, result: tuple[Licence, Event]) -> None:
        new, event = result
        assert new.version == event.version == self.licence.version + 1
        assert (event.from_state, event.to_state) == (self.licence.state, new.state)
        self.licence = new

    def attempt(self, call: Callable[[], tuple[Licence, Event]], legal: bool) -> None:
        """A legal transition must work; an illegal one must be refused and change nothing."""
        if legal:
            return self.apply(call())
        before = self.licence
        refused(call)
        assert self.licence is before

    @rule(days=st.integers(0, 400))
    def time_passes(self, days: int) -> None:
        self.today += timedelta(days=days)

    @rule(actor=ACTORS)
    def suspend(self, actor: Actor) -> None:
        call = partial(lic.suspend, self.licence, actor, AT, "alleged")
        legal = actor.is_officer and self.licence.state == L.ACTIVE
        self.attempt(call, legal)

    @rule(actor=ACTORS)
    def reinstate(self, actor: Actor) -> None:
        call = partial(lic.reinstate, self.licence, actor, AT, "cleared", self.today)
        legal = actor.is_officer and self.licence.state == L.SUSPENDED and self.today <= END
        self.attempt(call, legal)

    @rule(actor=ACTORS)
    def revoke(self, actor: Actor) -> None:
        call = partial(lic.revoke, self.licence, actor, AT, "substantiated")
        legal = actor.is_officer and self.licence.state in lic.LIVE
        self.attempt(call, legal)

    @rule(actor=ACTORS)
    def expire(self, actor: Actor) -> None:
        call = partial(lic.expire, self.licence, self.today, actor, AT)
        legal = actor != VENDOR and self.licence.state in lic.LIVE and self.today > END
        self.attempt(call, legal)

    @invariant()
    def final_states_stay_final(self) -> None:
        if self.ever_final is not None:
            assert self.licence.state == self.ever_final
        if self.licence.state in (L.REVOKED, L.EXPIRED):
            self.ever_final = self.licence.state
            assert self.licence.ended_on is not None

    @invariant()
    def in_force_only_when_active_and_valid(self) -> None:
        if lic.in_force(self.licence, self.today):
            assert self.licence.state == L.ACTIVE and self.today <= END


LicenceMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)
TestLicenceMachine = LicenceMachine.TestCase
