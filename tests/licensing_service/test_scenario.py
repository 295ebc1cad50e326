"""Issue 5's "Done when" through the services, on SQLite and PostgreSQL: a vendor registers an offensive tool
at the concept stage, passes the gates with required changes an officer confirms, obtains a marketing and
an export licence to a vetted tier-A government end user (signed declaration, two approvers), is refused for
a listed end user, and sees the licence suspended by a misuse report that also lowers the end user's
partner tier, after which that partner's TAXII access follows at its next request; all of it in the
history."""

from __future__ import annotations

from fastapi.testclient import TestClient

from gesher.exchange.node import Node
from gesher.licensing.applications import ApplicationState
from gesher.licensing.catalog import GesherTier
from gesher.licensing.conditions import GovernmentEndUserOnly, LicenceKind, NoReexport
from gesher.licensing.gates import Stage
from gesher.licensing.history import TransitionRefused
from gesher.licensing.licences import LicenceState
from gesher.licensing.misuse import LowerPartnerTier, MisuseFinding, SuspendLicence
from gesher.licensing_service import history, misuse, projects
from gesher.partners import organisations, service
from gesher.stix import constants as c
from gesher.store import licensing as store
from gesher.store import vetting as records
from tests.api.test_policy_paths import add, marked, served_ids, use_policy
from tests.conftest import World
from tests.factories import malware
from tests.licensing_service.helpers import (
    END_USER,
    EXPLOIT_PLATFORM,
    LISTED,
    OFFICER,
    SENIOR,
    VENDOR,
    advance,
    decide,
    export_facts,
    file,
    load_national_list,
    project_through,
    register,
    review_and_confirm,
    snapshot,
    tx,
)

TIERED_POLICY = (
    "version: 2\nrules:\n  - {name: close, trust_tiers: [1, 2], max_tlp: GREEN, max_tier: defensive}\n"
)


def test_done_when(client: TestClient, world: World, node: Node) -> None:
    # The end user is also a partner of the exchange (`reader`, tier 1), served GREEN while in tiers 1-2.
    tx(node, lambda conn: organisations.set_record(
        conn, "test", service.require_partner(conn, "reader"), legal_name=END_USER
    ))  # fmt: skip
    use_policy(node, TIERED_POLICY)
    green = marked(malware(), [c.TLP2_GREEN])
    add(client, world, green)
    assert green["id"] in served_ids(client, world, "reader")

    # an offensive tool at the concept stage
    assert register(node) == GesherTier.OFFENSIVE
    project = project_through(node, Stage.CONCEPT)
    assert project.stage == Stage.CONCEPT

    # a gate with a required change does not pass until an officer confirms it
    pid = project.id
    tx(node, lambda conn: projects.review_gate(
        node, conn, OFFICER, pid, Stage.DEVELOPMENT, ("no leak controls",), ("add leak controls",)
    ))  # fmt: skip
    before = snapshot(node)
    refused(lambda: advance(node, pid), "GATE_NOT_PASSED")
    assert snapshot(node) == before
    tx(node, lambda conn: projects.confirm_change(node, conn, SENIOR, pid, "RC-2", "leak controls seen"))
    project = advance(node, pid)
    project = review_and_confirm(node, project, Stage.TESTING)
    project = advance(node, pid)
    assert project.stage == Stage.TESTING

    # a marketing licence, then the MARKETING gate
    marketing_app = file(node, LicenceKind.MARKETING, ("GB", "NO"))
    assert marketing_app.state == ApplicationState.CLASSIFICATION
    marketing_app, marketing = decide(node, marketing_app)
    assert marketing_app.state == ApplicationState.APPROVED and marketing is not None
    assert marketing.countries == ("GB", "NO") and marketing.state == LicenceState.ACTIVE
    project = advance(node, review_and_confirm(node, project, Stage.MARKETING).id)
    assert project.stage == Stage.MARKETING

    # an export licence to a vetted tier-A government end user, two distinct approvers
    export_app = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    assert export_app.state == ApplicationState.CLASSIFICATION
    assert export_app.recommendation is not None and export_app.recommendation.verdict == "approve"
    export_app, export = decide(node, export_app)
    assert export_app.state == ApplicationState.APPROVED and export is not None
    assert export_app.decided_by == (OFFICER.id, SENIOR.id)
    assert {GovernmentEndUserOnly(), NoReexport()} <= set(export.conditions)
    assert export.end_user == END_USER and export.marketing_licence == marketing.id

    # refused for a listed end user: screening at submission denies it at once
    load_national_list(node)
    listed = file(node, LicenceKind.EXPORT, **export_facts(marketing, end_user=LISTED))
    assert listed.state == ApplicationState.DENIED
    assert "confirmed match" in listed.decision_reason
    with node.db.read() as conn:
        screened = records.screenings_of(conn, f"application:{listed.id}")
        assert screened and screened[0].outcome == "match" and screened[0].lists == {"national": "1"}

    # a misuse report: the licence is suspended at once; once substantiated, the partner's tier is lowered
    report = tx(node, lambda conn: misuse.receive(
        node, conn, OFFICER, "Amnesty Tech", "implant found on a journalist's phone",
        licences=(export.id,), country="GB", end_user=END_USER,
    ))  # fmt: skip
    applied = tx(node, lambda conn: misuse.act(
        node, conn, SENIOR, report.id, (SuspendLicence(export.id),), "credible allegation"
    ))  # fmt: skip
    assert [x.id for x in applied.cascade.suspended_licences] == [export.id]
    tx(node, lambda conn: misuse.investigate(
        node, conn, OFFICER, report.id, MisuseFinding.SUBSTANTIATED, "forensic report verified"
    ))  # fmt: skip
    lowered = tx(node, lambda conn: misuse.act(
        node, conn, SENIOR, report.id, (LowerPartnerTier("reader", 1, 3),), "end user misused the tool"
    ))  # fmt: skip
    assert lowered.partners_lowered == ("reader",) and lowered.report.state == "actioned"

    with node.db.read() as conn:
        assert store.load(conn, store.LICENCE, export.id).state == LicenceState.SUSPENDED  # type: ignore[union-attr]
        assert store.load(conn, store.LICENCE, marketing.id).state == LicenceState.ACTIVE  # type: ignore[union-attr]
        assert service.principal_by_name(conn, "reader").entitlement.trust_tier == 3
    # the sharing policy follows at the partner's next request
    assert green["id"] not in served_ids(client, world, "reader")

    # all of it in the history
    with node.db.read() as conn:
        events = store.events(conn)
        assert [e.action for e in store.events(conn, "licence", export.id)] == ["issue", "suspend"]
        vendor_view = history.history_of(conn, VENDOR, "licence", export.id)
    assert {e.subject_kind for e in events} >= {
        "item",
        "project",
        "application",
        "licence",
        "misuse",
        "partner",
    }
    assert all(e.actor and e.reason and e.at for e in events)
    assert [e.action for e in vendor_view] == ["issue", "suspend"]
    gates = [e for e in events if e.subject_kind == "project" and e.action == "review-gate"]
    assert ("required_change", "RC-2: add leak controls") in gates[1].details
    assert [e.to_state for e in events if e.subject_id == listed.id][-1] == "denied"


def refused(call: object, code: str) -> TransitionRefused:
    try:
        call()  # type: ignore[operator]
    except TransitionRefused as error:
        assert error.code == code, error.description
        return error
    raise AssertionError("not refused")


def test_export_application_screens_the_item_and_gates(node: Node) -> None:
    """Without the MARKETING gate passed the export recommendation is a hard denial at screening."""
    register(node)
    project_through(node, Stage.TESTING)
    _, marketing = decide(node, file(node, LicenceKind.MARKETING))
    assert marketing is not None
    denied = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    assert denied.state == ApplicationState.DENIED
    assert denied.recommendation is not None and "GATES_NOT_PASSED" in denied.recommendation.codes()
    assert EXPLOIT_PLATFORM.name == denied.item
