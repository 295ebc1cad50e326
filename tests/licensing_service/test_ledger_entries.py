"""Licensing decisions are disclosure-ledger entries (issue 6 "What is logged"), written in the same
transaction as the decision: approvals and denials of applications, every change of a licence's state, a
denied party; not the steps between."""

from __future__ import annotations

from gesher.exchange.node import Node
from gesher.ledger.entries import Kind, decode
from gesher.licensing_service import licences
from gesher.store import ledger as ledger_store
from tests.licensing_service.helpers import OFFICER, licensed, tx


def licence_entries(node: Node) -> list[tuple[str, str, str]]:
    with node.db.read() as conn:
        found = [decode(body) for _, _, _, _, body, _ in ledger_store.entries(conn)]
    return [(e.fields["subject"], e.fields["decision"], e.actor) for e in found if e.kind is Kind.LICENCE]


def test_approvals_issued_licences_and_a_suspension_are_ledger_entries(node: Node) -> None:
    _, marketing, export = licensed(node)
    recorded = licence_entries(node)
    subjects = [subject for subject, _, _ in recorded]
    assert f"licence:{marketing.id}" in subjects and f"licence:{export.id}" in subjects
    assert any(d.startswith("approve:") for s, d, _ in recorded if s.startswith("application:"))
    assert not any(d.startswith(("submit", "screen")) for _, d, _ in recorded)
    tx(node, lambda conn: licences.suspend(node, conn, OFFICER, export.id, "end use under review"))
    subject, decision, actor = licence_entries(node)[-1]
    assert (subject, decision, actor) == (f"licence:{export.id}", "suspend: active -> suspended", OFFICER.id)
