"""Misuse reports and their cascade (reference/export_control.md 2.5; issue 5 "Misuse and monitoring"):
received -> investigated -> actioned, the actions each finding allows, and everything an action changes at
once: licences, open applications, denied parties, country and partner tiers."""

from __future__ import annotations

import dataclasses
from datetime import date
from functools import partial

import pytest

from gesher.errors import InvalidRequest
from gesher.licensing import applications as apps
from gesher.licensing import misuse
from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.catalog import GesherTier
from gesher.licensing.conditions import LicenceKind, TargetClass, mandatory_conditions
from gesher.licensing.licences import Licence, LicenceState
from gesher.licensing.misuse import (
    DenyEndUser,
    LowerCountryTier,
    LowerPartnerTier,
    MisuseFinding,
    MisuseReport,
    MisuseState,
    RevokeLicence,
    SuspendLicence,
)
from gesher.policy.entitlement import TrustTier
from gesher.vetting.countries import ExportTier
from tests.licensing.helpers import (
    AT,
    OFFICER,
    SENIOR,
    SYSTEM,
    VENDOR,
    export_application,
    in_review,
    refused,
)

POLICE = "Norwegian Police Security Service"
START, END = date(2025, 1, 1), date(2026, 12, 31)


def licence(lid: str, kind: LicenceKind = LicenceKind.EXPORT, **changes: object) -> Licence:
    values: dict[str, object] = {
        "id": lid,
        "kind": kind,
        "application": f"app-{lid}",
        "vendor": "Kestrel Cyber Ltd",
        "item": "Harrier delivery platform",
        "tier": GesherTier.OFFENSIVE,
        "countries": ("NO",),
        "valid_from": START,
        "valid_until": END,
        "conditions": mandatory_conditions(GesherTier.OFFENSIVE, kind),
        "end_user": POLICE if kind == LicenceKind.EXPORT else "",
        "marketing_licence": "ML-1" if kind == LicenceKind.EXPORT else None,
    }
    values.update(changes)
    return Licence(**values)


MARKETING = licence("ML-1", LicenceKind.MARKETING, countries=("NO", "JP"))
OFFENSIVE_NO = licence("EL-1")
DUAL_USE_NO = licence("EL-2", tier=GesherTier.DUAL_USE, end_user="Oslo Bank", marketing_licence=None)
OFFENSIVE_JP = licence("EL-3", countries=("JP",), end_user="Japan National Police Agency")
REVOKED_NO = licence("EL-4", state=LicenceState.REVOKED, ended_on=date(2025, 3, 1))
LICENCES = (MARKETING, OFFENSIVE_NO, DUAL_USE_NO, OFFENSIVE_JP, REVOKED_NO)


def application(aid: str, state: str = "review", **changes: object) -> Application:
    app = in_review(export_application(id=aid, **changes))
    if state == "draft":
        return dataclasses.replace(app, state=ApplicationState.DRAFT, recommendation=None)
    if state == "approved":
        once, _ = apps.approve(app, OFFICER, AT, "ok")
        return apps.approve(once, SENIOR, AT, "ok")[0]
    return app


OPEN_NO = application("A-1")
DRAFT_NO = application("A-2", "draft")
BROKERED_JP = application("A-3", countries=("JP",), end_user="Japan NPA", intermediaries=(POLICE,))
DECIDED_NO = application("A-4", "approved")
OTHER_JP = application("A-5", countries=("JP",), end_user="Japan NPA", marketing_licence="ML-9")
APPLICATIONS = (OPEN_NO, DRAFT_NO, BROKERED_JP, DECIDED_NO, OTHER_JP)


def run(*actions: misuse.Action) -> misuse.Cascade:
    return misuse.cascade_all(actions, APPLICATIONS, LICENCES, SENIOR, AT, "misuse report M-1 substantiated")


def ids(states: tuple[Licence, ...] | tuple[Application, ...]) -> set[str]:
    return {s.id for s in states}


# --- the report's own states -------------------------------------------------------------------------------


def report(**changes: object) -> MisuseReport:
    new = MisuseReport(
        "M-1",
        "Citizen Lab",
        "Predator-style implant found on two journalists' phones",
        licences=("EL-1",),
        country="NO",
        end_user=POLICE,
        targets=frozenset({TargetClass.JOURNALISTS}),
    )
    received, event = misuse.receive(dataclasses.replace(new, **changes), SYSTEM, AT)
    assert (event.action, event.to_state, received.version) == ("receive", "received", 1)
    return received


def test_a_report_runs_received_investigated_actioned() -> None:
    received = report()
    interim, event = misuse.act(received, (SuspendLicence("EL-1"),), OFFICER, AT, "credible allegation")
    assert interim.state == MisuseState.RECEIVED and event.action == "interim-action"
    refused(
        lambda: misuse.act(received, (RevokeLicence("EL-1"),), OFFICER, AT, "too early"), "ACTION_NOT_ALLOWED"
    )
    refused(lambda: misuse.act(received, (), OFFICER, AT, "nothing"), "NO_ACTION")
    refused(
        lambda: misuse.investigate(received, MisuseFinding.SUBSTANTIATED, VENDOR, AT, "x"), "OFFICER_REQUIRED"
    )
    no_reason = partial(misuse.investigate, interim, MisuseFinding.SUBSTANTIATED, OFFICER, AT, "")
    refused(no_reason, "REASON_REQUIRED")
    found, _ = misuse.investigate(interim, MisuseFinding.SUBSTANTIATED, OFFICER, AT, "forensic traces")
    refused(
        lambda: misuse.investigate(found, MisuseFinding.INCONCLUSIVE, OFFICER, AT, "again"), "WRONG_STATE"
    )
    actions = (RevokeLicence("EL-1"), DenyEndUser(POLICE), LowerCountryTier("NO", ExportTier.A, ExportTier.B))
    actioned, event = misuse.act(found, actions, SENIOR, AT, "revoke, deny and downgrade")
    assert actioned.state == MisuseState.ACTIONED and len(actioned.actions) == 4
    assert ("action", "DenyEndUser(party='Norwegian Police Security Service')") in event.details
    refused(lambda: misuse.act(actioned, (SuspendLicence("EL-3"),), SENIOR, AT, "more"), "WRONG_STATE")
    refused(lambda: misuse.receive(actioned, SYSTEM, AT), "NOT_NEW")
    refused(lambda: misuse.receive(dataclasses.replace(actioned, version=0), VENDOR, AT), "OFFICER_REQUIRED")


@pytest.mark.parametrize(
    ("finding", "allowed", "refused_action"),
    [
        (MisuseFinding.INCONCLUSIVE, (SuspendLicence("EL-1"),), RevokeLicence("EL-1")),
        (MisuseFinding.UNSUBSTANTIATED, (), SuspendLicence("EL-1")),
    ],
)
def test_weaker_findings_allow_fewer_actions(
    finding: MisuseFinding, allowed: tuple[misuse.Action, ...], refused_action: misuse.Action
) -> None:
    found, _ = misuse.investigate(report(), finding, OFFICER, AT, "investigated")
    refused(lambda: misuse.act(found, (refused_action,), OFFICER, AT, "x"), "ACTION_NOT_ALLOWED")
    closed, _ = misuse.act(found, allowed, OFFICER, AT, "closed")
    assert closed.state == MisuseState.ACTIONED


def test_actions_are_checked() -> None:
    with pytest.raises(InvalidRequest):
        LowerCountryTier("NO", ExportTier.B, ExportTier.A)
    with pytest.raises(InvalidRequest):
        LowerCountryTier("NO", None, ExportTier.C)  # on no list is already below C
    LowerCountryTier("NO", ExportTier.C, None)
    with pytest.raises(InvalidRequest):
        LowerPartnerTier("CERT-X", TrustTier.LIMITED, TrustTier.TRUSTED)
    with pytest.raises(InvalidRequest):
        MisuseReport("M-2", "", "summary")


def test_breached_conditions() -> None:
    [breach] = misuse.breached_conditions(report(), OFFENSIVE_NO)
    assert breach.startswith("EL-1: never against human-rights-defenders, journalists")
    assert breach.endswith("(reported: journalists)")
    assert misuse.breached_conditions(report(targets=frozenset({"foreign-officials"})), OFFENSIVE_NO) == ()


# --- cascade -----------------------------------------------------------------------------------------------


def test_suspending_a_licence() -> None:
    result = run(SuspendLicence("EL-1"))
    assert ids(result.suspended_licences) == {"EL-1"} and not result.revoked_licences
    assert result.suspended_licences[0].state == LicenceState.SUSPENDED
    assert [e.subject for e in result.events] == ["licence:EL-1"]
    marketing = run(SuspendLicence("ML-1"))
    assert set(marketing.rescreen) == {"A-1", "A-3"}  # open export applications citing ML-1
    assert run(SuspendLicence("EL-4")) == misuse.Cascade()  # already revoked: nothing to change


def test_revoking_a_marketing_licence() -> None:
    result = run(RevokeLicence("ML-1"))
    assert ids(result.revoked_licences) == {"ML-1"}
    assert ids(result.refused_applications) == {"A-1", "A-3"}
    assert all(a.state == ApplicationState.DENIED for a in result.refused_applications)
    assert ids(result.suspended_licences) == {"EL-1", "EL-3"}  # export licences issued under it, for review
    suspensions = [e for e in result.events if e.action == "suspend"]
    assert suspensions and all(e.reason.startswith("marketing licence ML-1 revoked") for e in suspensions)


def test_denying_an_end_user() -> None:
    result = run(DenyEndUser("norwegian police security service "))
    assert ids(result.refused_applications) == {"A-1", "A-3"}  # as end user, and as an intermediary
    assert ids(result.revoked_licences) == {"EL-1"}  # EL-4 was already revoked
    assert result.denied_parties == ("norwegian police security service ",)
    assert not ids(result.suspended_licences)
    untouched = {"A-2", "A-4", "A-5"}  # a draft (screening will deny it), a decided one, another end user
    assert not untouched & ids(result.refused_applications)


def test_lowering_a_country_tier() -> None:
    to_b = run(LowerCountryTier("no", ExportTier.A, ExportTier.B))
    # offensive items stay in tier A only: the export licence, and the marketing licence covering NO and JP
    # (suspended whole, pending re-review: narrowing a licence is an officer's new decision)
    assert ids(to_b.suspended_licences) == {"ML-1", "EL-1"}
    assert set(to_b.rereview) == {"EL-2"}
    assert set(to_b.rescreen) == {"A-1"}
    assert to_b.country_tier_changes == (LowerCountryTier("no", ExportTier.A, ExportTier.B),)
    embargoed = run(LowerCountryTier("NO", ExportTier.A, ExportTier.EMBARGOED))
    assert ids(embargoed.suspended_licences) == {"ML-1", "EL-1", "EL-2"}
    assert embargoed.rereview == ()
    assert not misuse.allowed_in(GesherTier.DEFENSIVE, ExportTier.EMBARGOED)
    assert misuse.allowed_in(GesherTier.DUAL_USE, None)


def test_lowering_a_partner_tier() -> None:
    change = LowerPartnerTier("CERT-NO", TrustTier.CLOSEST, TrustTier.LIMITED)
    assert run(change) == misuse.Cascade(partner_tier_changes=(change,))


def test_several_actions_each_see_the_earlier_ones() -> None:
    result = run(
        SuspendLicence("EL-1"),
        RevokeLicence("EL-1"),
        DenyEndUser(POLICE),
        LowerCountryTier("NO", ExportTier.A, ExportTier.B),
        LowerPartnerTier("CERT-NO", TrustTier.CLOSEST, TrustTier.TRUSTED),
    )
    assert ids(result.revoked_licences) == {"EL-1"} and ids(result.suspended_licences) == {"ML-1"}
    assert ids(result.refused_applications) == {"A-1", "A-3"}
    assert "A-1" not in result.rescreen  # refused already
    assert [e.action for e in result.events if e.subject == "licence:EL-1"] == ["suspend", "revoke"]
    assert [e.version for e in result.events if e.subject == "licence:EL-1"] == [2, 3]
    assert result.denied_parties == (POLICE,)
    assert len(result.country_tier_changes) == len(result.partner_tier_changes) == 1


def test_the_cascade_is_pure_and_an_officer_s_act() -> None:
    before = (APPLICATIONS, LICENCES)
    run(DenyEndUser(POLICE), LowerCountryTier("NO", ExportTier.A, ExportTier.EMBARGOED))
    assert before == (APPLICATIONS, LICENCES)
    assert OFFENSIVE_NO.state == LicenceState.ACTIVE and OPEN_NO.state == ApplicationState.REVIEW
    refused(lambda: misuse.cascade(SuspendLicence("EL-1"), APPLICATIONS, LICENCES, VENDOR, AT, "x"))
    with pytest.raises(InvalidRequest):
        run(SuspendLicence("EL-99"))
