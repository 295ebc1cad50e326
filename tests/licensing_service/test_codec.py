"""The store's JSON codec gives back exactly the pure core's states (pure: no database)."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from gesher.licensing import applications as apps
from gesher.licensing import gates, licences
from gesher.licensing.catalog import CarveOut, classify
from gesher.licensing.conditions import (
    EndUseLimit,
    GovernmentToGovernmentOnly,
    ProhibitedTargets,
    ReportingDuty,
    TargetClass,
)
from gesher.licensing.misuse import (
    DenyEndUser,
    LowerCountryTier,
    LowerPartnerTier,
    MisuseFinding,
    MisuseReport,
    RevokeLicence,
    SuspendLicence,
)
from gesher.policy.entitlement import TrustTier
from gesher.store.licensing_codec import dumps, loads
from gesher.vetting.countries import ExportTier
from tests.licensing.helpers import AT, EXPLOIT_PLATFORM, OFFICER, OFFICER_2, SENIOR, in_review, project_at


def _values() -> list[object]:
    item = dataclasses.replace(EXPLOIT_PLATFORM, carve_outs=frozenset({CarveOut.BASIC_UPDATES}))
    project = project_at(gates.Stage.TESTING)
    review = gates.GateReview(
        gates.Stage.MARKETING, OFFICER.id, ("f",), (gates.RequiredChange("RC-9", "x"),), ("c",)
    )
    project, _ = gates.review_gate(project, review, OFFICER, AT)
    project, event = gates.confirm_change(project, "RC-9", OFFICER_2, AT, "seen")
    conditions = (
        EndUseLimit(8),
        ReportingDuty(30, 5),
        ProhibitedTargets(frozenset({TargetClass.JOURNALISTS, TargetClass.OWN_NATIONALS})),
        GovernmentToGovernmentOnly(),
    )
    app, _ = apps.approve(in_review(), OFFICER, AT, "ok", conditions)
    app, _ = apps.approve(app, SENIOR, AT, "ok")
    licence, _ = licences.issue(app, "EL-1", date(2025, 6, 1), date(2026, 5, 31), OFFICER, AT)
    revoked, _ = licences.revoke(licence, OFFICER, AT, "misuse")
    report = MisuseReport(
        "M-1", "Amnesty Tech", "implant", ("EL-1",), "NO", "X", frozenset({TargetClass.JOURNALISTS}),
        state="investigated", finding=MisuseFinding.SUBSTANTIATED,  # type: ignore[arg-type]
        actions=(SuspendLicence("EL-1"), RevokeLicence("EL-1"), DenyEndUser("X"),
                 LowerCountryTier("NO", ExportTier.A, None),
                 LowerPartnerTier("p", TrustTier.CLOSEST, TrustTier.LIMITED)),
    )  # fmt: skip
    return [item, classify(item), project, event, app, licence, revoked, report]


@pytest.mark.parametrize("value", _values(), ids=lambda v: type(v).__name__)
def test_round_trip(value: object) -> None:
    text = dumps(value)
    assert loads(type(value), text) == value
    assert dumps(loads(type(value), text)) == text  # deterministic (frozensets sorted)
