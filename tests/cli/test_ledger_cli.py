"""`gesher ledger keys|rotate-key|show|checkpoint|verify|verify-consistency`, in process on both stores
(verify-receipt and verify against a live server: tests/e2e/test_ledger_e2e.py)."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from gesher.exchange.node import Node
from gesher.ledger.checkpoint import b64encode
from gesher.settings import Settings
from tests.cli.test_policy_cli import Cli


@pytest.fixture
def cli(db_url: str, tmp_path: Path) -> Cli:
    run = Cli(db_url, tmp_path)
    run("init")
    return run


def proof_file(cli: Cli, db_url: str, tmp_path: Path, old: int, new: int) -> Path:
    node = Node.open(Settings(data_dir=tmp_path, database_url=db_url))
    try:
        with node.db.read() as conn:
            proof = node.ledger.consistency_proof(conn, old, new)
    finally:
        node.db.dispose()
    return cli.file(f"proof-{old}-{new}.json", orjson.dumps({"proof": [b64encode(h) for h in proof]}))


def test_keys_rotation_checkpoints_and_consistency(cli: Cli, db_url: str, tmp_path: Path) -> None:
    (first_key,) = cli("ledger", "keys").split()
    old = cli.file("old.note", cli("ledger", "checkpoint"))
    old_size = int(old.read_text().split("\n")[1])
    rotated = cli("ledger", "rotate-key", "--reason", "annual rotation")
    assert "checkpoint signed by both keys" in rotated
    keys = cli("ledger", "keys").splitlines()
    assert keys[0] == f"{first_key}  (retired)" and len(keys) == 2
    new_key = keys[1]
    new = cli.file("new.note", rotated.split("keys:\n", 1)[1])
    new_size = int(new.read_text().split("\n")[1])
    shown = json.loads(cli("ledger", "show", str(new_size - 1)))
    assert (
        shown["kind"] == "key_rotation"
        and shown["new_key"] == new_key
        and shown["reason"] == "annual rotation"
    )
    proof = proof_file(cli, db_url, tmp_path, old_size, new_size)
    # a partner trusting the old key checks the new head (co-signed by the old key) extends the old one
    said = cli("ledger", "verify-consistency", str(old), str(new), str(proof), "--key", first_key)
    assert f"consistent: size {new_size} extends size {old_size}" in said
    wrong = proof_file(cli, db_url, tmp_path, old_size - 1, new_size)
    refused = cli(
        "ledger", "verify-consistency", str(old), str(new), str(wrong), "--key", first_key, ok=False
    )
    assert "not consistent" in refused
    assert "ledger verified" in cli("ledger", "verify")


def test_bad_input_gets_a_clear_error(cli: Cli) -> None:
    assert "no ledger entry 999999" in cli("ledger", "show", "999999", ok=False)
    note = cli.file("note", cli("ledger", "checkpoint"))
    garbage = cli.file("garbage.json", "not json")
    key = cli("ledger", "keys").strip()
    said = cli("ledger", "verify-consistency", str(note), str(note), str(garbage), "--key", key, ok=False)
    assert "not a consistency proof document" in said
    assert "not a public key" in cli("ledger", "verify-receipt", str(garbage), "--key", "nonsense", ok=False)
    assert "receipt invalid (malformed-receipt)" in cli(
        "ledger", "verify-receipt", str(garbage), "--key", key, ok=False
    )


def test_serve_refuses_to_start_without_the_ledger_key(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "keys" / "ledger.skey").rename(tmp_path / "elsewhere.skey")
    said = cli("serve", "--port", "8799", ok=False)
    assert "the ledger key" in said and "is missing" in said
    (tmp_path / "elsewhere.skey").rename(tmp_path / "keys" / "ledger.skey")
    (tmp_path / "keys" / "ledger.skey").chmod(0o640)
    assert "readable by others" in cli("serve", "--port", "8799", ok=False)
