"""Which URLs a webhook may have (issue 7, "Alerts out"), and where a partner's URL may lead. No store;
only `resolve` touches the network (DNS).

- https only; plain http only to a loopback host (127.0.0.0/8, ::1, localhost), and only when the operator
  registers it from the CLI (a receiver on the same host, or a test);
- no user name or password in the URL (credentials would sit in the store and in logs), no fragment (never
  sent), nothing but printable ASCII, at most `MAX_LENGTH` characters;
- a partner registering its own URL may not point the exchange at a non-public address (`check_public`):
  the exchange would otherwise POST into its own network for the partner (server-side request forgery).

Redirects are never followed when delivering (a redirect could lead anywhere these rules forbid). A
partner's URL is resolved again at each delivery and the request pinned to the address checked (`route`),
so a name re-pointed at a private address after registration (DNS rebinding) is refused too."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit, urlunsplit

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


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to (an address resolves to itself); empty when it does not."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Route:
    """Where one delivery goes: the URL to connect to, and for a pinned one the Host header and TLS server
    name of the URL registered (the certificate is checked against that name)."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, object] = field(default_factory=dict)


def pinned(url: str, address: str) -> Route:
    """`url` sent to `address`: same path and query, the registered host as Host header and TLS name."""
    parts = urlsplit(url)
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    return Route(target, {"host": parts.netloc}, {"sni_hostname": parts.hostname or ""})


def route(url: str, partner_registered: bool) -> Route:
    """Where to send a delivery. An operator's URL as it is; a partner's resolved now and pinned to a
    public address: `InvalidWebhookUrl` when it resolves to a non-public one (final), `LookupError` when
    it does not resolve (perhaps for now)."""
    if not partner_registered:
        return Route(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    addresses = resolve(host, parts.port or 443)
    if not addresses:
        raise LookupError(f"the webhook host {host!r} does not resolve")
    check_public(host, addresses)
    return pinned(url, addresses[0])


def check_partner_url(url: str) -> str:
    """A URL a partner may register for itself: https, and every address its host resolves to public."""
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    check_public(host, resolve(host, parts.port or 443))
    return url
