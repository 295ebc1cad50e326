"""Signing webhook deliveries (issue 7, "Alerts out": "signed"): Standard Webhooks' Ed25519 scheme round
trips for any message, tampering is caught, and the key file follows the ledger keys' rules."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete

from gesher.errors import ConfigurationError
from gesher.exchange.node import Node
from gesher.ledger_service.keys import key_dir
from gesher.store.tables import meta
from gesher.warning_service.webhook_signing import (
    Signer,
    key_path,
    parse_public,
    published_key,
    read_key_file,
    signer,
    verify,
)
from tests.conftest import World

KEY = Signer(Ed25519PrivateKey.generate())
OTHER = Signer(Ed25519PrivateKey.generate())
_IDS = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=60)


@given(message_id=_IDS, timestamp=st.integers(0, 2**40), body=st.binary(max_size=2000))
def test_any_signed_delivery_verifies_with_the_public_key(
    message_id: str, timestamp: int, body: bytes
) -> None:
    headers = KEY.headers(message_id, timestamp, body)
    assert headers["webhook-signature"].startswith("v1a,")
    assert verify(parse_public(KEY.public), headers, body)
    assert not verify(parse_public(OTHER.public), headers, body)


@given(
    message_id=_IDS,
    timestamp=st.integers(0, 2**40),
    body=st.binary(min_size=1, max_size=500),
    flip=st.integers(0, 10_000),
)
def test_any_change_breaks_the_signature(message_id: str, timestamp: int, body: bytes, flip: int) -> None:
    headers = KEY.headers(message_id, timestamp, body)
    public = parse_public(KEY.public)
    changed = bytearray(body)
    changed[flip % len(body)] ^= 1 << (flip % 8)
    assert not verify(public, headers, bytes(changed))
    assert not verify(public, headers | {"webhook-timestamp": str(timestamp + 1)}, body)
    assert not verify(public, headers | {"webhook-id": message_id + "x"}, body)


def test_a_partner_can_verify_with_only_the_published_key() -> None:
    """What the README tells partners to do, with nothing of gesher's."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body = b'{"event":"alert"}'
    h = KEY.headers("msg_1", 1_700_000_000, body)
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(KEY.public.removeprefix("whpk_")))
    signed = f"{h['webhook-id']}.{h['webhook-timestamp']}.".encode() + body
    for item in h["webhook-signature"].split():
        version, _, sig = item.partition(",")
        if version == "v1a":
            key.verify(base64.b64decode(sig), signed)  # raises InvalidSignature if wrong


def test_other_schemes_and_garbage_are_not_accepted() -> None:
    body = b"{}"
    good = KEY.headers("msg_1", 1, body)
    public = parse_public(KEY.public)
    sig = good["webhook-signature"].split(",", 1)[1]
    assert verify(public, good | {"webhook-signature": f"v1,abc v1a,{sig}"}, body)  # any one of a list
    assert not verify(public, good | {"webhook-signature": f"v1,{sig}"}, body)  # HMAC's scheme, not ours
    assert not verify(public, good | {"webhook-signature": "v1a,!!!"}, body)
    assert not verify(public, good | {"webhook-timestamp": "soon"}, body)
    assert not verify(public, {}, body)


def test_the_key_file_is_private_and_registered_at_init(node: Node) -> None:
    path = key_path(node.settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir(node.settings).stat().st_mode) == 0o700
    with node.db.read() as conn:
        assert published_key(conn) == read_key_file(node.settings).public


def test_a_key_file_others_can_read_is_refused(node: Node) -> None:
    os.chmod(key_path(node.settings), 0o644)
    with pytest.raises(ConfigurationError, match="readable by others"):
        read_key_file(node.settings)


def test_an_older_data_directory_gets_its_key_on_first_use(node: Node) -> None:
    key_path(node.settings).unlink()
    with node.db.write() as conn:
        conn.execute(delete(meta).where(meta.c.key == "webhook_public_key"))
    with node.db.write() as conn:
        made = signer(conn, node.settings)
    assert key_path(node.settings).exists()
    with node.db.read() as conn:
        assert published_key(conn) == made.public


def test_another_hosts_key_is_refused_not_adopted(node: Node) -> None:
    """A host sharing the store must sign with the key partners know: a different file is refused."""
    path = key_path(node.settings)
    path.unlink()
    with node.db.write() as conn, pytest.raises(ConfigurationError, match="not this exchange's"):
        signer(conn, node.settings)
    assert not path.exists()  # the stray key is not left behind: copy the right one in
    path.write_text("whsk_" + base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode())
    os.chmod(path, 0o600)
    with node.db.write() as conn, pytest.raises(ConfigurationError, match="not this exchange's"):
        signer(conn, node.settings)


def test_partners_fetch_the_public_key(world: World, client: TestClient) -> None:
    r = client.get("/webhooks/v1/key", headers={"Authorization": f"Bearer {world.tokens['reader']}"})
    assert r.status_code == 200
    with world.node.db.read() as conn:
        assert r.json()["public_key"] == published_key(conn)
    assert r.json()["algorithm"] == "ed25519" and r.json()["signature_version"] == "v1a"
    assert client.get("/webhooks/v1/key").status_code == 401


def test_the_readme_verification_snippet_works() -> None:
    """The few lines README gives partners verify a real signature and refuse a tampered body."""
    import time
    from pathlib import Path

    from cryptography.exceptions import InvalidSignature

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("**Webhooks.**") :]
    code = section[section.index("```python\n") + len("```python\n") : section.index("\n```\n")]
    scope: dict[str, object] = {}
    exec(code, scope)
    verify_snippet = scope["verify"]
    body = b'{"event":"alert","objects":[]}'
    headers = KEY.headers("msg_readme", int(time.time()), body)
    verify_snippet(KEY.public, headers, body)  # type: ignore[operator]
    with pytest.raises(InvalidSignature):
        verify_snippet(KEY.public, headers, body + b" ")  # type: ignore[operator]
    with pytest.raises(ValueError, match="stale"):
        verify_snippet(KEY.public, KEY.headers("msg_old", 1_000_000, body), body)  # type: ignore[operator]
