"""Signing webhook deliveries (issue 7, "Alerts out": "signed"), as Standard Webhooks does with asymmetric
keys (https://www.standardwebhooks.com, "Signature scheme"): Ed25519 over `{webhook-id}.{webhook-timestamp}.
{body}`, sent as `webhook-signature: v1a,<base64 signature>`. A partner verifies with the exchange's public
key (`gesher webhook key`, or GET /webhooks/v1/key), printed as `whpk_<base64 of the raw 32 bytes>`.

The private key is `webhook.skey` in the node's key directory (next to the ledger's keys, same rules:
created with O_EXCL and mode 0600 in a 0700 directory; a file others can read is refused). `gesher init`
creates it; on an older data directory the first use does. Its public half is kept in the store (`meta`),
so a host sharing the store with a different key file is refused rather than signing with a key partners
do not know."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection

from gesher.errors import ConfigurationError
from gesher.ledger_service.keys import key_dir
from gesher.settings import Settings
from gesher.store import meta

KEY_FILE: Final = "webhook.skey"
_META_KEY: Final = "webhook_public_key"
SECRET_PREFIX: Final = "whsk_"
PUBLIC_PREFIX: Final = "whpk_"
VERSION: Final = "v1a"  # Standard Webhooks' identifier for Ed25519 signatures
TOLERANCE_SECONDS: Final = 300  # what a receiver should accept between webhook-timestamp and its clock


def signed_content(message_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{message_id}.{timestamp}.".encode() + body


def public_text(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return PUBLIC_PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip().removeprefix(PUBLIC_PREFIX), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ConfigurationError("not a webhook public key (whpk_ and the base64 of 32 bytes)") from None


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def public(self) -> str:
        return public_text(self.key.public_key())

    def headers(self, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
        """The three Standard Webhooks headers of one delivery attempt."""
        signature = self.key.sign(signed_content(message_id, timestamp, body))
        return {
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": f"{VERSION},{base64.b64encode(signature).decode('ascii')}",
        }


def verify(public_key: Ed25519PublicKey, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether one of the `v1a` signatures in `headers` is the key's over this id, timestamp and body (what
    a partner does; the freshness of the timestamp is the receiver's to check)."""
    try:
        content = signed_content(headers["webhook-id"], int(headers["webhook-timestamp"]), body)
    except (KeyError, ValueError):
        return False
    for item in headers.get("webhook-signature", "").split():
        version, _, value = item.partition(",")
        if version != VERSION:
            continue
        try:
            public_key.verify(base64.b64decode(value, validate=True), content)
            return True
        except (InvalidSignature, ValueError):
            continue
    return False


# --- the key file ---------------------------------------------------------------------------------------


def key_path(settings: Settings) -> Path:
    return key_dir(settings) / KEY_FILE


def ensure_key_file(settings: Settings) -> bool:
    """Create the key file unless it exists; True when this call created it (idempotent, race-safe)."""
    path = key_path(settings)
    if path.exists():
        return False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return False
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(SECRET_PREFIX + base64.b64encode(raw).decode("ascii") + "\n")
    return True


def read_key_file(settings: Settings) -> Signer:
    path = key_path(settings)
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigurationError(f"{path} is readable by others (mode {oct(mode & 0o777)}): chmod 600 it")
        text = path.read_text(encoding="ascii").strip()
        raw = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
        return Signer(Ed25519PrivateKey.from_private_bytes(raw))
    except FileNotFoundError:
        raise ConfigurationError(
            f"the webhook key {path} is missing: run `gesher init` on this host"
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise ConfigurationError(f"cannot read the webhook key {path}: {error}") from None


def signer(conn: Connection, settings: Settings) -> Signer:
    """The node's webhook signing key, created on first use, in the caller's write transaction (its public
    half is registered in the store by the first host; another host's different key file is refused)."""
    created = ensure_key_file(settings)
    key = read_key_file(settings)
    known = meta.set_if_absent(conn, _META_KEY, key.public)
    if known != key.public:
        if created:  # a fresh key nobody can know yet: leave room for the right one to be copied in
            key_path(settings).unlink()
        raise ConfigurationError(
            f"the webhook key in {key_dir(settings)} is not this exchange's ({known}): copy {KEY_FILE} from "
            "the host that created it"
        )
    return key


def published_key(conn: Connection) -> str | None:
    """The public key partners verify deliveries with, as registered in the store (None: not yet)."""
    return meta.get(conn, _META_KEY)
