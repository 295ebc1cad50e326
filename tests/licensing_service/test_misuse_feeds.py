"""Substantiated misuse feeds later recommendations, on SQLite and PostgreSQL (issue 5): once a misuse report
is actioned on a substantiated finding, a later application to the same end user presumes denial (only a
senior officer overrides it), one to the same destination or from the same vendor is referred, each with
the report quoted; reports not substantiated, or not yet actioned, weigh nothing."""

from __future__ import annotations

from gesher.exchange.node import Node
from gesher.licensing.applications import Application, ApplicationState
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.misuse import MisuseFinding, SuspendLicence
from gesher.licensing.recommend import Verdict
from gesher.licensing_service import applications, misuse, misuse_records
from tests.licensing_service.helpers import (
    END_USER,
    OFFICER,
    OFFICER_2,
    SENIOR,
    VENDOR_ORG,
    export_facts,
    file,
    licensed,
    tx,
)
from tests.licensing_service.test_scenario import refused

ALLEGATION = "implant found on a journalist's phone"


def reported(node: Node, finding: MisuseFinding, licence: str, act: bool = True) -> str:
    """A report about `licence`, investigated with `finding`, and (if `act`) actioned: a substantiated one
    suspends the licence, another closes with no action."""
    report = tx(
        node, lambda c: misuse.receive(node, c, OFFICER, "Amnesty Tech", ALLEGATION, licences=(licence,))
    )
    tx(node, lambda c: misuse.investigate(node, c, OFFICER, report.id, finding, "forensic report verified"))
    if act:
        actions = (SuspendLicence(licence),) if finding == MisuseFinding.SUBSTANTIATED else ()
        tx(node, lambda c: misuse.act(node, c, SENIOR, report.id, actions, "acting on the finding"))
    return report.id


def misuse_reasons(app: Application) -> dict[str, str]:
    assert app.recommendation is not None
    return {r.code: r.text for r in app.recommendation.reasons if r.rule == "misuse_reports"}


def test_a_substantiated_report_weighs_on_the_next_application(node: Node) -> None:
    _, marketing, export = licensed(node)
    report = reported(node, MisuseFinding.SUBSTANTIATED, export.id)
    with node.db.read() as conn:
        (record,) = misuse_records.substantiated(conn)
    assert record.report == report and record.parties == (END_USER,) and record.countries == ("GB",)
    assert record.vendors == (VENDOR_ORG,)

    again = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    assert again.state == ApplicationState.CLASSIFICATION  # not hard-denied: a person decides
    assert again.recommendation is not None and again.recommendation.verdict == Verdict.PRESUME_DENIAL
    found = misuse_reasons(again)
    assert set(found) == {"MISUSE_REPORT_PARTY", "MISUSE_REPORT_COUNTRY", "MISUSE_REPORT_VENDOR"}
    assert report in found["MISUSE_REPORT_PARTY"] and ALLEGATION in found["MISUSE_REPORT_PARTY"]
    assert f"end user {END_USER}" in found["MISUSE_REPORT_PARTY"]

    # two officers cannot approve it; a senior officer among them can, in writing
    tx(node, lambda c: applications.confirm_classification(node, c, OFFICER, again.id))
    tx(node, lambda c: applications.approve(node, c, OFFICER, again.id, "the unit involved was disbanded"))
    refused(
        lambda: tx(node, lambda c: applications.approve(node, c, OFFICER_2, again.id, "concur")),
        "SENIOR_REQUIRED",
    )
    done = tx(node, lambda c: applications.approve(node, c, SENIOR, again.id, "override, in writing"))
    assert done.application.state == ApplicationState.APPROVED and done.licence is not None


def test_the_same_vendor_elsewhere_is_referred(node: Node) -> None:
    _, _, export = licensed(node)
    reported(node, MisuseFinding.SUBSTANTIATED, export.id)
    marketing = file(node, LicenceKind.MARKETING, ("NO",))
    assert marketing.recommendation is not None and marketing.recommendation.verdict == Verdict.REFER
    assert set(misuse_reasons(marketing)) == {"MISUSE_REPORT_VENDOR"}


def test_reports_not_substantiated_or_not_actioned_weigh_nothing(node: Node) -> None:
    _, marketing, export = licensed(node)
    reported(node, MisuseFinding.UNSUBSTANTIATED, export.id)
    reported(node, MisuseFinding.SUBSTANTIATED, export.id, act=False)  # investigated, no action yet
    reported(node, MisuseFinding.INCONCLUSIVE, export.id)
    with node.db.read() as conn:
        assert misuse_records.substantiated(conn) == ()
    again = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    assert misuse_reasons(again) == {}
    assert again.recommendation is not None and again.recommendation.verdict == Verdict.APPROVE
