"""Signed checkpoints: the C2SP signed-note and tlog-checkpoint formats, checked against the known answer of
Go's golang.org/x/mod/sumdb/note (the reference implementation of signed-note) and the spec text."""

from __future__ import annotations

import base64
import hashlib

import pytest

from gesher.ledger.checkpoint import (
    Verifier,
    checkpoint_text,
    generate_signer,
    key_id,
    open_checkpoint,
    open_note,
    parse_skey,
    parse_vkey,
    sign_checkpoint,
    sign_note,
)
from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import MerkleLog

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT
    + (
        "\n\u2014 PeterNeumann "
        "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    ).encode()
)
ORIGIN = "gesher.example/ledger"


def head(n: int = 5) -> MerkleLog:
    log = MerkleLog()
    for i in range(n):
        log.append_data(f"entry {i}".encode())
    return log


def signed(n: int = 5, extensions: tuple[str, ...] = ()) -> tuple[bytes, Verifier]:
    signer = generate_signer(ORIGIN)
    log = head(n)
    note = sign_checkpoint(ORIGIN, log.size, log.root(), signer.private_key, signer.name, extensions)
    return note, signer.verifier


def test_the_go_reference_note_is_reproduced_byte_for_byte() -> None:
    signer = parse_skey(GO_SKEY)
    assert signer.verifier.vkey == GO_VKEY
    assert signer.skey == GO_SKEY
    assert sign_note(GO_TEXT, [signer]) == GO_NOTE  # Ed25519 is deterministic (RFC 8032)
    text, verifier = open_note(GO_NOTE, [parse_vkey(GO_VKEY)])
    assert text == GO_TEXT and verifier.name == "PeterNeumann"


def test_the_key_id_is_sha256_of_name_newline_type_and_key() -> None:
    verifier = parse_vkey(GO_VKEY)
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + verifier.public_key).digest()[:4]
    assert key_id("PeterNeumann", verifier.public_key) == expected == bytes.fromhex("c74f20a3")


def test_a_checkpoint_has_the_tlog_checkpoint_layout() -> None:
    note, verifier = signed(5, ("extension line",))
    lines = note.split(b"\n")
    log = head(5)
    assert lines[:5] == [ORIGIN.encode(), b"5", base64.b64encode(log.root()), b"extension line", b""]
    assert lines[5].startswith("\u2014 gesher.example/ledger ".encode()) and lines[6] == b""
    signature = base64.b64decode(lines[5].split(b" ")[2])
    assert signature[:4] == verifier.key_id and len(signature) == 4 + 64
    assert checkpoint_text(ORIGIN, 0, MerkleLog().root()).split(b"\n")[1] == b"0"


def test_round_trip() -> None:
    note, verifier = signed(5, ("x",))
    checkpoint = open_checkpoint(note, verifier)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (ORIGIN, 5, head(5).root())
    assert checkpoint.extensions == ("x",) and checkpoint.note == note
    assert open_checkpoint(note, verifier.vkey, origin=ORIGIN) == checkpoint


def test_a_tampered_line_is_refused() -> None:
    note, verifier = signed(5)
    for old, new in ((b"\n5\n", b"\n6\n"), (ORIGIN.encode(), b"gesher.example/ledgeR")):
        with pytest.raises(LedgerError) as error:
            open_checkpoint(note.replace(old, new, 1), verifier)
        assert error.value.reason == "bad-signature"


def test_another_key_is_refused_and_unknown_signatures_are_ignored() -> None:
    note, verifier = signed()
    other = generate_signer(ORIGIN)  # same name, other key: another key id
    with pytest.raises(LedgerError, match="wrong key id") as error:
        open_checkpoint(note, other.verifier)
    assert error.value.reason == "no-known-signature"
    stranger = generate_signer("witness.example/w1")
    with pytest.raises(LedgerError, match="no signature by a trusted key"):
        open_checkpoint(note, stranger.verifier)
    cosigned = note + sign_note(note.split(b"\n\n")[0] + b"\n", [stranger]).split(b"\n\n")[1]
    assert open_checkpoint(cosigned, verifier).size == 5  # a witness's signature is ignored
    assert (
        open_checkpoint(cosigned, [other.verifier, stranger.verifier]).size == 5
    )  # rotation: any trusted key


def test_a_wrong_key_id_with_the_right_key_is_ignored_then_refused() -> None:
    note, verifier = signed()
    text, signature_line = note.split(b"\n\n")
    name, data = signature_line.decode().rstrip("\n").split(" ")[1:]
    raw = base64.b64decode(data)
    forged = text + b"\n\n" + f"\u2014 {name} {base64.b64encode(b'WXYZ' + raw[4:]).decode()}\n".encode()
    with pytest.raises(LedgerError) as error:
        open_checkpoint(forged, verifier)
    assert error.value.reason == "no-known-signature"


def test_a_failing_known_signature_rejects_the_whole_note() -> None:
    note, verifier = signed()
    good_line = note.split(b"\n\n")[1]
    raw = base64.b64decode(good_line.split(b" ")[2])
    bad_line = good_line.split(b" ")[0] + b" " + good_line.split(b" ")[1] + b" "
    bad_line += base64.b64encode(raw[:4] + bytes(64)) + b"\n"
    with pytest.raises(LedgerError, match="invalid"):
        open_checkpoint(note + bad_line, verifier)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda n: n.split(b"\n\n")[0] + b"\n",  # signature missing
        lambda n: n.split(b"\n\n")[0] + b"\n\n",  # blank line, no signature lines
        lambda n: n.replace("\u2014 ".encode(), b"-- "),  # not an em dash
        lambda n: n.replace(b"=\n", b"!\n"),  # bad base64
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace(b"\n5\n", b"\n05\n"),  # leading zero (signature check comes first)
        lambda n: n.replace(b"ledger\n", b"ledger\r\n", 1),  # control character
        lambda n: b"\xff" + n,  # not UTF-8
    ],
)
def test_malformed_notes_are_refused(mutate: object) -> None:
    note, verifier = signed()
    with pytest.raises(LedgerError):
        open_checkpoint(mutate(note), verifier)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([ORIGIN, "5"], "three"),
        ([ORIGIN, "05", "AAAA"], "decimal"),
        ([ORIGIN, "-1", "AAAA"], "decimal"),
        ([ORIGIN, "5", "not base64!"], "base64"),
        ([ORIGIN, "5", base64.b64encode(b"short").decode()], "32"),
        ([ORIGIN, "5", base64.b64encode(bytes(32)).decode(), ""], "non-empty"),
    ],
)
def test_malformed_checkpoint_texts_are_refused(lines: list[str], message: str) -> None:
    signer = generate_signer(ORIGIN)
    note = sign_note("".join(f"{line}\n" for line in lines).encode(), [signer])
    with pytest.raises(LedgerError, match=message):
        open_checkpoint(note, signer.verifier)


def test_a_checkpoint_of_another_log_is_refused() -> None:
    note, verifier = signed()
    with pytest.raises(LedgerError, match="of log"):
        open_checkpoint(note, verifier, origin="other.example/log")


def test_keys_serialise_and_refuse_damage() -> None:
    signer = generate_signer(ORIGIN)
    assert parse_skey(signer.skey).verifier == signer.verifier
    assert parse_vkey(signer.verifier.vkey) == signer.verifier
    name, id_hex, data = signer.verifier.vkey.split("+", 2)
    for bad in (
        f"{name}+00000000+{data}",
        f"{name}+{id_hex}",
        f"{name}+{id_hex}+AAAA",
        f"a b+{id_hex}+{data}",
    ):
        with pytest.raises(LedgerError):
            parse_vkey(bad)
    with pytest.raises(LedgerError):
        parse_skey(signer.verifier.vkey)
    for bad_name in ("", "has space", "has+plus"):
        with pytest.raises(LedgerError, match="key name"):
            generate_signer(bad_name)
