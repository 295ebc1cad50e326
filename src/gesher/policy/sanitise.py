"""Sanitisation profiles, applied at serve time to what a partner receives (issue 3, Build 5).

A `Sanitiser` is compiled once per (profile, exchange identity). For each stored object, `needs(body)`
looks at the stored JSON bytes and answers False only when `apply` would change nothing, so most objects
are served without being parsed. `apply` then works on a copy, in this order:

1. `protected_originators`: a `created_by_ref` naming one is replaced by the exchange's identity (only
   `created_by_ref`: other references, `where_sighted_refs` included, are the caller's business).
2. `drop_internal_addresses`: RFC 1918, loopback, link-local and unique-local addresses (IPv4-mapped IPv6
   forms of internal IPv4 ones too), and names equal to or under one of `internal_domains`.
   An address SCO (`ipv4-addr`, `ipv6-addr`, `domain-name`, `url`, `email-addr`) whose `value` mentions
   one, and an indicator whose `pattern` does (any pattern type), are withheld: a pattern cannot be
   half redacted and keep its meaning. In free text (`description`, `abstract`, `content`, `explanation`,
   and their translations in a language-content) each occurrence becomes `[redacted]`, with the local
   part of an e-mail address and the subdomains of a domain.
3. `drop_properties`: those top-level properties (and their translations) are removed.
4. `drop_free_text`: so are the free-text properties.
5. `denied_selectors`: the granular-marking selectors the partner may not see (`remove_selectors`).

What is returned is a valid STIX 2.1 object or nothing: a required property that would have to go
withholds the object, a list or dictionary a removal empties is removed with it (STIX forbids empty
ones), granular-marking selectors follow the removals, and a last check with the strict validator
withholds anything the redaction made invalid (a `location` without its only `country`, say).

Addresses are found in ASCII dotted decimal (leading zeros read as decimal, as a human would) and in
any IPv6 text form; a dot may be backslash-escaped (MATCHES patterns). A regular expression that spells
a range rather than an address (`'^10\\.1\\..*'`) is not recognised. Domains match case-insensitively
in ASCII: give `internal_domains` in their ASCII (punycode) form.

The explanations in `Redacted.redactions` name properties and counts, never the redacted values: they
may be shown to people who are not allowed to see those values.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from gesher.stix.properties import external_references, id_error, kill_chain_phases
from gesher.stix.validate import object_error, required_properties


@dataclass(frozen=True)
class Profile:
    """How objects are redacted for the partners a rule or agreement assigns this profile to."""

    name: str
    protected_originators: frozenset[str] = frozenset()  # identity ids replaced by the exchange's identity
    drop_internal_addresses: bool = False  # RFC 1918, loopback, link-local, internal domains
    internal_domains: frozenset[str] = frozenset()  # e.g. "corp.example.il" (and its subdomains)
    drop_properties: frozenset[str] = frozenset()  # victim-identifying top-level properties
    drop_free_text: bool = False  # description and other free text, where not required


@dataclass(frozen=True, slots=True)
class Redacted:
    """What a partner receives: `obj` None means the whole object is withheld. `redactions` explains every
    change, in order (the withholding reason last). When nothing changed, `obj` is the input itself."""

    obj: dict[str, Any] | None
    redactions: tuple[str, ...]


REDACTED: Final = "[redacted]"
FREE_TEXT: Final = ("description", "abstract", "content", "explanation")
_ADDRESS_SCOS: Final = frozenset({"ipv4-addr", "ipv6-addr", "domain-name", "url", "email-addr"})
_ALWAYS_REQUIRED: Final = ("type", "id")

Path = tuple[str | int, ...]  # a parsed selector: property names and list indexes

# --- finding internal addresses -------------------------------------------------------------------

_V4_NETWORKS: Final = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
)
_V6_NETWORKS: Final = tuple(ipaddress.IPv6Network(n) for n in ("::1/128", "fe80::/10", "fc00::/7"))
# Every dotted quad, overlapping ones included (`1.10.1.2.3` holds 10.1.2.3): the lookahead captures.
_V4: Final = re.compile(
    r"(?<![0-9])(?=([0-9]{1,3})\\*\.([0-9]{1,3})\\*\.([0-9]{1,3})\\*\.([0-9]{1,3})(?![0-9]))", re.ASCII
)
# A run of hex digits, dots and colons with a colon in it; runs with two or more are tried as IPv6.
_V6_RUN: Final = re.compile(r"(?<![0-9A-Fa-f:.])[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*", re.ASCII)
_LABEL_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.\\")
_LOCAL_PART_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._%+")

# What `needs` looks for in the stored bytes: a superset of what the finder finds (keep the two in step).
# Python's `re` searches fast only for a pattern that starts with one literal character, hence one pattern
# per leading character rather than one alternation. JSON doubles each backslash, hence `\\*` before each
# dot; `0*` because octets may carry leading zeros.
# The whole dotted quad is asked for: a bare `10.` is in every timestamp whose seconds are 10.
_QUAD_TAIL: Final = rb"\\*\.[0-9]{1,3}\\*\.[0-9]"  # ".N.N", the rest of an address after its second octet
_V4_HINT: Final = re.compile(
    rb"1(?:0\\*\.[0-9]{1,3}|27\\*\.[0-9]{1,3}|69\\*\.0*254|72\\*\.0*(?:1[6-9]|2[0-9]|3[01])|92\\*\.0*168)"
    + _QUAD_TAIL
)
# An IPv6 address in text holds `::` or, written in full, three groups between colons (timestamps have two).
_V6_HINT: Final = re.compile(rb":(?::|[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:[0-9a-fA-F]{1,4}:)")
_ESCAPE_HINT: Final = b"\\u"  # orjson escapes no printable character: a body that has escapes is parsed
_CREATED_BY: Final = b'"created_by_ref":"'


def _internal_v4(octets: Sequence[str]) -> bool:
    values = [int(o) for o in octets]
    if any(v > 255 for v in values):
        return False
    address = ipaddress.IPv4Address(bytes(values))
    return any(address in network for network in _V4_NETWORKS)


def _internal_v6(text: str) -> bool:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return False
    mapped = address.ipv4_mapped
    if mapped is not None:
        return any(mapped in network for network in _V4_NETWORKS)
    return any(address in network for network in _V6_NETWORKS)


def _v6_readings(run: str) -> Iterable[str]:
    """The ways a run of hex digits, dots and colons may hold an address: the run itself, without trailing
    punctuation, with its first group cut after its last dot (`x.fd00::1`) or to its last 1 to 4 characters
    (`abfe80::1`). Each reading is a substring of the run, so the `needs` hints find it too."""
    head, _, rest = run.partition(":")
    heads = {head, head.rpartition(".")[2], *(head[-k:] for k in range(1, 5) if len(head) > 4)}
    for tail in {rest, rest.rstrip("."), rest.rstrip(".:")}:
        for h in heads:
            yield f"{h}:{tail}"


def _domain_pattern(domains: Iterable[str]) -> str | None:
    cores = sorted({d.strip(".").lower() for d in domains if d.strip(".")}, key=len, reverse=True)
    if not cores:
        return None
    return "|".join(r"\\*\.".join(re.escape(label) for label in d.split(".")) for d in cores)


class _Finder:
    """Spans of internal addresses and names in a text."""

    def __init__(self, domains: Iterable[str]) -> None:
        core = _domain_pattern(domains)
        self._domain = (
            None
            if core is None
            else re.compile(
                rf"(?<![a-z0-9-])(?:{core})(?![a-z0-9-]|\\*\.[a-z0-9-])", re.ASCII | re.IGNORECASE
            )
        )

    def spans(self, text: str) -> list[tuple[int, int]]:
        found = [(m.start(1), m.end(4)) for m in _V4.finditer(text) if _internal_v4(m.groups())]
        for m in _V6_RUN.finditer(text):
            if m.group().count(":") >= 2 and any(_internal_v6(r) for r in _v6_readings(m.group())):
                found.append(m.span())
        if self._domain is not None:
            found.extend(_widen(text, m.start(), m.end()) for m in self._domain.finditer(text))
        return _merged(found)

    def redact(self, text: str) -> tuple[str, int]:
        spans = self.spans(text)
        for start, end in reversed(spans):
            text = text[:start] + REDACTED + text[end:]
        return text, len(spans)


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Take in the subdomains before an internal domain and, after an `@`, the mailbox's local part."""
    while start > 0 and text[start - 1] in _LABEL_CHARS:
        start -= 1
    if start > 0 and text[start - 1] == "@":
        start -= 1
        while start > 0 and text[start - 1] in _LOCAL_PART_CHARS:
            start -= 1
    return start, end


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


# --- the sanitiser ---------------------------------------------------------------------------------


class Sanitiser:
    """Compiled once per (profile, exchange identity); used for every object served to partners with that
    profile."""

    def __init__(self, profile: Profile, exchange_identity: str) -> None:
        reason = id_error("identity", exchange_identity)
        if reason is not None:
            raise ValueError(f"exchange identity: {reason}")
        self.profile = profile
        self.exchange_identity = exchange_identity
        self._finder = _Finder(profile.internal_domains) if profile.drop_internal_addresses else None
        self._dropped = frozenset(profile.drop_properties) | (
            frozenset(FREE_TEXT) if profile.drop_free_text else frozenset()
        )
        self._originators = frozenset(i.encode() for i in profile.protected_originators)
        self._addresses = profile.drop_internal_addresses
        self._property_hint = _property_hint(profile)
        self._domains = frozenset(
            d.strip(".").lower().encode() for d in profile.internal_domains if profile.drop_internal_addresses
        ) - {b""}
        core = _domain_pattern(profile.internal_domains) if self._domains else None
        self._domain_hint = re.compile(b"(?!)" if core is None else core.encode(), re.IGNORECASE)
        self._any = bool(self._originators or self._addresses or self._property_hint or self._domains)
        self._addresses_only = self._addresses and not (
            self._originators or self._property_hint or self._domains
        )

    def needs_nothing(self, address_hint: bool) -> bool:
        """True when no stored body can need this profile, given what ingest found about it (`address_hint`
        is `may_hold_address(body)`): serving then skips `needs` for every such body."""
        return not self._any or (self._addresses_only and not address_hint)

    def needs(self, body: bytes, address_hint: bool = True) -> bool:
        """Cheap pre-check on the stored JSON bytes (compact orjson output). False means `apply` would change
        nothing (without denied selectors) and the object may be served as stored, unparsed. A True may be
        needless; a False never is. `address_hint` False: `may_hold_address(body)` is known to be False
        (worked out at ingest), so the address searches are skipped."""
        if not self._any:
            return False
        escaped = body.find(b"\\") >= 0  # memchr: backslashes are rare in stored JSON
        if escaped and _ESCAPE_HINT in body:
            return True
        if self._originators:
            if any(b'"id":"' + o + b'"' in body for o in self._originators):
                return True  # the protected originator's own identity object
            at = body.find(_CREATED_BY)
            while at >= 0:
                at += len(_CREATED_BY)
                if body[at : body.find(b'"', at)] in self._originators:
                    return True
                at = body.find(_CREATED_BY, at)
        if self._addresses and address_hint and may_hold_address(body):
            return True
        if self._property_hint is not None and self._property_hint.search(body) is not None:
            return True
        if self._domains:
            # Without a backslash a domain can only be spelt with plain dots; long needles are found fast.
            lowered = body.lower()
            if any(domain in lowered for domain in self._domains):
                return True
            return escaped and self._domain_hint.search(body) is not None
        return False

    def apply(self, obj: dict[str, Any], denied_selectors: Sequence[str] = ()) -> Redacted:
        """The object as this profile lets it out, minus the properties under `denied_selectors` (granular
        markings the partner may not see). Never mutates `obj`."""
        t = str(obj.get("type"))
        reason = self._withheld(obj, t)
        if reason is not None:  # decided before copying: most redacted objects are withheld whole
            return Redacted(None, (reason,))
        out: dict[str, Any] = _copy(obj)
        notes: list[str] = []
        self._rewrite(out, t, notes)
        removals, reason = self._removals(out, t, denied_selectors)
        if reason is None and removals:
            if _remove(out, list(removals)) is None:
                reason = "a removal would empty a required property: withheld"
            else:
                notes.extend(f"{selector}: {why}" for selector, why in removals.values())
        if reason is not None:
            return Redacted(None, (*notes, reason))
        if not notes:
            return Redacted(obj, ())
        reason = _validity_error(out)
        if reason is not None:
            return Redacted(
                None, (*notes, f"the redacted object would not be valid STIX ({reason}): withheld")
            )
        return Redacted(out, tuple(notes))

    def _withheld(self, obj: dict[str, Any], t: str) -> str | None:
        """Why the whole object is withheld by steps 1 and 2, if it is: the identity of a protected
        originator (replacing references to it would hide nothing), or an address object or indicator
        that names an internal address."""
        if obj.get("id") in self.profile.protected_originators:
            return "the identity of a protected originator: withheld"
        if self._finder is None:
            return None
        value = obj.get("value")
        if t in _ADDRESS_SCOS and isinstance(value, str) and self._finder.spans(value):
            return f"value: internal address or domain: {t} withheld"
        pattern = obj.get("pattern")
        if t == "indicator" and isinstance(pattern, str) and self._finder.spans(pattern):
            return "pattern: internal address or domain: indicator withheld"
        return None

    def _rewrite(self, out: dict[str, Any], t: str, notes: list[str]) -> None:
        """Steps 1 and 2 on an object not withheld, in place on the copy."""
        if out.get("created_by_ref") in self.profile.protected_originators:
            out["created_by_ref"] = self.exchange_identity
            notes.append("created_by_ref: protected originator replaced by the exchange identity")
        if self._finder is not None:
            self._internal_addresses(self._finder, out, t, notes)

    def _removals(
        self, out: dict[str, Any], t: str, denied_selectors: Sequence[str]
    ) -> tuple[dict[Path, tuple[str, str]], str | None]:
        """Steps 3 to 5: path -> (selector, why), in order; or a reason when the object must be withheld."""
        removals: dict[Path, tuple[str, str]] = {}
        for name in sorted(self._dropped.intersection(out), key=_profile_order):
            if _is_required(t, (name,)):
                return {}, f"{name}: required for {t}, cannot be dropped: withheld"
            free = name in FREE_TEXT and self.profile.drop_free_text
            removals[(name,)] = (name, "dropped (free text)" if free else "dropped (profile)")
        for lang, translations in _translations(out, t):
            for name in sorted(self._dropped.intersection(translations), key=_profile_order):
                removals[("contents", lang, name)] = (f"contents.{lang}.{name}", "dropped (translation)")
        for selector in dict.fromkeys(denied_selectors):
            path = _parse(selector)
            if path is None or not _resolves(out, path):
                continue
            if _is_required(t, path):
                return {}, f"{selector}: required for {t}, under a denied marking: withheld"
            removals.setdefault(path, (selector, "removed (denied granular marking)"))
        return removals, None

    def _internal_addresses(self, finder: _Finder, out: dict[str, Any], t: str, notes: list[str]) -> None:
        """Step 2 in the free text, in place on the copy."""
        for name in FREE_TEXT:
            text = out.get(name)
            if isinstance(text, str):
                out[name], count = finder.redact(text)
                if count:
                    notes.append(f"{name}: {_count(count)} replaced by {REDACTED}")
        for lang, translations in _translations(out, t):
            for name in FREE_TEXT:
                text = translations.get(name)
                if isinstance(text, str):
                    translations[name], count = finder.redact(text)
                    if count:
                        notes.append(f"contents.{lang}.{name}: {_count(count)} replaced by {REDACTED}")


def may_hold_address(body: bytes) -> bool:
    """Whether stored JSON bytes may spell an internal IP address, plainly or through `\\u` escapes (a
    superset of what the finder finds). Independent of every profile, so the exchange works it out once
    per version at ingest, and serving skips these searches for the many versions where it is False."""
    return _ESCAPE_HINT in body or _V4_HINT.search(body) is not None or _V6_HINT.search(body) is not None


def _property_hint(profile: Profile) -> re.Pattern[bytes] | None:
    names = sorted(
        profile.drop_properties | (frozenset(FREE_TEXT) if profile.drop_free_text else frozenset())
    )
    if not names:
        return None
    return re.compile(b'"(?:' + b"|".join(re.escape(n.encode()) for n in names) + b')":')


def _validity_error(out: dict[str, Any]) -> str | None:
    """The strict validator's verdict on a redacted object. A STIX pattern is never changed (it is required
    and cannot be redacted in part) and was checked at ingest; it is not parsed again: that can take a
    millisecond, a hundred times the rest."""
    if out.get("type") == "indicator" and out.get("pattern_type") == "stix":
        return object_error({**out, "pattern_type": "x-checked-at-ingest"})
    return object_error(out)


def _translations(out: dict[str, Any], t: str) -> list[tuple[str, dict[str, Any]]]:
    contents = out.get("contents") if t == "language-content" else None
    if not isinstance(contents, dict):
        return []
    return [(lang, tr) for lang, tr in contents.items() if isinstance(tr, dict)]


def _profile_order(name: str) -> tuple[bool, str]:
    return name in FREE_TEXT, name


def _count(n: int) -> str:
    return "1 internal address or domain" if n == 1 else f"{n} internal addresses or domains"


# --- granular-marking selectors ---------------------------------------------------------------------

_INDEX: Final = re.compile(r"\[([0-9]+)\]")


def remove_selectors(obj: dict[str, Any], selectors: Sequence[str]) -> dict[str, Any] | None:
    """STIX 2.1 granular-marking selectors (section 7.2.3.1: `description`, `external_references.[1].url`,
    `kill_chain_phases.[0]`, `x_foo.bar`) removed from a deep copy of `obj`; None when one names a required
    property or a part of one (the object must be withheld).

    A selector that does not resolve is ignored. All are resolved first, so removing a list element does not
    shift another selector's target. A list, dictionary, external reference or kill-chain phase a removal
    empties or leaves invalid goes too. The object's own granular markings follow: their selectors are
    renumbered past removed list elements, dropped when what they select is gone, and a marking left with
    no selector is dropped (and `granular_markings` itself when empty: STIX forbids empty lists)."""
    t = str(obj.get("type"))
    paths = [p for s in dict.fromkeys(selectors) if (p := _parse(s)) is not None and _resolves(obj, p)]
    if any(_is_required(t, p) for p in paths):
        return None
    out: dict[str, Any] = _copy(obj)
    return _remove(out, paths) if paths else out


def _is_required(t: str, path: Path) -> bool:
    return path[0] in _ALWAYS_REQUIRED or path[0] in required_properties(t)


def _parse(selector: str) -> Path | None:
    steps: list[str | int] = []
    for step in selector.split("."):
        index = _INDEX.fullmatch(step)
        if index is not None:
            steps.append(int(index.group(1)))
        elif step and not step.startswith("["):
            steps.append(step)
        else:
            return None
    return tuple(steps)


def _selector(path: Path) -> str:
    return ".".join(f"[{s}]" if isinstance(s, int) else s for s in path)


def _resolves(obj: Any, path: Path) -> bool:
    node = obj
    for step in path:
        found = (
            isinstance(node, list) and step < len(node)
            if isinstance(step, int)
            else isinstance(node, dict) and step in node
        )
        if not found:
            return False
        node = node[step]
    return True


def _get(obj: Any, path: Path) -> Any:
    for step in path:
        obj = obj[step]
    return obj


def _remove(obj: dict[str, Any], paths: list[Path]) -> dict[str, Any] | None:
    """Remove resolved `paths` from `obj` (a copy, changed in place); None if a required property went."""
    required = [n for n in (*_ALWAYS_REQUIRED, *required_properties(str(obj.get("type")))) if n in obj]
    # Each path is read through the removals before it: moved down past removed list elements, or skipped
    # when one took it already. Deepest and highest-indexed first all the same, which moves the fewest.
    log: list[Path] = []
    for path in sorted(set(paths), reverse=True):  # paths resolve in one object: no str/int comparison
        moved = _through(path, log)
        if moved is not None:
            log.extend(_remove_one(obj, moved))
    if any(name not in obj for name in required):
        return None
    _follow_markings(obj, log)
    return obj


def _through(path: Path, log: list[Path]) -> Path | None:
    """Where `path` points after the removals in `log`, in order: None if it went with one of them."""
    for removed in log:
        n = len(removed)
        if path[:n] == removed:
            return None
        last = removed[-1]
        if isinstance(last, int) and len(path) >= n and path[: n - 1] == removed[:-1]:
            step = path[n - 1]
            if isinstance(step, int) and step > last:
                path = (*path[: n - 1], step - 1, *path[n:])
    return path


def _remove_one(obj: dict[str, Any], path: Path) -> list[Path]:
    """Remove one path, then each container the removal leaves empty or invalid; the paths removed."""
    removed: list[Path] = []
    while path:
        parent = _get(obj, path[:-1])
        del parent[path[-1]]
        removed.append(path)
        path = path[:-1]
        if path and parent and not _broken(path, parent):
            break
    return removed


def _broken(path: Path, node: Any) -> bool:
    """An element of a list whose elements have required parts of their own, left without them."""
    if len(path) == 2 and isinstance(path[1], int):
        if path[0] == "external_references":
            return external_references("x", [node]) is not None
        if path[0] == "kill_chain_phases":
            return kill_chain_phases("x", [node]) is not None
    return False


def _follow_markings(obj: dict[str, Any], log: list[Path]) -> None:
    markings = obj.get("granular_markings")
    if not (log and isinstance(markings, list)):
        return
    kept = []
    for marking in markings:
        selectors = []
        for selector in marking.get("selectors", ()):
            path = _parse(selector) if isinstance(selector, str) else None
            moved = path if path is None else _through(path, log)
            if path is None:
                selectors.append(selector)  # not ours to judge; the validator will
            elif moved is not None:
                selectors.append(_selector(moved))
        if selectors:
            kept.append({**marking, "selectors": selectors})
    if kept:
        obj["granular_markings"] = kept
    else:
        del obj["granular_markings"]


def _copy(value: Any) -> Any:
    """A deep copy of parsed JSON (faster than `copy.deepcopy`: only dicts and lists are containers)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
