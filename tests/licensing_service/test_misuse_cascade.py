"""A misuse report's actions cascade at once, in one transaction, on SQLite and PostgreSQL: denying the end
user refuses its open applications, revokes its licences and adds it to a new version of the national
denied-parties list, which cuts off a partner it matches; lowering a country's tier suspends the offensive
licences there and is recorded for the next recommendations; a stale tier is a conflict."""

from __future__ import annotations

import pytest

from gesher.errors import Conflict
from gesher.exchange.node import Node
from gesher.licensing.applications import ApplicationState
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.history import TransitionRefused
from gesher.licensing.licences import LicenceState
from gesher.licensing.misuse import DenyEndUser, LowerCountryTier, MisuseFinding, RevokeLicence
from gesher.licensing_service import applications, misuse
from gesher.partners import organisations, service
from gesher.store import licensing as store
from gesher.store import watchlists as watchlist_store
from gesher.vetting.countries import ExportTier
from tests.licensing_service.helpers import (
    END_USER,
    OFFICER,
    SENIOR,
    VENDOR,
    export_facts,
    file,
    licensed,
    snapshot,
    tx,
)


def substantiated(node: Node, **facts: object) -> str:
    report = tx(
        node, lambda c: misuse.receive(node, c, OFFICER, "Citizen Lab", "targeting of dissidents", **facts)
    )  # type: ignore[arg-type]
    tx(
        node,
        lambda c: misuse.investigate(node, c, OFFICER, report.id, MisuseFinding.SUBSTANTIATED, "verified"),
    )
    return report.id


def test_denying_the_end_user_cascades_to_applications_licences_and_partners(node: Node) -> None:
    _, marketing, export = licensed(node)
    with node.db.write() as conn:
        partner, _ = service.create_partner(conn, "test", "nca", "GB", "government")
        organisations.set_record(conn, "test", partner, legal_name=END_USER)
        service.set_standing(conn, "test", partner, "vetted", trust_tier=1)
    pending = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    assert pending.state == ApplicationState.CLASSIFICATION

    report = substantiated(node, end_user=END_USER, country="GB")
    applied = tx(node, lambda c: misuse.act(node, c, SENIOR, report, (DenyEndUser(END_USER),), "misused"))

    assert applied.cascade.denied_parties == (END_USER,)
    assert applied.denied_list is not None and applied.denied_list.rescreen.cut_off == ("nca",)
    with node.db.read() as conn:
        assert store.load(conn, store.LICENCE, export.id).state == LicenceState.REVOKED  # type: ignore[union-attr]
        assert store.load(conn, store.LICENCE, marketing.id).state == LicenceState.ACTIVE  # type: ignore[union-attr]
        refused = store.load(conn, store.APPLICATION, pending.id)
        assert refused is not None and refused.state == ApplicationState.DENIED
        assert END_USER in refused.decision_reason
        assert misuse.denied_parties(conn) == [END_USER]
        nca = service.require_partner(conn, "nca")
        assert nca.suspended and service.authenticate(conn, "x", "nca") is None
        assert [(w.name, w.version) for w in watchlist_store.in_force(conn)] == [
            ("national-denied-parties", "1")
        ]
        actions = {(e.subject_kind, e.action) for e in store.events(conn)}
    assert {("party", "deny-end-user"), ("licence", "revoke"), ("application", "deny")} <= actions

    # the next application to the denied end user is refused at screening
    again = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    assert again.state == ApplicationState.DENIED and "LISTED_PARTY" in again.recommendation.codes()  # type: ignore[union-attr]


def test_lowering_a_country_suspends_offensive_licences_there(node: Node) -> None:
    _, marketing, export = licensed(node)
    report = substantiated(node, country="GB")
    change = LowerCountryTier("GB", ExportTier.A, ExportTier.B)
    applied = tx(node, lambda c: misuse.act(node, c, SENIOR, report, (change,), "hosted misuse"))
    assert {x.id for x in applied.cascade.suspended_licences} == {marketing.id, export.id}
    with node.db.read() as conn:
        facts = applications.country_facts(node, conn, "GB")
        [recorded] = store.events(conn, "country", "GB")
    assert facts.export_tier == ExportTier.B and facts.downgraded_after_misuse
    assert (recorded.from_state, recorded.to_state) == ("A", "B")
    # stale: GB is no longer tier A
    report2 = substantiated(node, country="GB")
    before = snapshot(node)
    with pytest.raises(Conflict, match="read it again"):
        tx(node, lambda c: misuse.act(node, c, SENIOR, report2, (change,), "again"))
    assert snapshot(node) == before


def test_revoking_a_marketing_licence_refuses_the_exports_citing_it(node: Node) -> None:
    _, marketing, export = licensed(node)
    pending = file(node, LicenceKind.EXPORT, **export_facts(marketing))
    report = substantiated(node)
    tx(
        node,
        lambda c: misuse.act(node, c, SENIOR, report, (RevokeLicence(marketing.id),), "marketing to abusers"),
    )
    with node.db.read() as conn:
        assert store.load(conn, store.LICENCE, marketing.id).state == LicenceState.REVOKED  # type: ignore[union-attr]
        assert store.load(conn, store.LICENCE, export.id).state == LicenceState.SUSPENDED  # type: ignore[union-attr]
        assert store.load(conn, store.APPLICATION, pending.id).state == ApplicationState.DENIED  # type: ignore[union-attr]


def test_a_misuse_report_is_officers_business(node: Node) -> None:
    report = substantiated(node)
    with node.db.read() as conn, pytest.raises(TransitionRefused):
        misuse.report_of(conn, VENDOR, report)
