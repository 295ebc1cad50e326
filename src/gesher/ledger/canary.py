"""Leak tracing with per-recipient canary indicators (issue 6, "Leak tracing"; reference
privacy_warning.md 2.1 item 2 and the recipe of 2.2).

Each recipient of a restricted (AMBER/RED) report or collection gets a few decoy indicators that nobody else
gets, derived without stored state from a secret key:

    tag = HMAC-SHA256(key, "gesher-canary-v1" | recipient | scope | period | kind | n)

(each part length-prefixed, so no two inputs share an encoding), rendered as plausible STIX values that are
harmless to block: a domain `<base32(tag)[:16]>.<canary zone>` in a zone whose DNS we log, and a never-seen
file hash SHA-256(tag). `scope` is the report or collection id, `period` the issuing period (e.g. "2026-11")
so a recipient's canaries change over time.

`trace` takes values found in a leak and names the recipient(s) whose canaries they are. A domain matches on
its first label alone (80 bits of HMAC output; the zone may have been rewritten), a hash on its full value:
a chance match of either is below 2^-80, so one value is evidence. Recipients who compare their copies can
strip canaries (the collusion case, 2.1 item 4); a leak that carries canaries of several recipients names
them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from gesher.ledger.errors import LedgerError

DOMAIN_LABEL_LENGTH = 16  # base32 characters: 80 bits
TAG_PREFIX_LENGTH = 8  # hex characters recorded in the ledger's disclosure entries
ZONE_PATTERN = re.compile(r"(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")
# Canary-shaped values inside any text: a domain whose first label is 16 base32 characters, a SHA-256 in hex.
DOMAIN_IN_TEXT = re.compile(r"(?<![a-z0-9-])[a-z2-7]{16}(?:\.[a-z0-9-]{1,63})+")
SHA256_IN_TEXT = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")


class CanaryKind(StrEnum):
    """How a canary is rendered: a domain under the canary zone, or a file's SHA-256."""

    DOMAIN = "domain"
    SHA256 = "sha256"


DEFAULT_KINDS = (CanaryKind.DOMAIN, CanaryKind.SHA256)


@dataclass(frozen=True)
class Canary:
    """One canary value issued to `recipient` for `scope` in `period`; `tag` is the hex prefix of its HMAC
    to record in the ledger (reference 2.2: the attribution evidence is itself tamper-evident)."""

    kind: CanaryKind
    value: str
    recipient: str
    scope: str
    period: str
    tag: str

    @property
    def pattern(self) -> str:
        """The STIX 2.1 indicator pattern that carries this value."""
        if self.kind is CanaryKind.DOMAIN:
            return f"[domain-name:value = '{self.value}']"
        return f"[file:hashes.'SHA-256' = '{self.value}']"


@dataclass(frozen=True)
class Attribution:
    """A recipient a leak points to: the canaries found (`matched`) and `confidence`, the share of all
    matched canaries that are this recipient's (1.0: the leak carries this recipient's canaries only)."""

    recipient: str
    matched: tuple[Canary, ...]
    confidence: float


def canary_tag(key: bytes, recipient: str, scope: str, period: str, kind: CanaryKind, n: int = 0) -> bytes:
    """HMAC-SHA256 of the length-prefixed parts: the secret behind one canary (RFC 2104 HMAC)."""
    parts = ("gesher-canary-v1", recipient, scope, period, kind.value, str(n))
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    return hmac.new(key, message, hashlib.sha256).digest()


def render(kind: CanaryKind, tag: bytes, zone: str) -> str:
    """The indicator value of a tag: `<16 base32 characters>.<zone>` or SHA-256(tag) in hex."""
    if kind is CanaryKind.DOMAIN:
        return f"{_label(tag)}.{zone}"
    return hashlib.sha256(tag).hexdigest()


def _label(tag: bytes) -> str:
    return base64.b32encode(tag).decode("ascii")[:DOMAIN_LABEL_LENGTH].lower()


def canaries(
    key: bytes,
    recipient: str,
    scope: str,
    period: str,
    *,
    zone: str,
    kinds: Sequence[CanaryKind] = DEFAULT_KINDS,
) -> tuple[Canary, ...]:
    """The canaries of `recipient` for report or collection `scope` in `period`: one per entry of `kinds`
    (repeat a kind for more of it). Deterministic: the same inputs always give the same values."""
    _check_inputs(key, zone)
    issued: list[Canary] = []
    for kind in kinds:
        n = [c.kind for c in issued].count(kind)
        tag = canary_tag(key, recipient, scope, period, kind, n)
        value = render(kind, tag, zone)
        issued.append(Canary(kind, value, recipient, scope, period, tag.hex()[:TAG_PREFIX_LENGTH]))
    return tuple(issued)


def _check_inputs(key: bytes, zone: str) -> None:
    if len(key) < 16:
        raise LedgerError("bad-canary-key", "a canary key has at least 16 bytes (use 32 random bytes)")
    if not ZONE_PATTERN.fullmatch(zone):
        raise LedgerError("bad-canary-zone", f"{zone!r} is not a lowercase DNS zone")


def normalise(value: str) -> str:
    """A value as leaked, made comparable: trimmed, lowercased, refanged ("[.]" -> "."), no final dot."""
    text = value.strip().lower()
    for defanged in ("[.]", "(.)", "[dot]", "{.}"):
        text = text.replace(defanged, ".")
    return text.rstrip(".")


def trace(
    values: Iterable[str],
    candidates: Iterable[str],
    key: bytes,
    scope: str | Sequence[str],
    periods: Sequence[str],
    *,
    kinds: Sequence[CanaryKind] = DEFAULT_KINDS,
) -> tuple[Attribution, ...]:
    """Which candidate recipients the leaked `values` point to: every canary of every candidate for every
    scope and period is recomputed and compared. Strongest first; empty when no value is a canary."""
    scopes = [scope] if isinstance(scope, str) else list(scope)
    index = _canary_index(candidates, key, scopes, periods, kinds)
    leaked = {_match_key(v): v for v in map(normalise, values)}
    found = {replace(index[k], value=v) for k, v in leaked.items() if k in index}
    by_recipient: dict[str, list[Canary]] = {}
    for canary in sorted(found, key=lambda c: (c.recipient, c.scope, c.period, c.kind, c.value)):
        by_recipient.setdefault(canary.recipient, []).append(canary)
    total = len(found)
    attributions = [Attribution(r, tuple(m), len(m) / total) for r, m in by_recipient.items()]
    return tuple(sorted(attributions, key=lambda a: (-len(a.matched), a.recipient)))


def _canary_index(
    candidates: Iterable[str],
    key: bytes,
    scopes: Sequence[str],
    periods: Sequence[str],
    kinds: Sequence[CanaryKind],
) -> dict[str, Canary]:
    """Every candidate canary by its match key (the zone plays no part in matching, see `_match_key`)."""
    index: dict[str, Canary] = {}
    for recipient in candidates:
        for scope in scopes:
            for period in periods:
                for canary in canaries(key, recipient, scope, period, zone="canary.invalid", kinds=kinds):
                    index[_match_key(canary.value)] = canary
    return index


def _match_key(value: str) -> str:
    """A domain matches on its first label (the HMAC part), a hash on itself."""
    label = value.split(".", 1)[0]
    return f"domain:{label}" if "." in value and len(label) == DOMAIN_LABEL_LENGTH else f"value:{value}"


def extract_values(document: Any) -> set[str]:
    """Every candidate value in a leaked document (a STIX bundle, a list, plain text lines already split):
    all strings, plus the quoted literals inside STIX patterns, normalised (see `normalise`)."""
    found: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            found.add(normalise(item))
            found.update(normalise(q) for q in QUOTED.findall(item))
    return found


def scan_text(text: str) -> set[str]:
    """Canary-shaped values anywhere in free text (a paste, a CSV, an e-mail, a URL, HTML), refanged and
    lowercased first (see `normalise`): every domain whose first label could be a canary's, and every
    64-digit hex run. A leak need not be STIX to be traced."""
    flat = normalise(text)
    return set(DOMAIN_IN_TEXT.findall(flat)) | set(SHA256_IN_TEXT.findall(flat))
