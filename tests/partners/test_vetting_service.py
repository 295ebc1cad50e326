"""Partner vetting through the services, on SQLite and PostgreSQL (issue 4).

A new list version that names a partner cuts it off in the same transaction (suspended, tokens revoked, a
`listed` event); a list version loads once; a partner inherits its owners' hits, however far up the chain;
delisting opens a review and never reinstates; an officer's tier decision needs a vetting and a reason and
cannot lift a hard denial; every screening is recorded with its list versions; the history only grows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from gesher.errors import Conflict, InvalidRequest
from gesher.exchange.node import Node
from gesher.partners import organisations, service, vetting, watchlists
from gesher.partners.vetting import Rescreen
from gesher.screening import WatchlistFileError
from gesher.screening.loaders import shipped_file
from gesher.store import partners as partner_store
from gesher.store import vetting as records
from gesher.store import watchlists as watchlist_store
from gesher.store.partners import PartnerRow
from gesher.store.vetting import VettingEvent

OFFICER = "cli:officer"
HEADER = "id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,citation\n"
# Version 1 of a national list: two people and a company, none of them a partner's name yet.
V1 = HEADER + (
    "p-roe,Person,Yael Ben-Harush,,,IL,2024-01-10,,National,Order 1\n"
    "p-doe,Person,Dov Kalmanovich,,,IL,2024-01-10,,National,Order 1\n"
    "c-evil,Company,Vantablack Intrusion Systems Ltd,,,CY,2024-01-10,,National,Order 1\n"
)
# Version 2 adds the company behind partner `kestrel`.
V2 = V1 + "c-kestrel,Company,Kestrel Dynamics Ltd,,,GB,2025-02-01,,National,Order 2\n"
# Version 3 removes Yael Ben-Harush (removed_on) and keeps Dov Kalmanovich.
V3 = V2.replace("Yael Ben-Harush,,,IL,2024-01-10,,", "Yael Ben-Harush,,,IL,2024-01-10,2025-03-01,")
NSO = "NSO Group Technologies Ltd"  # on the shipped spyware list
SHIPPED_BYTES = shipped_file()


@dataclass
class Exchange:
    node: Node
    tokens: dict[str, str]

    def partner(self, name: str) -> PartnerRow:
        with self.node.db.read() as conn:
            return service.require_partner(conn, name)

    def events(self, name: str) -> list[VettingEvent]:
        with self.node.db.read() as conn:
            return records.events_of(conn, self.partner(name).id)

    def can_authenticate(self, name: str) -> bool:
        with self.node.db.read() as conn:
            return service.authenticate(conn, self.tokens[name], name) is not None

    def load(self, text: str, version: str, filename: str = "national.csv") -> Rescreen:
        with self.node.db.write() as conn:
            return watchlists.update(
                self.node, conn, OFFICER, text, filename, "new", "national", version, date(2025, 3, 2)
            ).rescreen

    def vet(self, name: str) -> vetting.Vetting:
        with self.node.db.write() as conn:
            return vetting.vet(self.node, conn, OFFICER, service.require_partner(conn, name))

    def owner(self, name: str, owner: str, share: float | None = 0.6) -> None:
        with self.node.db.write() as conn:
            organisations.set_owner(conn, OFFICER, service.require_partner(conn, name), owner, None, share)

    def approve(self, name: str, tier: int | None, reason: str = "checked") -> VettingEvent:
        with self.node.db.write() as conn:
            return vetting.approve_tier(conn, OFFICER, service.require_partner(conn, name), tier, reason)


# name: (country, kind, legal name)
PARTNERS = {
    "kestrel": ("GB", "industry", "Kestrel Dynamics Ltd"),
    "harrier": ("GB", "industry", "Harrier Analytics Ltd"),
    "alpha": ("DE", "industry", "Alpha Sicherheit GmbH"),
    "beta": ("FR", "industry", "Beta Cyber SAS"),
}


@pytest.fixture
def ex(node: Node) -> Exchange:
    tokens = {}
    with node.db.write() as conn:
        for name, (country, kind, legal) in PARTNERS.items():
            partner, tokens[name] = service.create_partner(conn, "test", name, country, kind)
            organisations.set_record(conn, "test", partner, legal_name=legal)
        service.create_partner(conn, "test", "admin", "GB", "government", True)
    return Exchange(node, tokens)


def _snapshot(ex: Exchange) -> tuple[object, ...]:
    with ex.node.db.read() as conn:
        events = [records.events_of(conn, p.id) for p in partner_store.all_partners(conn)]
        return (watchlist_store.history(conn), events, partner_store.all_partners(conn))


# --- list updates ---------------------------------------------------------------------------------------


def test_a_new_list_version_cuts_the_named_partner_off_at_once(ex: Exchange) -> None:
    first = ex.load(V1, "1")
    assert (first.cut_off, first.delisted) == ((), ())
    assert ex.can_authenticate("kestrel") and not ex.partner("kestrel").suspended

    second = ex.load(V2, "2")

    assert second.cut_off == ("kestrel",)
    assert ex.partner("kestrel").suspended and not ex.can_authenticate("kestrel")
    listed = ex.events("kestrel")[-1]
    assert listed.action == "listed" and listed.actor == OFFICER
    assert "Kestrel Dynamics Ltd (national 2)" in listed.reason
    assert ex.can_authenticate("harrier") and not ex.partner("harrier").suspended


def test_a_list_version_loads_once_and_a_refused_load_changes_nothing(ex: Exchange) -> None:
    ex.load(V1, "1")
    before = _snapshot(ex)
    with pytest.raises(Conflict, match="version '1' is already loaded"):
        ex.load(V2, "1")  # other content, same version: a list changes by a new version only
    assert _snapshot(ex) == before
    assert ex.can_authenticate("kestrel")


def test_a_malformed_file_is_refused_whole_with_its_position(ex: Exchange) -> None:
    bad = V2 + "c-x,Company,Half A Record\n"
    with pytest.raises(WatchlistFileError, match=r"national\.csv: line 6 \(record 5\)") as refused:
        ex.load(bad, "2")
    assert refused.value.status == 422
    assert _snapshot(ex)[0] == []
    assert ex.can_authenticate("kestrel")


def test_loading_again_is_not_a_second_cut_off(ex: Exchange) -> None:
    ex.load(V2, "2")
    events = ex.events("kestrel")
    again = ex.load(V2.replace("Order 2", "Order 2 (corrected)"), "2.1")
    assert again.cut_off == ()
    assert ex.events("kestrel") == events


# --- ownership ----------------------------------------------------------------------------------------------


def _owner_reasons(v: vetting.Vetting) -> str:
    return " | ".join(r.text for r in v.assessment.reasons)


def test_a_partner_owned_by_a_listed_company_is_blocked(ex: Exchange) -> None:
    with ex.node.db.write() as conn:
        watchlists.load(conn, OFFICER, SHIPPED_BYTES, "spyware_watchlist.json", "shipped")
    ex.owner("harrier", NSO, 0.51)

    v = ex.vet("harrier")

    assert v.assessment.blocking and v.assessment.proposed_tier is None
    assert NSO in _owner_reasons(v)
    assert [(o.organisation.legal_name, s.outcome) for o, s in v.owners] == [(NSO, "match")]
    assert v.cut_off and not ex.can_authenticate("harrier")
    assert f"owner {NSO}" in ex.events("harrier")[-1].reason


def test_an_owner_two_levels_up_is_inherited_too(ex: Exchange) -> None:
    """kestrel <- Alpha Sicherheit GmbH (partner alpha's record) <- NSO: both partners are blocked."""
    with ex.node.db.write() as conn:
        watchlists.load(conn, OFFICER, SHIPPED_BYTES, "spyware_watchlist.json", "shipped")
    ex.owner("alpha", NSO, 1.0)
    ex.owner("kestrel", "Alpha Sicherheit GmbH", 0.3)

    v = ex.vet("kestrel")

    owners = {o.organisation.legal_name: (o.via, s.outcome) for o, s in v.owners}
    # The shipped file has a confidential list too: a name without a hit is unknown, not clear.
    assert owners == {"Alpha Sicherheit GmbH": ("", "unknown"), NSO: ("Alpha Sicherheit GmbH", "match")}
    assert v.assessment.blocking and NSO in _owner_reasons(v)
    assert v.cut_off and ex.partner("kestrel").suspended
    rescreen = ex.load(V1, "1")  # a later list update re-screens the chain too: both stay cut off
    assert rescreen.cut_off == ("alpha",)
    assert ex.partner("alpha").suspended and ex.partner("kestrel").suspended


# --- partial delisting ----------------------------------------------------------------------------------


def test_partial_delisting_opens_a_review_and_never_reinstates(ex: Exchange) -> None:
    ex.owner("alpha", "Yael Ben-Harush", 0.4)
    ex.owner("beta", "Dov Kalmanovich", 0.4)
    assert set(ex.load(V1, "1").cut_off) == {"alpha", "beta"}
    beta_events = ex.events("beta")

    after = ex.load(V3, "3")

    assert after.delisted == ("alpha",) and after.cut_off == ("kestrel",)
    review = ex.events("alpha")[-1]
    assert review.action == "delisting-review" and review.actor == OFFICER
    assert ex.partner("alpha").suspended and not ex.can_authenticate("alpha")
    assert ex.events("beta") == beta_events  # still listed: no new event, still cut off
    assert ex.partner("beta").suspended and beta_events[-1].action == "listed"
    later = ex.load(V3 + "c-new,Company,Osprey Offensive Ltd,,,CY,2025-03-01,,National,Order 3\n", "4")
    assert "alpha" not in later.cut_off + later.delisted
    assert ex.partner("alpha").suspended and ex.events("alpha")[-1] == review


def test_a_delisting_opens_a_review_even_after_an_officer_looked_at_the_listing(ex: Exchange) -> None:
    ex.owner("alpha", "Yael Ben-Harush", 0.4)
    ex.load(V1, "1")
    revetted = ex.vet("alpha")  # the officer looks again: still listed, not cut off a second time
    assert not revetted.cut_off and revetted.assessment.blocking
    ex.approve("alpha", None, "no tier while listed")
    assert [e.action for e in ex.events("alpha")].count("listed") == 1

    after = ex.load(V3, "3")

    assert after.delisted == ("alpha",)
    assert ex.events("alpha")[-1].action == "delisting-review"
    assert ex.partner("alpha").suspended


def test_one_open_screening_review_until_an_officer_acts(ex: Exchange) -> None:
    kin = V1 + "c-kes,Company,Kestrel Dynamix Holdings,,,GB,2025-02-01,,National,Order 2\n"
    first = ex.load(kin, "1")
    assert first.review == ("kestrel",)  # a look-alike in the review band, not a match
    ex.load(kin.replace("Order 2", "Order 2b"), "2")
    reviews = [e for e in ex.events("kestrel") if e.action == "screening-review"]
    assert len(reviews) == 1
    ex.vet("kestrel")
    ex.load(kin.replace("Order 2", "Order 2c"), "3")
    assert [e.action for e in ex.events("kestrel")].count("screening-review") == 2


# --- approving a tier ---------------------------------------------------------------------------------------


def test_an_officer_approves_or_overrides_the_proposed_tier(ex: Exchange) -> None:
    ex.load(V1, "1")
    proposed = ex.vet("harrier").assessment.proposed_tier
    assert proposed is not None

    approved = ex.approve("harrier", int(proposed), "matches the assessment")
    assert (approved.action, approved.tier, approved.proposed_tier) == ("approved", proposed, proposed)
    assert ex.partner("harrier").trust_tier == proposed

    other = 4 if proposed != 4 else 3
    overridden = ex.approve("harrier", other, "limited engagement so far")
    assert (overridden.action, overridden.tier, overridden.reason) == (
        "overridden",
        other,
        "limited engagement so far",
    )
    assert ex.partner("harrier").trust_tier == other
    assert ex.approve("harrier", None, "paused").action == "overridden"
    assert ex.partner("harrier").trust_tier is None


def test_a_tier_needs_a_vetting_a_reason_and_a_valid_value(ex: Exchange) -> None:
    ex.load(V1, "1")
    with pytest.raises(Conflict, match="has not been vetted yet"):
        ex.approve("harrier", 2)
    ex.vet("harrier")
    with pytest.raises(InvalidRequest, match="reason is required"):
        ex.approve("harrier", 2, "   ")
    for bad in (0, 5, -1):
        with pytest.raises(InvalidRequest, match="must be 1"):
            ex.approve("harrier", bad)
    assert [e.action for e in ex.events("harrier")] == ["assessed"]


def test_no_tier_for_a_blocked_partner(ex: Exchange) -> None:
    with ex.node.db.write() as conn:
        watchlists.load(conn, OFFICER, SHIPPED_BYTES, "spyware_watchlist.json", "shipped")
    ex.owner("harrier", NSO)
    ex.vet("harrier")
    with pytest.raises(Conflict, match="hard denial"):
        ex.approve("harrier", 3)
    confirmed = ex.approve("harrier", None, "denied: owned by NSO")
    assert (confirmed.action, confirmed.tier) == ("approved", None)
    assert ex.partner("harrier").suspended


# --- records --------------------------------------------------------------------------------------------


def test_every_screening_is_recorded_with_its_list_versions(ex: Exchange) -> None:
    ex.load(V1, "1")
    ex.owner("harrier", "Vantablack Intrusion Systems Ltd")
    ex.vet("harrier")
    ex.load(V2, "2")
    with ex.node.db.read() as conn:
        own = records.screenings_of(conn, "partner:harrier")
        record = organisations.record_of(conn, ex.partner("harrier"))
        (owner,), _ = organisations.ownership_chain(conn, record)
        owned = records.screenings_of(conn, f"organisation:{owner.organisation.id}")
    # newest first: the re-screening after version 2, the vetting, the re-screening after version 1
    assert [s.lists for s in own] == [{"national": "2"}, {"national": "1"}, {"national": "1"}]
    assert [s.query for s in own] == ["Harrier Analytics Ltd"] * 3
    assert all(s.actor == OFFICER for s in own)
    assert [(s.outcome, s.lists) for s in owned] == [
        ("match", {"national": "2"}),
        ("match", {"national": "1"}),
    ]
    assert owned[0].result["candidates"][0]["entry_name"] == "Vantablack Intrusion Systems Ltd"


def test_the_vetting_history_only_grows(ex: Exchange) -> None:
    seen: list[VettingEvent] = []

    def grew() -> None:
        now = ex.events("alpha")
        assert now[: len(seen)] == seen and len(now) > len(seen)
        seen[:] = now

    ex.load(V1, "1")
    ex.vet("alpha")
    grew()
    ex.approve("alpha", 4, "new partner")
    grew()
    ex.owner("alpha", "Yael Ben-Harush")
    ex.vet("alpha")  # assessed, then listed
    grew()
    ex.load(V3, "3")  # delisting review
    grew()
    ex.approve("alpha", None, "kept suspended pending review")
    grew()
    assert [e.action for e in seen] == [
        "assessed",
        "approved" if seen[1].proposed_tier == 4 else "overridden",
        "assessed",
        "listed",
        "delisting-review",
        seen[-1].action,
    ]


# --- inputs that could break every later screening --------------------------------------------------------


def test_a_name_screening_cannot_read_is_refused_when_entered(ex: Exchange) -> None:
    """Otherwise every later vetting, and every watchlist load (which re-screens everyone), would fail."""
    with ex.node.db.write() as conn:
        harrier = service.require_partner(conn, "harrier")
        for bad in ("!!!", "\u200b", "-- / --"):
            with pytest.raises(InvalidRequest, match="letters or digits"):
                organisations.set_record(conn, OFFICER, harrier, legal_name=bad)
            with pytest.raises(InvalidRequest, match="letters or digits"):
                organisations.set_owner(conn, OFFICER, harrier, bad, None, 0.5)
    assert ex.load(V1, "1").screened == len(PARTNERS)


def test_a_csv_with_a_byte_order_mark_loads_and_screens(ex: Exchange) -> None:
    with ex.node.db.write() as conn:
        data = b"\xef\xbb\xbf" + V2.encode()
        day = date(2025, 3, 2)
        done = watchlists.update(ex.node, conn, OFFICER, data, "bom.csv", "r", "national", "2", day)
    assert done.rescreen.cut_off == ("kestrel",)


def test_overlong_list_names_and_versions_are_refused_on_every_store(ex: Exchange) -> None:
    with ex.node.db.write() as conn:
        with pytest.raises(WatchlistFileError, match="version"):
            watchlists.load(conn, OFFICER, V1, "national.csv", "r", "national", "9" * 101, date(2025, 1, 1))
        with pytest.raises(WatchlistFileError, match="name"):
            watchlists.load(conn, OFFICER, V1, "national.csv", "r", "n" * 201, "1", date(2025, 1, 1))
    assert _snapshot(ex)[0] == []
