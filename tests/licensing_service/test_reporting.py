"""Reports due under licence conditions (issue 5: "periodic reports due under licence conditions are
tracked; a missed report raises a flag"), through the services on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gesher.errors import InvalidRequest, NotFound
from gesher.exchange.node import Node
from gesher.licensing.conditions import ReportingDuty
from gesher.licensing.licences import Licence
from gesher.licensing_service import reporting
from gesher.store import licensing as store
from tests.licensing_service.helpers import OFFICER, OTHER_VENDOR, VENDOR, licensed, tx


def _duty_days(licence: Licence) -> int:
    duties = [c for c in licence.conditions if isinstance(c, ReportingDuty)]
    assert duties, "an offensive export licence carries a reporting duty"
    return duties[0].every_days


def _actions(node: Node, licence: Licence) -> list[str]:
    return [e.action for e in tx(node, lambda c: store.events(c, "licence", licence.id))]


def test_a_missed_report_is_flagged_once_and_a_filed_one_answers_its_period(node: Node) -> None:
    _, _, export = licensed(node)
    first_due = export.valid_from + timedelta(days=_duty_days(export))
    late = first_due + timedelta(days=30)

    swept = tx(node, lambda c: reporting.sweep(node, c, OFFICER, today=late))
    assert [m.licence for m in swept.flagged] == [export.id]
    assert swept.flagged[0].due_on == first_due
    again = tx(node, lambda c: reporting.sweep(node, c, OFFICER, today=late))
    assert again.flagged == () and [m.due_on for m in again.missed] == [first_due]  # flagged once, still due

    tx(node, lambda c: reporting.record_report(node, c, VENDOR, export.id, date.today(), "usage: 3 warrants"))
    answered = tx(node, lambda c: reporting.sweep(node, c, OFFICER, today=late))
    assert answered.missed == () and answered.flagged == ()
    actions = _actions(node, export)
    assert actions.count(reporting.MISSED) == 1 and actions.count(reporting.RECEIVED) == 1


def test_nothing_is_due_before_the_first_period_ends(node: Node) -> None:
    _, _, export = licensed(node)
    early = export.valid_from + timedelta(days=_duty_days(export) - 1)
    assert tx(node, lambda c: reporting.sweep(node, c, OFFICER, today=early)).missed == ()


def test_reports_are_refused_from_another_vendor_without_a_summary_or_out_of_range(node: Node) -> None:
    _, _, export = licensed(node)
    with pytest.raises(NotFound):
        tx(node, lambda c: reporting.record_report(node, c, OTHER_VENDOR, export.id, date.today(), "x"))
    with pytest.raises(InvalidRequest, match="summary"):
        tx(node, lambda c: reporting.record_report(node, c, VENDOR, export.id, date.today(), " "))
    tomorrow = date.today() + timedelta(days=1)
    with pytest.raises(InvalidRequest, match="outside"):
        tx(node, lambda c: reporting.record_report(node, c, VENDOR, export.id, tomorrow, "early"))
    assert reporting.RECEIVED not in _actions(node, export)
