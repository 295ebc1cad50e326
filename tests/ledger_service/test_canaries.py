"""Leak tracing through the exchange, on both stores: canaries issued to 50 recipients reach each its own
recipient and nobody else through the one policy function, and a leaked copy names its recipient with the
ledger's evidence (issuance entry, disclosure entries); administrators' reads are listed apart."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient

from gesher.errors import InvalidRequest, NotFound
from gesher.exchange.node import Node
from gesher.ledger.canary import CanaryKind
from gesher.ledger.entries import Kind, decode
from gesher.ledger_service import canaries
from gesher.ledger_service.canaries import ID_MATCH, Leak, UnreadableLeak, read_leak, trace_leak
from gesher.store import ledger as ledger_store
from tests.conftest import TAXII
from tests.e2e.stix_check import errors_of
from tests.ledger_service.leak_world import (
    INTEL,
    LEAKER,
    RECIPIENTS,
    LeakWorld,
    canary_values,
    leaked_bundle,
)

PERIOD = "2026-11"


def issue(node: Node, **options: object) -> canaries.Issuance:
    with node.db.write() as conn:
        return canaries.issue(conn, node, "cli:alice", "amber", options.pop("period", PERIOD), **options)  # type: ignore[arg-type]


def trace(node: Node, document: object) -> canaries.Trace:
    with node.db.read() as conn:
        return trace_leak(conn, node, read_leak(orjson.dumps(document)))


def ledger_size(node: Node) -> int:
    with node.db.read() as conn:
        return ledger_store.entry_count(conn)


def test_fifty_recipients_get_only_their_own_canaries_and_the_leak_of_37_names_it(
    node: Node, client: TestClient
) -> None:
    world = LeakWorld.build(node)
    issued = issue(node)
    assert [i.recipient for i in issued.issued] == RECIPIENTS
    assert dict(issued.skipped).keys() == {"admin", "newcomer"}
    assert "not vetted" in dict(issued.skipped)["newcomer"]
    assert all(i.reaches for i in issued.issued) and issued.stored == 150  # 50 markings, 100 indicators
    entries = [i.entry for i in issued.issued]
    assert entries == list(range(entries[0], entries[0] + 50))  # one append, in one transaction
    mine = {i.recipient: {c.value for c in i.canaries} for i in issued.issued}
    markings = {i.recipient: i.marking for i in issued.issued}

    pulled: dict[str, tuple[list[dict[str, object]], int | None]] = {}
    for name in RECIPIENTS:
        objects, _ = pulled[name] = world.pull(client, name)
        assert canary_values(objects) == mine[name]  # its own two, none of the 49 others'
        ids = {str(o["id"]) for o in objects}
        assert set(world.intel) <= ids and len(objects) == INTEL + 3  # intelligence, 2 canaries, 1 marking
        assert ids & set(markings.values()) == {markings[name]}
    for served in pulled[LEAKER][0]:
        errors, _ = errors_of(orjson.dumps(served))
        assert errors == [], served
    theirs = issued.issued[37].objects[0]  # another recipient's canary, asked for by id: as if absent
    response = client.get(
        f"/taxii2/gesher/collections/{world.collection}/objects/{theirs}/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.tokens[RECIPIENTS[0]]}"},
    )
    assert response.status_code == 404
    everything, admin_index = world.pull(client, "admin")
    assert canary_values(everything) == set().union(*mine.values())
    newcomer, _ = world.pull(client, "newcomer")  # unvetted: TLP:CLEAR public material only
    assert canary_values(newcomer) == set()

    leak = leaked_bundle(pulled[LEAKER][0], strip="domain-name")  # one kind removed, the rest shuffled
    result = trace(node, leak)
    (finding,) = result.findings
    assert finding.recipient == LEAKER and finding.confidence == 1.0
    assert {m.kind for m in finding.matches} == {CanaryKind.SHA256.value, ID_MATCH}
    assert [i.index for i in finding.issuances] == [issued.issued[37].entry]
    assert [d.index for d in finding.disclosures] == [pulled[LEAKER][1]]
    (disclosure,) = finding.disclosures
    assert disclosure.partner == LEAKER and disclosure.endpoint.endswith(f"{world.collection}/objects/")
    assert len(disclosure.identical) == 1  # the hash canary left byte for byte as served
    assert [(d.partner, d.index, d.rules) for d in result.others] == [
        ("admin", admin_index, ("administrator",))
    ]
    assert result.served_all == ("admin", LEAKER)
    assert result.collections == {world.collection: "amber"}


def test_an_administrators_view_is_not_a_recipients_leak(node: Node, client: TestClient) -> None:
    five = RECIPIENTS[:5]
    world = LeakWorld.build(node, five)
    issue(node)
    own = {name: world.pull(client, name)[1] for name in five}
    everything, admin_index = world.pull(client, "admin")
    result = trace(node, {"objects": everything})
    assert [f.recipient for f in result.findings] == sorted(five)
    for finding in result.findings:  # each recipient's evidence is its own disclosure, never the admin's
        assert [d.index for d in finding.disclosures] == [own[finding.recipient]]
        assert finding.confidence == pytest.approx(0.2)
    assert result.served_all == ("admin",)  # no recipient received all of it: the administrator did
    assert [d.index for d in result.others] == [admin_index]


def test_a_leak_with_canaries_of_two_recipients_names_both(node: Node, client: TestClient) -> None:
    world = LeakWorld.build(node, RECIPIENTS[:5])
    issue(node)
    first, _ = world.pull(client, RECIPIENTS[1])
    second, _ = world.pull(client, RECIPIENTS[3])
    without_hash = [o for o in first if "[file:" not in str(o.get("pattern", ""))]
    result = trace(node, {"objects": [*second, *without_hash]})
    assert [f.recipient for f in result.findings] == [RECIPIENTS[3], RECIPIENTS[1]]  # 2 canaries, then 1
    assert [round(f.confidence, 2) for f in result.findings] == [0.67, 0.33]
    assert result.served_all == ()  # nobody was served all three (the administrator never pulled)


def test_values_only_and_manifests_count_as_naming_not_serving(node: Node, client: TestClient) -> None:
    world = LeakWorld.build(node, RECIPIENTS[:3])
    issued = issue(node)
    response = client.get(
        f"/taxii2/gesher/collections/{world.collection}/manifest/",
        headers={"Accept": TAXII, "Authorization": f"Bearer {world.tokens[RECIPIENTS[2]]}"},
    )
    assert response.status_code == 200 and "X-Gesher-Ledger-Index" in response.headers
    values = [c.value.upper() for c in issued.issued[2].canaries]  # a pasted list, shouted
    with node.db.read() as conn:
        result = trace_leak(conn, node, read_leak("\n".join(values).encode()))
    (finding,) = result.findings
    assert finding.recipient == RECIPIENTS[2] and finding.canaries == 2
    assert finding.disclosures == ()  # a manifest names the canary objects but does not serve them


def test_reissuing_is_idempotent_and_a_new_period_or_zone_issues_new_canaries(
    node: Node, client: TestClient
) -> None:
    world = LeakWorld.build(node, RECIPIENTS[:3])
    first = issue(node)
    everything, _ = world.pull(client, "admin")
    size = ledger_size(node)
    again = issue(node)
    assert again.stored == 0 and all(i.entry is None for i in again.issued)
    assert [i.objects for i in again.issued] == [i.objects for i in first.issued]
    assert ledger_size(node) == size  # no ingest entry, no canary entry: nothing happened
    assert len(world.pull(client, "admin")[0]) == len(everything)

    later = issue(node, period="2026-12")
    assert later.stored == 6 and all(i.entry is not None for i in later.issued)
    assert not {o for i in later.issued for o in i.objects} & {o for i in first.issued for o in i.objects}

    moved = Node.open(node.settings.model_copy(update={"canary_zone": "telemetry.example.org"}), node.db)
    with node.db.write() as conn:
        rezoned = canaries.issue(conn, moved, "cli:alice", "amber", PERIOD, [RECIPIENTS[0]])
    (one,) = rezoned.issued
    assert one.entry is not None and rezoned.stored == 2  # new objects (same marking), new entry
    assert {c.value.split(".")[0] for c in one.canaries if c.kind is CanaryKind.DOMAIN} == {
        c.value.split(".")[0] for c in first.issued[0].canaries if c.kind is CanaryKind.DOMAIN
    }
    result = trace(node, [c.value for c in one.canaries])
    (finding,) = result.findings
    assert {i.index for i in finding.issuances} == {first.issued[0].entry, one.entry}


def test_the_issuance_is_one_ledger_entry_per_recipient(node: Node) -> None:
    LeakWorld.build(node, RECIPIENTS[:2])
    issued = issue(node)
    with node.db.read() as conn:
        found = [(i, decode(b)) for i, b in ledger_store.bodies_of_kind(conn, Kind.CANARY.value)]
    assert [i for i, _ in found] == [i.entry for i in issued.issued]
    _, entry = found[1]
    assert entry.actor == "cli:alice"
    assert entry.fields == {
        "recipient": RECIPIENTS[1],
        "scope": issued.collection.id,
        "period": PERIOD,
        "tags": [c.tag for c in issued.issued[1].canaries],
        "objects": list(issued.issued[1].objects),
    }


def test_named_recipients_are_checked(node: Node) -> None:
    LeakWorld.build(node, RECIPIENTS[:2])
    size = ledger_size(node)
    with pytest.raises(NotFound, match="nobody"):
        issue(node, recipients=[RECIPIENTS[0], "nobody"])
    with pytest.raises(InvalidRequest, match="administrator"):
        issue(node, recipients=["admin"])
    with pytest.raises(InvalidRequest, match="YYYY-MM"):
        issue(node, period="2026-13")
    assert ledger_size(node) == size and trace(node, ["x"]).issued == 0  # nothing was issued
    (newcomer,) = issue(node, recipients=["newcomer", "newcomer "]).issued
    assert not newcomer.reaches and any("not vetted" in line for line in newcomer.why_not)


def test_canaries_are_plausible_keyed_and_dated_before_their_period() -> None:
    key, other = bytes(range(32)), bytes(range(1, 33))
    marking, indicators, values = canaries.render_objects(key, "cert-01", "c-1", PERIOD, "cdn.example.net")
    assert [i["pattern"] for i in indicators] == [v.pattern for v in values]
    for obj in (marking, *indicators):
        assert errors_of(orjson.dumps(obj))[0] == []
    assert "canary" not in orjson.dumps(indicators).decode().lower()
    again = canaries.render_objects(other, "cert-01", "c-1", PERIOD, "cdn.example.net")
    assert marking["id"] != again[0]["id"]  # not derivable from the recipient's name without the key
    assert {i["id"] for i in indicators}.isdisjoint(i["id"] for i in again[1])
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in indicators:
        created = datetime.fromisoformat(str(i["created"]).replace("Z", "+00:00"))
        assert (start - created).days < 30 and created < start and i["valid_from"] == i["created"]
        assert i["object_marking_refs"] == [
            "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            marking["id"],
        ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b" \n\t", "empty"),
        (bytes(range(256)), "not UTF-8"),
        (b"abc\x00def", "binary"),
        (b'{"objects": [', "not valid JSON"),
        (b"[1, 2", "not valid JSON"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_unreadable_leaks_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableLeak, match=message):
        read_leak(data)


def test_leaks_are_read_as_json_gzip_or_text() -> None:
    envelope = {
        "objects": [{"type": "indicator", "id": "indicator--1", "pattern": "[file:hashes.'SHA-256' = 'AB']"}]
    }
    leak = read_leak(gzip.compress(orjson.dumps(envelope)))
    assert {"indicator--1", "ab"} <= leak.values
    assert leak.object_hashes == {hashlib.sha256(orjson.dumps(envelope["objects"][0])).hexdigest()}
    text = read_leak("\ufeffone.example\n\n  TWO.example[.]net  \n".encode())
    assert {"one.example", "two.example.net"} <= text.values and text.object_hashes == frozenset()
    assert isinstance(read_leak(b"x"), Leak)
