"""The overview per item, vendor and country (issue 5 "Everything recorded"), on SQLite and PostgreSQL: what
is licensed where with its state today, what was refused and why, what is open; officers see every vendor's,
a vendor its own without the officers' parts of a refusal; CSV has one row per record."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from gesher.exchange.node import Node
from gesher.licensing.conditions import LicenceKind
from gesher.licensing.history import Actor, Role
from gesher.licensing_service import applications, catalog, overview
from gesher.licensing_service.overview import By
from tests.licensing.helpers import EDR
from tests.licensing_service.helpers import (
    LISTED,
    OFFICER,
    OTHER_VENDOR,
    VENDOR,
    VENDOR_ORG,
    export_facts,
    file,
    licensed,
    load_national_list,
    tx,
)

OSPREY = OTHER_VENDOR.organisation


@dataclass(frozen=True)
class Recorded:
    marketing: str
    export: str
    refused: str
    kestrel_open: str
    osprey_open: str


def recorded(node: Node) -> Recorded:
    """Kestrel: a marketing licence (GB), an export licence (GB), a refused export (listed end user) and a
    marketing application open for NO; Osprey: a defensive item with an open marketing application (DE)."""
    load_national_list(node)
    _, marketing, export = licensed(node)
    refused = file(node, LicenceKind.EXPORT, **export_facts(marketing, end_user=LISTED))
    pending = file(node, LicenceKind.MARKETING, ("NO",))
    tx(node, lambda c: catalog.register_item(node, c, OTHER_VENDOR, EDR))
    osprey = tx(
        node, lambda c: applications.draft(node, c, OTHER_VENDOR, LicenceKind.MARKETING, EDR.name, ("DE",))
    )
    tx(node, lambda c: applications.submit(node, c, OTHER_VENDOR, osprey.id))
    return Recorded(marketing.id, export.id, refused.id, pending.id, osprey.id)


def report(node: Node, actor: Actor, by: By) -> dict[str, overview.Group]:
    with node.db.read() as conn:
        return {g.key: g for g in overview.overview(conn, actor, by)}


def test_by_country_officers_see_everything(node: Node) -> None:
    done = recorded(node)
    groups = report(node, OFFICER, By.COUNTRY)
    assert set(groups) == {"GB", "NO", "DE"}
    gb = groups["GB"]
    assert {x.licence for x in gb.licensed} == {done.marketing, done.export} and gb.in_force == 2
    (denial,) = gb.refused
    assert denial.application == done.refused and LISTED in denial.reason
    assert "LISTED_PARTY" in denial.codes and denial.decided_by == ("system",)
    assert [p.application for p in groups["NO"].pending] == [done.kestrel_open]
    assert [p.application for p in groups["DE"].pending] == [done.osprey_open]


def test_by_vendor_and_item(node: Node) -> None:
    recorded(node)
    by_vendor = report(node, OFFICER, By.VENDOR)
    assert set(by_vendor) == {VENDOR_ORG, OSPREY}
    assert len(by_vendor[VENDOR_ORG].licensed) == 2 and by_vendor[OSPREY].licensed == ()
    by_item = report(node, OFFICER, By.ITEM)
    assert set(by_item) == {"Harrier delivery platform", EDR.name}


def test_a_vendor_reads_its_own_without_the_officers_parts(node: Node) -> None:
    recorded(node)
    kestrel = report(node, VENDOR, By.COUNTRY)
    assert set(kestrel) == {"GB", "NO"}  # nothing of Osprey's application in DE
    (denial,) = kestrel["GB"].refused
    assert LISTED in denial.reason and denial.codes == () and denial.decided_by == ()
    osprey = report(node, OTHER_VENDOR, By.VENDOR)
    assert set(osprey) == {OSPREY}
    stranger = Actor("x@nowhere", Role.VENDOR, "Nowhere Ltd")
    assert report(node, stranger, By.ITEM) == {}


def test_csv_has_one_row_per_record(node: Node) -> None:
    done = recorded(node)
    with node.db.read() as conn:
        text = overview.as_csv(overview.overview(conn, OFFICER, By.ITEM))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == overview.COLUMNS
    harrier = {(r["record"], r["id"]) for r in rows if r["group"] == "Harrier delivery platform"}
    assert {("licence", done.marketing), ("licence", done.export), ("refused", done.refused)} <= harrier
    denial = next(r for r in rows if r["id"] == done.refused)
    assert (
        denial["state"] == "denied" and "LISTED_PARTY" in denial["codes"] and denial["decided_by"] == "system"
    )
