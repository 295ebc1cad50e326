"""The disclosure ledger as a running exchange keeps it (issue 6), on SQLite and PostgreSQL: every act and
every response is an entry written in the same transaction (or before a byte is sent), what is recorded is
exactly what was served, partners verify receipts with only the public key, and the exchange refuses to
act or serve when its ledger cannot be appended (fail closed)."""

from __future__ import annotations

import hashlib
import stat

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update

from gesher.api.app import create_app
from gesher.errors import ConfigurationError, Unavailable
from gesher.exchange import policies, release
from gesher.exchange.node import Node
from gesher.ledger import entries
from gesher.ledger.checkpoint import b64decode, b64encode, generate_signer, split_note
from gesher.ledger.entries import Kind, decode
from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import MerkleLog, leaf_hash
from gesher.ledger.receipt import verify_consistency, verify_receipt_document
from gesher.ledger_service import keys
from gesher.ledger_service.log import restore
from gesher.ledger_service.verify import verify
from gesher.partners import service
from gesher.settings import Settings
from gesher.store import ledger as store
from gesher.store.tables import ledger_checkpoints, ledger_entries, ledger_head
from gesher.store.tables import objects as stix_objects
from tests.conftest import TAXII, WORLD_POLICY, World
from tests.factories import envelope, indicator

HEADER = "X-Gesher-Ledger-Index"


def post(client: TestClient, world: World, who: str, collection_id: str, *objs: dict[str, object]) -> None:
    r = client.post(
        f"/taxii2/gesher/collections/{collection_id}/objects/",
        content=orjson.dumps(envelope(*objs)),
        headers=world.headers(who, **{"Content-Type": TAXII}),
    )
    assert r.status_code == 202 and r.json()["success_count"] == len(objs), r.text


def objects_path(world: World) -> str:
    return f"/taxii2/gesher/collections/{world.intel.id}/objects/"


def recorded(node: Node) -> list[entries.Entry]:
    with node.db.read() as conn:
        return [decode(body) for _, _, _, _, body, _ in store.entries(conn)]


def vkey(client: TestClient, world: World) -> str:
    found = client.get("/ledger/v1/keys", headers=world.headers("reader")).json()["keys"]
    return str(found[-1]["vkey"])


def check(node: Node) -> None:
    with node.db.read() as conn:
        result = verify(conn, node.ledger.verifiers(conn), node.ledger.origin)
    assert result.ok, result.problem


@pytest.fixture
def stocked(client: TestClient, world: World) -> list[dict[str, object]]:
    objs = [indicator(f"evil{i}.example") for i in range(5)]
    post(client, world, "writer", world.intel.id, *objs)
    return objs


def test_every_act_is_an_entry_and_indices_are_dense(node: Node, world: World, stocked: list) -> None:
    kinds = [e.kind for e in recorded(node)]
    # the published definitions, the world's partners' tiers, its policy, then the writer's batch
    assert kinds.count(Kind.INGEST) == 2 and kinds.count(Kind.POLICY) == 1 and kinds.count(Kind.TIER) == 4
    with node.db.read() as conn:
        assert [row[0] for row in store.entries(conn)] == list(range(len(kinds)))
    check(node)


def test_an_ingest_entry_holds_the_hash_of_each_stored_version(
    node: Node, world: World, stocked: list
) -> None:
    batch = [e for e in recorded(node) if e.kind is Kind.INGEST][-1]
    assert batch.fields["source"] == "partner:writer" and batch.fields["collection"] == world.intel.id
    with node.db.read() as conn:
        bodies = dict(conn.execute(select(stix_objects.c.object_id, stix_objects.c.body)).all())
    assert {o for o, _, _ in batch.fields["objects"]} == {o["id"] for o in stocked}
    for object_id, _, sha256 in batch.fields["objects"]:
        assert hashlib.sha256(bodies[object_id]).hexdigest() == sha256


def served_objects(body: bytes) -> list[bytes]:
    """Each object's exact bytes in an envelope (orjson writes a list as its items' own serialisations)."""
    return [orjson.dumps(o) for o in orjson.loads(body)["objects"]]


def test_a_response_is_one_disclosure_entry_of_exactly_the_bytes_served(
    client: TestClient, node: Node, world: World, stocked: list
) -> None:
    r = client.get(objects_path(world), headers=world.headers("reader"))
    assert r.status_code == 200
    index = int(r.headers[HEADER])
    entry = recorded(node)[index]
    assert entry.kind is Kind.DISCLOSURE and entry.fields["partner"] == "reader"
    assert entry.fields["endpoint"] == objects_path(world)
    served = entries.served(entry)
    sent = served_objects(r.content)
    assert [s.sha256 for s in served] == [hashlib.sha256(b).hexdigest() for b in sent]
    assert [s.object_id for s in served] == [orjson.loads(b)["id"] for b in sent]
    assert {s.rule for s in served} == {"rule test-partners"}


def test_manifest_and_versions_are_disclosures_too_and_empty_pages_are_not(
    client: TestClient, node: Node, world: World, stocked: list
) -> None:
    manifest = client.get(
        f"/taxii2/gesher/collections/{world.intel.id}/manifest/", headers=world.headers("reader")
    )
    entry = recorded(node)[int(manifest.headers[HEADER])]
    records = orjson.loads(manifest.content)["objects"]
    assert [s.sha256 for s in entries.served(entry)] == [
        hashlib.sha256(orjson.dumps(r)).hexdigest() for r in records
    ]
    one = stocked[0]["id"]
    versions = client.get(f"{objects_path(world)}{one}/versions/", headers=world.headers("reader"))
    assert [s.object_id for s in entries.served(recorded(node)[int(versions.headers[HEADER])])] == [one]
    before = len(recorded(node))
    empty = client.get(
        objects_path(world), params={"match[type]": "malware"}, headers=world.headers("reader")
    )
    assert empty.status_code == 200 and HEADER not in empty.headers and len(recorded(node)) == before


def test_hidden_objects_are_neither_served_nor_recorded(client: TestClient, node: Node, world: World) -> None:
    red = indicator(
        "red.example", object_marking_refs=["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
    )
    post(client, world, "admin", world.intel.id, red, indicator("green.example"))
    r = client.get(objects_path(world), headers=world.headers("reader"))
    ids = [s.object_id for s in entries.served(recorded(node)[int(r.headers[HEADER])])]
    assert red["id"] not in ids and len(ids) == 1


def test_a_partner_verifies_its_receipt_with_only_the_public_key(
    client: TestClient, world: World, stocked: list
) -> None:
    r = client.get(objects_path(world), headers=world.headers("reader"))
    index = int(r.headers[HEADER])
    receipt = client.get(f"/ledger/v1/entries/{index}/receipt", headers=world.headers("reader"))
    assert receipt.status_code == 200
    checked = verify_receipt_document(receipt.content, vkey(client, world))
    assert checked.index == index and checked.entry.fields["partner"] == "reader"
    hashes = [s.sha256 for s in entries.served(checked.entry)]
    assert hashes == [hashlib.sha256(b).hexdigest() for b in served_objects(r.content)]
    # another partner's receipt is as absent as a missing entry; an administrator's is not
    for who, status in (("writer", 404), ("admin", 200)):
        got = client.get(f"/ledger/v1/entries/{index}/receipt", headers=world.headers(who))
        assert got.status_code == status
    missing = client.get("/ledger/v1/entries/999999/receipt", headers=world.headers("writer"))
    assert missing.status_code == 404 and missing.json()["description"].startswith("no ledger entry")


def test_a_receipt_fails_with_another_key_or_altered_bytes(
    client: TestClient, world: World, stocked: list
) -> None:
    r = client.get(objects_path(world), headers=world.headers("reader"))
    document = client.get(
        f"/ledger/v1/entries/{r.headers[HEADER]}/receipt", headers=world.headers("reader")
    ).content
    with pytest.raises(LedgerError):
        verify_receipt_document(document, generate_signer("someone-else").verifier.vkey)
    forged = orjson.loads(document)
    raw = bytearray(b64decode(forged["entry"], "entry"))
    raw[raw.index(b"reader")] = ord("R")
    forged["entry"] = b64encode(bytes(raw))
    with pytest.raises(LedgerError):
        verify_receipt_document(orjson.dumps(forged), vkey(client, world))


def test_consistency_between_two_checkpoints(db_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = Node.init(Settings(data_dir=tmp_path, database_url=db_url, ledger_checkpoint_seconds=0))
    try:
        with TestClient(create_app(node.settings, node)) as client:
            world = World(node)
            old = client.get("/ledger/v1/checkpoint", headers=world.headers("reader")).text
            post(client, world, "writer", world.intel.id, indicator("later.example"))
            client.get(objects_path(world), headers=world.headers("reader"))
            new = client.get("/ledger/v1/checkpoint", headers=world.headers("reader")).text
            sizes = [int(note.split("\n")[1]) for note in (old, new)]
            assert sizes[0] < sizes[1]
            proof = client.get(
                "/ledger/v1/consistency",
                params={"old": sizes[0], "new": sizes[1]},
                headers=world.headers("reader"),
            )
            hashes = [b64decode(h, "hash") for h in proof.json()["proof"]]
            older, newer = verify_consistency(old.encode(), new.encode(), hashes, vkey(client, world))
            assert (older.size, newer.size) == tuple(sizes)
            with pytest.raises(LedgerError):  # the proof of another pair of sizes does not fit
                verify_consistency(
                    old.encode(), new.encode(), hashes[:-1] or [b"\0" * 32], vkey(client, world)
                )
            beyond = client.get(
                "/ledger/v1/consistency", params={"old": 1, "new": 10**9}, headers=world.headers("reader")
            )
            assert beyond.status_code == 404
            assert (
                client.get(
                    "/ledger/v1/consistency", params={"old": -1, "new": 2}, headers=world.headers("reader")
                ).status_code
                == 422
            )
    finally:
        node.db.dispose()


# --- fail closed --------------------------------------------------------------------------------------------


def break_ledger(node: Node) -> None:
    with node.db.write() as conn:
        conn.execute(delete(ledger_head))


def test_nothing_is_served_or_stored_while_the_ledger_cannot_be_appended(
    client: TestClient, node: Node, world: World, stocked: list
) -> None:
    with node.db.read() as conn:
        stored_before = conn.execute(select(func.count()).select_from(stix_objects)).scalar_one()
    break_ledger(node)
    r = client.get(objects_path(world), headers=world.headers("reader"))
    assert r.status_code == 503 and "ledger" in r.json()["description"] and b"evil0" not in r.content
    posted = client.post(
        objects_path(world),
        content=orjson.dumps({"objects": [indicator("new.example")]}),
        headers=world.headers("writer", **{"Content-Type": TAXII}),
    )
    assert posted.status_code == 503
    with node.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(stix_objects)).scalar_one() == stored_before
    with pytest.raises(Unavailable, match="ledger has no head"), node.db.write() as conn:
        policies.load(conn, "test", WORLD_POLICY, "p.yaml", "tighten")
    # the server keeps serving everything that does not leave data, and recovers once the head is back
    assert client.get("/taxii2/", headers=world.headers("reader")).status_code == 200
    with node.db.write() as conn:
        conn.execute(ledger_head.insert().values(id=1, size=0, root=b"", frontier=b""))
    assert client.get(objects_path(world), headers=world.headers("reader")).status_code == 503  # a wrong head


# --- tampering ----------------------------------------------------------------------------------------------


def tampered(node: Node, change) -> object:  # type: ignore[no-untyped-def]
    with node.db.write() as conn:
        change(conn)
    with node.db.read() as conn:
        return verify(conn, node.ledger.verifiers(conn), node.ledger.origin).problem


def set_body(idx: int, body: bytes):  # type: ignore[no-untyped-def]
    return lambda conn: conn.execute(
        update(ledger_entries).where(ledger_entries.c.idx == idx).values(body=body)
    )


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_a_changed_entry_byte_is_named_by_its_index(node: Node, world: World, stocked: list) -> None:
    node.ledger.checkpoint()
    with node.db.read() as conn:
        rows = list(store.entries(conn))
    for idx, *_, body, _ in rows[:: max(1, len(rows) // 5)]:
        for at in (0, len(body) // 2, len(body) - 1):
            problem = tampered(node, set_body(idx, flip(body, at)))
            assert problem is not None and problem.index == idx and problem.reason == "leaf-hash"
            tampered(node, set_body(idx, body))
    check(node)


def test_rewriting_an_entry_with_its_hash_and_head_is_caught_by_the_signed_checkpoint(
    node: Node, world: World, stocked: list
) -> None:
    node.ledger.checkpoint()
    with node.db.read() as conn:
        rows = list(store.entries(conn))
    idx, *_, body, _ = rows[3]
    forged = body.replace(b'"test"', b'"TEST"')
    assert forged != body
    log = MerkleLog()
    for row in rows:
        log.append(leaf_hash(forged) if row[0] == idx else row[5])

    def rewrite(conn) -> None:  # type: ignore[no-untyped-def]
        conn.execute(
            update(ledger_entries)
            .where(ledger_entries.c.idx == idx)
            .values(body=forged, leaf_hash=leaf_hash(forged))
        )
        conn.execute(update(ledger_head).values(root=log.root(), frontier=b"".join(log.frontier)))

    problem = tampered(node, rewrite)
    assert (
        problem is not None and problem.reason == "root-mismatch" and f"size {len(rows)}" in problem.message
    )


def test_removed_entries_and_a_changed_head_or_checkpoint_are_detected(
    node: Node, world: World, stocked: list
) -> None:
    signed = node.ledger.checkpoint()
    with node.db.read() as conn:
        last = list(store.entries(conn))[-1]
    problem = tampered(
        node, lambda c: c.execute(delete(ledger_entries).where(ledger_entries.c.idx == last[0]))
    )
    assert problem is not None and problem.reason == "checkpoint-beyond-log"
    tampered(node, lambda c: store.insert_entries(c, [last]))
    problem = tampered(node, lambda c: c.execute(update(ledger_head).values(root=b"\0" * 32)))
    assert problem is not None and problem.reason == "head-root"
    with node.db.write() as conn:
        head = store.head(conn)
        assert head is not None
        conn.execute(update(ledger_head).values(root=restore(head).root()))
    note = signed.note.replace(f"\n{signed.size}\n", f"\n{signed.size + 1}\n")
    problem = tampered(node, lambda c: c.execute(update(ledger_checkpoints).values(note=note)))
    assert problem is not None and problem.index is None and "does not verify" in problem.message


# --- keys ---------------------------------------------------------------------------------------------------


def test_keys_are_private_files_and_a_foreign_key_is_refused(
    node: Node, settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    folder = keys.key_dir(settings)
    for name in (keys.SIGNING_KEY, keys.CANARY_KEY):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (folder / keys.SIGNING_KEY).chmod(0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        keys.load_signer(settings)
    (folder / keys.SIGNING_KEY).chmod(0o600)
    other_host = settings.model_copy(update={"data_dir": tmp_path / "other-host"})
    with pytest.raises(ConfigurationError, match="not this ledger's"):
        Node.init(other_host)


def test_a_rotation_is_an_entry_and_its_checkpoint_carries_both_signatures(
    client: TestClient, node: Node, world: World, stocked: list
) -> None:
    old_key = vkey(client, world)
    signed = node.ledger.rotate_key("cli:officer", "annual rotation")
    new_key = vkey(client, world)
    assert new_key != old_key
    rotation = recorded(node)[-1]
    assert rotation.kind is Kind.KEY_ROTATION and rotation.fields["old_key"] == old_key
    _, signatures = split_note(signed.note.encode())
    assert len(signatures) == 2
    r = client.get(objects_path(world), headers=world.headers("reader"))
    receipt = client.get(f"/ledger/v1/entries/{r.headers[HEADER]}/receipt", headers=world.headers("reader"))
    verify_receipt_document(receipt.content, new_key)
    with pytest.raises(LedgerError):
        verify_receipt_document(receipt.content, old_key)
    check(node)


def test_tier_changes_and_release_decisions_are_entries(client: TestClient, node: Node, world: World) -> None:
    with node.db.write() as conn:
        partner = service.require_partner(conn, "reader")
        service.set_standing(conn, "officer:ann", partner, "downgraded after review", trust_tier=3)
        service.set_standing(
            conn, "officer:ann", service.require_partner(conn, "reader"), "sectors only", sectors=["energy"]
        )
    tiers = [e for e in recorded(node) if e.kind is Kind.TIER and e.fields["subject"] == "partner:reader"]
    assert [(e.fields["old"], e.fields["new"]) for e in tiers][-1] == ("tier 1", "tier 3")
    assert len(tiers) == 2  # creation then downgrade; a change of sectors only is not a tier change
    strict = indicator(
        "strict.example", object_marking_refs=["marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"]
    )
    post(client, world, "admin", world.intel.id, strict)
    with node.db.write() as conn:
        release.request(conn, "analyst:ann", str(strict["id"]), "partners need it")
        release.approve(conn, "analyst:ben", str(strict["id"]), "checked")
    decisions = [(e.actor, e.fields["decision"]) for e in recorded(node) if e.kind is Kind.RELEASE]
    assert decisions == [("analyst:ann", "request"), ("analyst:ben", "approve")]


SANITISING = """
version: 2
defaults:
  profile: internal
profiles:
  internal:
    drop_internal_addresses: true
rules:
  - name: readers
    partners: [reader]
    max_tlp: AMBER
    max_tier: offensive
"""


def test_a_redacted_object_is_recorded_with_the_hash_of_what_was_served(
    client: TestClient, node: Node, world: World
) -> None:
    described = indicator("plain.example", description="beacons to 192.168.1.1 and 8.8.8.8")
    post(client, world, "admin", world.intel.id, described, indicator("other.example"))
    with node.db.write() as conn:
        policies.load(conn, "test", SANITISING, "s.yaml", "sanitise")
    r = client.get(objects_path(world), headers=world.headers("reader"))
    sent = served_objects(r.content)
    redacted = next(b for b in sent if described["id"].encode() in b)
    assert b"192.168.1.1" not in redacted
    recorded = {s.object_id: s.sha256 for s in entries.served(recorded_entry(node, r))}
    assert recorded[str(described["id"])] == hashlib.sha256(redacted).hexdigest()
    assert sorted(recorded.values()) == sorted(hashlib.sha256(b).hexdigest() for b in sent)


def recorded_entry(node: Node, response) -> entries.Entry:  # type: ignore[no-untyped-def]
    return recorded(node)[int(response.headers[HEADER])]
