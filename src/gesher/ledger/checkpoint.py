"""Signed checkpoints: the log's head (origin, tree size, root hash) in the C2SP `tlog-checkpoint` format,
signed with Ed25519 in the C2SP `signed-note` format, so any tool that reads Go's `sumdb/note` or the
transparency-dev witnesses can read and verify gesher's heads.

A checkpoint note, byte for byte (tlog-checkpoint "Note text"; signed-note "Format"):

    <origin>\\n                       e.g. gesher.example/ledger
    <tree size, decimal>\\n           no leading zeroes ("0" for the empty tree)
    <base64 root hash>\\n             RFC 4648 section 4 base64 of the 32-byte RFC 6962 root
    [<extension line>\\n ...]         optional, non-empty, opaque
    \\n                               the blank line that ends the signed text
    — <key name> <base64(key id || signature)>\\n   one line per signature (em dash U+2014, space)

Ed25519 keys (signed-note "Ed25519 signatures"): the key id is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || 32-byte public key) and the signature (RFC 8032) covers the note text,
final newline included. A verifier key is shared as `<name>+<key id hex>+<base64(0x01 || public key)>` and
a signer key is kept as `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>` (the encodings of
Go's `golang.org/x/mod/sumdb/note`).

Opening a note (signed-note "Signatures"): signatures from unknown keys are ignored (witness cosignatures,
rotated keys); a signature from a known key (same name AND key id) that fails rejects the whole note; a
note with no verified signature from a known key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import HASH_SIZE

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # signed-note: verifiers MUST accept at least 16
MAX_NOTE_BYTES = 1 << 20
SIZE_PATTERN = re.compile(r"0|[1-9][0-9]*")


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (RFC 4648 section 4), as signed-note and tlog-checkpoint use."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict base64 (RFC 4648 section 4): only the alphabet, canonical padding; else `LedgerError`."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise LedgerError("bad-base64", f"{what} is not valid base64") from None
    if b64encode(data) != text:
        raise LedgerError("bad-base64", f"{what} is not canonical base64")
    return data


def key_id(name: str, public_key: bytes) -> bytes:
    """signed-note: the 4-byte key id of an Ed25519 key, SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def check_key_name(name: str) -> str:
    """signed-note: key names are non-empty and contain neither Unicode spaces nor '+'."""
    if not name or "+" in name or any(c.isspace() for c in name) or _has_control(name):
        raise LedgerError("bad-key-name", f"invalid key name {name!r}: non-empty, no spaces, no '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A public key that can check signatures: what a partner needs, and all it needs."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise LedgerError("bad-key", "an Ed25519 public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        """The signed-note key id of this key."""
        return key_id(self.name, self.public_key)

    @property
    def vkey(self) -> str:
        """The verifier key string, `<name>+<key id hex>+<base64(0x01 || public key)>`."""
        return f"{self.name}+{self.key_id.hex()}+{b64encode(bytes([ED25519]) + self.public_key)}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature (RFC 8032) of `text`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True


def parse_vkey(vkey: str) -> Verifier:
    """Read a verifier key string; refuse a wrong type byte, a wrong length or a key id that does not
    match the key."""
    name, id_hex, data = _three_parts(vkey.strip(), "verifier key")
    raw = b64decode(data, "the verifier key")
    if len(raw) != 33 or raw[0] != ED25519:
        raise LedgerError("bad-key", "a verifier key holds 0x01 and a 32-byte Ed25519 public key")
    verifier = Verifier(check_key_name(name), raw[1:])
    if verifier.key_id.hex() != id_hex:
        raise LedgerError("wrong-key-id", f"the verifier key's id {id_hex} does not match its key")
    return verifier


@dataclass(frozen=True)
class Signer:
    """A named Ed25519 private key that signs checkpoints. Keep `skey` secret (mode 0600)."""

    name: str
    private_key: Ed25519PrivateKey

    @property
    def verifier(self) -> Verifier:
        """The matching public verifier."""
        return Verifier(self.name, _public_bytes(self.private_key))

    @property
    def skey(self) -> str:
        """The private key string, `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || seed)>`."""
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b64encode(bytes([ED25519]) + seed)}"

    def sign(self, text: bytes) -> bytes:
        """The Ed25519 signature (RFC 8032) of `text`."""
        return self.private_key.sign(text)


def generate_signer(name: str) -> Signer:
    """A new random Ed25519 key named `name` (a schema-less URL such as `gesher.example/ledger`)."""
    return Signer(check_key_name(name), Ed25519PrivateKey.generate())


def parse_skey(skey: str) -> Signer:
    """Read a private key string written by `Signer.skey`; refuse anything malformed or inconsistent."""
    text = skey.strip()
    if not text.startswith("PRIVATE+KEY+"):
        raise LedgerError("bad-key", "a private key string starts with PRIVATE+KEY+")
    name, id_hex, data = _three_parts(text.removeprefix("PRIVATE+KEY+"), "private key")
    raw = b64decode(data, "the private key")
    if len(raw) != 33 or raw[0] != ED25519:
        raise LedgerError("bad-key", "a private key holds 0x01 and a 32-byte Ed25519 seed")
    signer = Signer(check_key_name(name), Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.verifier.key_id.hex() != id_hex:
        raise LedgerError("wrong-key-id", f"the private key's id {id_hex} does not match its key")
    return signer


def _three_parts(text: str, what: str) -> tuple[str, str, str]:
    parts = text.split("+", 2)  # base64 may itself contain '+'
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise LedgerError("bad-key", f"a {what} is <name>+<8 hex digits>+<base64>")
    return parts[0], parts[1], parts[2]


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _has_control(text: str) -> bool:
    return any(ord(c) < 0x20 and c != "\n" for c in text)


# --- signed notes -------------------------------------------------------------------------------------------


def sign_note(text: bytes, signers: Sequence[Signer]) -> bytes:
    """signed-note "Format": the text (ending in a newline, no control characters), a blank line, then one
    signature line `— <name> base64(key id || signature)` per signer."""
    _check_text(text)
    lines = [f"{SIGNATURE_PREFIX}{s.name} {b64encode(s.verifier.key_id + s.sign(text))}\n" for s in signers]
    if not lines:
        raise LedgerError("no-signature", "a signed note needs at least one signature")
    return text + b"\n" + "".join(lines).encode("utf-8")


def _check_text(text: bytes) -> None:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise LedgerError("malformed-note", "a note must be valid UTF-8") from None
    if not decoded.endswith("\n") or _has_control(decoded):
        raise LedgerError("malformed-note", "note text ends with a newline and has no control characters")


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line: key name, key id and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes


def split_note(note: bytes) -> tuple[bytes, tuple[NoteSignature, ...]]:
    """Parse a signed note into its text and signature lines (not yet verified). The text ends at the last
    blank line (signed-note "Format"); every signature line must be well formed."""
    if len(note) > MAX_NOTE_BYTES:
        raise LedgerError("malformed-note", f"a note is at most {MAX_NOTE_BYTES} bytes")
    _check_text(note)
    cut = note.rfind(b"\n\n")
    if cut < 0:
        raise LedgerError("malformed-note", "a signed note needs a blank line before its signatures")
    lines = note[cut + 2 :].decode("utf-8").split("\n")[:-1]
    if not lines or len(lines) > MAX_SIGNATURES:
        raise LedgerError("malformed-note", f"a signed note has 1 to {MAX_SIGNATURES} signature lines")
    return note[: cut + 1], tuple(_signature_line(line) for line in lines)


def _signature_line(line: str) -> NoteSignature:
    name, _, data = line.removeprefix(SIGNATURE_PREFIX).partition(" ")
    if not line.startswith(SIGNATURE_PREFIX) or not data:
        raise LedgerError("malformed-note", f"not a signature line: {line[:60]!r}")
    raw = b64decode(data, f"the signature of {name!r}")
    if len(raw) < 5:
        raise LedgerError("malformed-note", f"the signature of {name!r} is too short")
    return NoteSignature(check_key_name(name), raw[:4], raw[4:])


def open_note(note: bytes, verifiers: Sequence[Verifier]) -> tuple[bytes, Verifier]:
    """Verify a signed note against trusted keys and return (text, the key that verified it). Signatures
    from unknown keys are ignored; a failing signature from a known key rejects the note; so does a note
    with no signature from a known key (signed-note "Signatures")."""
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: Verifier | None = None
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        if not verifier.verifies(text, sig.signature):
            raise LedgerError("bad-signature", f"the signature by {sig.name} ({sig.key_id.hex()}) is invalid")
        verified = verified or verifier
    if verified is None:
        raise LedgerError("no-known-signature", _why_unknown(signatures, verifiers))
    return text, verified


def _why_unknown(signatures: Sequence[NoteSignature], verifiers: Sequence[Verifier]) -> str:
    names = {v.name for v in verifiers}
    if any(s.name in names for s in signatures):
        return "the note is signed under the trusted key's name, but with another key (wrong key id)"
    return f"the note carries no signature by a trusted key ({', '.join(sorted(names)) or 'none given'})"


# --- checkpoints --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A verified log head: origin, tree size, root hash and any extension lines; `note` is the signed note
    it was read from (hand it on unchanged, so others can verify it)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    note: bytes = b""


def checkpoint_text(origin: str, size: int, root: bytes, extensions: Sequence[str] = ()) -> bytes:
    """tlog-checkpoint "Note text": origin, decimal size, base64 root, then optional non-empty extension
    lines, each ending in a newline."""
    if not origin or _has_control(origin) or "\n" in origin:
        raise LedgerError("malformed-checkpoint", "the origin must be a non-empty single line")
    if size < 0 or len(root) != HASH_SIZE:
        raise LedgerError("malformed-checkpoint", "a checkpoint has a size >= 0 and a 32-byte root")
    if any(not line or "\n" in line for line in extensions):
        raise LedgerError("malformed-checkpoint", "extension lines must be non-empty single lines")
    return "".join(f"{line}\n" for line in (origin, str(size), b64encode(root), *extensions)).encode("utf-8")


def parse_checkpoint_text(text: bytes) -> Checkpoint:
    """Read a checkpoint's note text (tlog-checkpoint "Note text"); refuse anything malformed."""
    lines = text.decode("utf-8").split("\n")[:-1]
    if len(lines) < 3 or any(not line for line in lines):
        raise LedgerError("malformed-checkpoint", "a checkpoint has at least three non-empty lines")
    origin, size, root, *extensions = lines
    if not SIZE_PATTERN.fullmatch(size):
        raise LedgerError("malformed-checkpoint", f"the tree size {size[:30]!r} is not a decimal number")
    root_hash = b64decode(root, "the root hash")
    if len(root_hash) != HASH_SIZE:
        raise LedgerError("malformed-checkpoint", f"the root hash is {len(root_hash)} bytes, not {HASH_SIZE}")
    return Checkpoint(origin, int(size), root_hash, tuple(extensions))


def sign_checkpoint(
    origin: str,
    size: int,
    root: bytes,
    private_key: Ed25519PrivateKey,
    key_name: str,
    extensions: Sequence[str] = (),
) -> bytes:
    """The signed checkpoint note for the log head (origin, size, root). The key name SHOULD be the origin
    (tlog-checkpoint "Signatures"). Never sign a head inconsistent with one signed before."""
    text = checkpoint_text(origin, size, root, extensions)
    return sign_note(text, [Signer(check_key_name(key_name), private_key)])


def open_checkpoint(
    note: bytes, verifier: Verifier | str | Sequence[Verifier], origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint against the trusted key(s) (a `Verifier`, a vkey string, or several
    during a key rotation) and parse it; with `origin`, also refuse a checkpoint of another log."""
    trusted = [parse_vkey(verifier)] if isinstance(verifier, str) else verifier
    text, _ = open_note(note, [trusted] if isinstance(trusted, Verifier) else trusted)
    checkpoint = parse_checkpoint_text(text)
    if origin is not None and checkpoint.origin != origin:
        raise LedgerError("wrong-origin", f"the checkpoint is of log {checkpoint.origin!r}, not {origin!r}")
    return Checkpoint(checkpoint.origin, checkpoint.size, checkpoint.root, checkpoint.extensions, note)
