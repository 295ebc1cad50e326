"""Which URLs a webhook may have (issue 7, "Alerts out"). Pure: no network, no store.

- https only; plain http only to a loopback host (127.0.0.0/8, ::1, localhost), and only when the operator
  registers it from the CLI (a receiver on the same host, or a test);
- no user name or password in the URL (credentials would sit in the store and in logs), no fragment (never
  sent), nothing but printable ASCII, at most `MAX_LENGTH` characters;
- a partner registering its own URL may not point the exchange at a non-public address (`check_public`):
  the exchange would otherwise POST into its own network for the partner (server-side request forgery).

Redirects are never followed when delivering (a redirect could lead anywhere these rules forbid)."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from gesher.errors import InvalidRequest

MAX_LENGTH: Final = 2048
_PRINTABLE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost."})


class InvalidWebhookUrl(InvalidRequest):
    title = "Invalid webhook URL"


def check_url(url: str, allow_loopback_http: bool = False) -> str:
    """The URL if a webhook may have it, else `InvalidWebhookUrl` saying why. `allow_loopback_http`: an
    operator's CLI registration may use plain http to a loopback host."""
    if len(url) > MAX_LENGTH:
        raise InvalidWebhookUrl(f"a webhook URL has at most {MAX_LENGTH} characters ({len(url)} given)")
    if not _PRINTABLE.fullmatch(url):
        raise InvalidWebhookUrl("a webhook URL is printable ASCII without spaces (percent-encode the rest)")
    if "\\" in url:
        raise InvalidWebhookUrl("a webhook URL may not contain a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidWebhookUrl(f"not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in {"https", "http"}:
        raise InvalidWebhookUrl(f"a webhook URL must use https, not {scheme or 'no scheme'!r}")
    if "#" in url:
        raise InvalidWebhookUrl("a webhook URL may not have a fragment ('#...')")
    if "@" in parts.netloc:
        raise InvalidWebhookUrl("a webhook URL may not carry a user name or password ('user@host')")
    host = (parts.hostname or "").lower()
    if not host or not _valid_host(host):
        raise InvalidWebhookUrl(f"a webhook URL needs a valid host name or address (got {host[:100]!r})")
    if port == 0:
        raise InvalidWebhookUrl("port 0 is not a port a webhook can listen on")
    if scheme == "http":
        if not is_loopback(host):
            raise InvalidWebhookUrl("a webhook URL must use https (plain http only to 127.0.0.1 or ::1)")
        if not allow_loopback_http:
            raise InvalidWebhookUrl("plain http to a loopback host is for operators (gesher webhook add)")
    return url


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or labels[-1].isdigit():  # all-digit last label: a malformed IPv4 address
        return False
    return all(_LABEL.fullmatch(label) for label in labels)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_public(address: str) -> bool:
    """Whether an IP address is globally routable (not private, loopback, link-local, reserved...). An
    IPv4-mapped IPv6 address is judged as the IPv4 address it carries."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_public(host: str, addresses: Iterable[str]) -> None:
    """Refuse a partner's URL whose host resolves to any non-public address (or to none)."""
    found = list(addresses)
    if not found:
        raise InvalidWebhookUrl(f"the webhook host {host!r} does not resolve")
    bad = [a for a in found if not is_public(a)]
    if bad:
        raise InvalidWebhookUrl(
            f"the webhook host {host!r} resolves to a non-public address ({bad[0]}): the exchange only "
            "posts to public addresses for partners"
        )
