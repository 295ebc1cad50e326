"""Authentication: HTTP Basic (the TAXII 2.1 mandatory baseline; user = partner name, password = token)
and bearer tokens (`Authorization: Bearer` or `Token`, as taxii2-client's TokenAuth sends)."""

from __future__ import annotations

import base64
import binascii

from sqlalchemy import Connection

from gesher.errors import Unauthenticated
from gesher.partners.service import authenticate
from gesher.policy.principal import Principal


def _credentials(header: str) -> tuple[str | None, str]:
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    if scheme in {"bearer", "token"}:
        return None, value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthenticated("malformed HTTP Basic credentials") from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise Unauthenticated("malformed HTTP Basic credentials")
        return user, password
    raise Unauthenticated("use HTTP Basic (partner name and token) or a bearer token")


def principal_from_header(conn: Connection, header: str | None) -> Principal:
    if not header:
        raise Unauthenticated("credentials required: HTTP Basic (partner name and token) or a bearer token")
    user, token = _credentials(header)
    principal = authenticate(conn, token, user)
    if principal is None:
        raise Unauthenticated("invalid or revoked credentials")
    return principal
