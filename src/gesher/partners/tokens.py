"""API tokens: 256 bits from the OS CSPRNG, shown once, stored as SHA-256. A fast hash is right for
random high-entropy secrets (nothing to brute-force); password stretching would only slow every request."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "gsh_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def display_prefix(token: str) -> str:
    return token[:10]
