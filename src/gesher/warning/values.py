"""Observed values and their one normal form, shared by observation files, indicator match keys and the
matching engine, so that a value seen by a sensor and the same value in an indicator compare equal.

The rules (issue 7 brief):

- leading and trailing spaces and tabs are dropped;
- domain names, e-mail addresses and hashes: ASCII letters lower-cased (DNS names are case-insensitive in
  ASCII only, RFC 4343), one trailing dot dropped (`evil.example.` is the fully qualified `evil.example`);
- IP addresses: the canonical text of Python's `ipaddress` (IPv6 compressed, lower case); an address that
  does not parse is refused when its type was declared;
- hashes: hexadecimal of the algorithm's length (MD5 32, SHA-1 40, SHA-256 64, SHA-512 128);
- URLs: as given (only the surrounding blanks dropped).

A value without a declared type is classified from its shape: a URL if it contains `://`, an IPv6 address
if it parses as one, otherwise it is folded as above and called an IPv4 address, e-mail address, hash or
domain name by its look. Classification never changes the normal form of a value beyond these rules, so
an undeclared and a declared value of the same thing compare equal.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class ValueType(StrEnum):
    """What an observed value is; the names are STIX 2.1 cyber-observable types and hash algorithm names."""

    DOMAIN = "domain-name"
    IPV4 = "ipv4-addr"
    IPV6 = "ipv6-addr"
    URL = "url"
    EMAIL = "email-addr"
    MD5 = "md5"
    SHA1 = "sha-1"
    SHA256 = "sha-256"
    SHA512 = "sha-512"


HASH_LENGTHS: Final[dict[ValueType, int]] = {
    ValueType.MD5: 32,
    ValueType.SHA1: 40,
    ValueType.SHA256: 64,
    ValueType.SHA512: 128,
}
ANY_IP: Final = "ip"  # a declared type meaning "an IPv4 or IPv6 address", as MISP's ip-src / ip-dst
# Declared type names accepted in observation files (ASCII case-insensitive): the STIX names, the hash
# algorithm names with and without the hyphen, and the MISP attribute types a MISP export carries.
TYPE_NAMES: Final[dict[str, ValueType | str]] = {
    **{t.value: t for t in ValueType},
    "domain": ValueType.DOMAIN,
    "hostname": ValueType.DOMAIN,
    "ipv4": ValueType.IPV4,
    "ipv6": ValueType.IPV6,
    "ip": ANY_IP,
    "ip-src": ANY_IP,
    "ip-dst": ANY_IP,
    "email": ValueType.EMAIL,
    "email-src": ValueType.EMAIL,
    "email-dst": ValueType.EMAIL,
    "sha1": ValueType.SHA1,
    "sha256": ValueType.SHA256,
    "sha512": ValueType.SHA512,
}
BLANKS: Final = " \t"
_OCTET: Final = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_SHAPE: Final = rf"{_OCTET}(\.{_OCTET}){{3}}"
# What could be an IPv6 address (a superset of what `ipaddress` accepts): hex digits, colons and dots
# (an IPv4 tail), at least one colon, an optional %scope. The matching engine hands exactly these to
# Python; everything else it normalises itself.
IPV6_SHAPE: Final = r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[^%]+)?"
HEX_SHAPE: Final = r"[0-9A-Fa-f]+"
_IPV4 = re.compile(IPV4_SHAPE)
_IPV6 = re.compile(IPV6_SHAPE)
_HEX = re.compile(HEX_SHAPE)
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True, order=True)
class Normal:
    """A value in normal form with its type."""

    type: ValueType
    value: str


def type_name(declared: str) -> ValueType | str | None:
    """The type a declared name stands for (`ValueType` or `ANY_IP`), or None if it is not one we know.
    Case-insensitive in ASCII; surrounding blanks ignored."""
    return TYPE_NAMES.get(declared.strip(BLANKS).translate(_LOWER))


def fold(value: str) -> str:
    """ASCII letters lower-cased and one trailing dot dropped: the normal form of domain names, e-mail
    addresses and hashes."""
    folded = value.translate(_LOWER)
    return folded[:-1] if folded.endswith(".") else folded


@functools.lru_cache(maxsize=1 << 16)  # matched values repeat; the result is immutable
def normalise(raw: str, declared: ValueType | str | None = None) -> Normal:
    """The normal form of `raw`, of the `declared` type (a `ValueType`, `ANY_IP`, or None to classify it
    by its shape). Raises ValueError with the reason when the value is empty or not of its declared type."""
    value = raw.strip(BLANKS)
    if not value:
        raise ValueError("the value is empty")
    if declared is None:
        return _classified(value)
    if declared == ANY_IP or declared in (ValueType.IPV4, ValueType.IPV6):
        return _address(value, declared)
    if declared == ValueType.URL:
        return Normal(ValueType.URL, value)
    kind = ValueType(declared)
    folded = fold(value)
    if not folded:
        raise ValueError(f"{value!r} is not a {kind.value}")
    if kind == ValueType.EMAIL and "@" not in folded:
        raise ValueError(f"{value!r} is not an e-mail address (no @)")
    if kind in HASH_LENGTHS and not (len(value) == HASH_LENGTHS[kind] and _HEX.fullmatch(value)):
        raise ValueError(f"{value!r} is not a {kind.value} hash ({HASH_LENGTHS[kind]} hexadecimal digits)")
    return Normal(kind, folded)


def _address(value: str, declared: ValueType | str) -> Normal:
    """An IP address of the declared family (or either, for `ANY_IP`)."""
    try:
        if declared == ValueType.IPV4:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(value)
        elif declared == ValueType.IPV6:
            address = ipaddress.IPv6Address(value)
        else:
            address = ipaddress.ip_address(value)
    except ValueError:
        family = {"ipv4-addr": "an IPv4", "ipv6-addr": "an IPv6"}.get(str(declared), "an IP")
        raise ValueError(f"{value!r} is not {family} address") from None
    return Normal(ValueType.IPV4 if address.version == 4 else ValueType.IPV6, str(address))


def _classified(value: str) -> Normal:
    """Type and normal form of a value whose type was not declared."""
    if "://" in value:
        return Normal(ValueType.URL, value)
    if ":" in value and _IPV6.fullmatch(value):
        try:
            return Normal(ValueType.IPV6, str(ipaddress.IPv6Address(value)))
        except ValueError:
            pass
    folded = fold(value)
    if not folded:
        raise ValueError("the value is empty")
    return Normal(_shape(folded), folded)


def _shape(folded: str) -> ValueType:
    """The type a folded value looks like."""
    if _IPV4.fullmatch(folded):
        return ValueType.IPV4
    if "@" in folded:
        return ValueType.EMAIL
    if _HEX.fullmatch(folded):
        for kind, length in HASH_LENGTHS.items():
            if len(folded) == length:
                return kind
    return ValueType.DOMAIN
