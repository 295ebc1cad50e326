"""Leak tracing (issue 6, Build 6): per-recipient canary indicators issued into a collection, and a leaked
file traced back to the recipient(s) it came from, with the evidence from the ledger.

Issuing. Each recipient gets, per collection and period, the canaries of `gesher.ledger.canary` (a domain
under the operator's logged zone and a never-seen SHA-256, both HMAC-derived from the node's canary key),
rendered as ordinary STIX 2.1 indicators marked TLP:AMBER plus a gesher marking that names the recipient
alone and is originator-controlled. The one policy function then gives each canary to its recipient and to
no other partner (decide.py: originator control refuses every partner the markings do not name; AMBER at
the defensive tier is below the release gate, which only sensitive tiers and AMBER+STRICT/RED need). They
are ingested by the normal ingest, served by the normal serving path and recorded as disclosures like
everything else. Ids, timestamps and the marking's id derive from the key, so re-issuing is idempotent
and a recipient cannot recognise a canary by recomputing a public derivation.

Tracing. Values found in the leak are compared with every canary the ledger says was issued (`canary`
entries): a match names the recipient, the issuance entry, and the disclosure entries in which that
recipient was served the canary objects. The same objects served to anyone else (an administrator reads
every canary) are listed apart: they are not that recipient's disclosures.

Services never commit: the caller owns the transaction (DESIGN.md section 3)."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from gesher.errors import Conflict, InvalidRequest
from gesher.exchange.ingest import add_objects
from gesher.exchange.node import Node
from gesher.exchange.policies import explain, explanation_lines
from gesher.ledger import canary as core
from gesher.ledger.canary import Canary, CanaryKind
from gesher.ledger.entries import Entry, Kind, decode, make, served
from gesher.ledger_service import log as ledger
from gesher.partners.service import require_collection, require_partner
from gesher.stix.constants import TLP2_AMBER
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID
from gesher.store import audit
from gesher.store import collections as collection_store
from gesher.store import ledger as ledger_store
from gesher.store import partners as partner_store
from gesher.store.collections import Collection

PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ID_MATCH = "object id"  # a canary found by the id of the object that carried it
CANARY_TIER = "defensive"  # an indicator's usual tier; below the release gate (decide.needs_release)
_NAMESPACE = uuid.UUID("0b7c6f1e-2a57-4c55-9d7e-5f3a8e1c4b90")  # gesher canary object ids (uuid5)
_STIX_TIME = "%Y-%m-%dT%H:%M:%S"
_NAMES = {
    CanaryKind.DOMAIN: ("Suspicious domain", "C2 domain", "Phishing domain", "Malicious infrastructure"),
    CanaryKind.SHA256: ("Malicious file", "Loader sample", "Dropper sample", "Suspicious executable"),
}


# --- issuing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """One recipient's canaries in a collection for a period: the values, the ids of the indicators that
    carry them (same order), the marking naming the recipient, the ledger entry recording the issuance
    (None when an identical issuance was already recorded), and whether the policy lets them reach the
    recipient (if not, `why_not` is the policy's explanation)."""

    recipient: str
    canaries: tuple[Canary, ...]
    objects: tuple[str, ...]
    marking: str
    entry: int | None
    reaches: bool = True
    why_not: tuple[str, ...] = ()


@dataclass(frozen=True)
class Issuance:
    collection: Collection
    period: str
    zone: str
    issued: tuple[Issued, ...]
    stored: int  # new object versions stored (0 on a repeated issuance)
    skipped: tuple[tuple[str, str], ...] = ()  # (partner, why) readers given no canaries by default


def current_period(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m")


def check_period(period: str) -> str:
    if not PERIOD.fullmatch(period):
        raise InvalidRequest(f"period {period[:20]!r} must be a month, YYYY-MM (e.g. 2026-11)")
    return period


def issue(
    conn: Connection,
    node: Node,
    actor: str,
    collection_ref: str,
    period: str | None = None,
    recipients: Sequence[str] | None = None,
) -> Issuance:
    """Issue canaries in `collection_ref` for `period` (default: this month) to `recipients` (default:
    every vetted partner in good standing that can read the collection), in the caller's transaction:
    the objects through the normal ingest, and one `canary` ledger entry per recipient whose issuance the
    ledger does not already hold."""
    period = check_period(period or current_period())
    collection = require_collection(conn, collection_ref)
    if recipients is None:
        chosen, skipped = default_recipients(conn, collection)
    else:
        chosen, skipped = _named_recipients(conn, recipients), []
    if not chosen:
        raise InvalidRequest(f"no recipient for canaries in {collection.name!r}: {_skipped_text(skipped)}")
    key, zone = node.ledger.canary_key(), node.settings.canary_zone
    rendered = [render_objects(key, r, collection.id, period, zone) for r in chosen]
    objects = [obj for marking, indicators, _ in rendered for obj in (marking, *indicators)]
    result = add_objects(conn, collection.id, objects, None, keep_successes=False, source=actor)
    if result.failures:
        bad = result.failures[0]
        raise Conflict(f"canaries could not be stored ({bad.get('id', '')}: {bad['message']}); none were")
    known = _recorded(conn, collection.id, period)
    now = ledger.now()
    issued, entries = [], []
    for recipient, (marking, indicators, values) in zip(chosen, rendered, strict=True):
        ids = tuple(str(i["id"]) for i in indicators)
        entry = None
        if (recipient, ids) not in known:
            entries.append(_entry(now, actor, recipient, collection.id, period, values, ids))
            entry = len(entries) - 1
        issued.append(Issued(recipient, values, ids, str(marking["id"]), entry))
    first = ledger.append(conn, *entries) if entries else 0
    issued = [i if i.entry is None else replace(i, entry=first + i.entry) for i in issued]
    audit.record(
        conn, actor, "leak.issue", f"collection:{collection.id}", period=period, recipients=len(chosen)
    )
    return Issuance(
        collection,
        period,
        zone,
        tuple(_reach(conn, node, i) for i in issued),
        result.stored_count,
        tuple(skipped),
    )


def _entry(
    at: datetime,
    actor: str,
    recipient: str,
    scope: str,
    period: str,
    values: Sequence[Canary],
    ids: Sequence[str],
) -> Entry:
    tags = [c.tag for c in values]
    return make(
        Kind.CANARY, at, actor, recipient=recipient, scope=scope, period=period, tags=tags, objects=list(ids)
    )


def _recorded(conn: Connection, scope: str, period: str) -> set[tuple[str, tuple[str, ...]]]:
    """(recipient, object ids) of the issuances the ledger already holds for this scope and period."""
    found = set()
    for _, entry in _canary_entries(conn):
        if entry.fields["scope"] == scope and entry.fields["period"] == period:
            found.add((entry.fields["recipient"], tuple(entry.fields["objects"])))
    return found


def default_recipients(conn: Connection, collection: Collection) -> tuple[list[str], list[tuple[str, str]]]:
    """Every partner that can read the collection and could receive AMBER material: vetted, not
    suspended, not an administrator (who reads every canary). The others, with the reason."""
    chosen: list[str] = []
    skipped: list[tuple[str, str]] = []
    for partner in partner_store.all_partners(conn):
        can_read, _ = partner_store.grants_of(conn, partner.id).get(collection.id, (False, False))
        if not can_read and not partner.is_admin:
            continue
        why = _unfit(partner)
        if why:
            skipped.append((partner.name, why))
        else:
            chosen.append(partner.name)
    return chosen, skipped


def _unfit(partner: partner_store.PartnerRow) -> str:
    if partner.is_admin:
        return "an administrator reads every canary, so canaries cannot tell its copy apart"
    if partner.suspended:
        return "suspended: receives nothing"
    if partner.trust_tier is None:
        return "not vetted: receives only TLP:CLEAR public material"
    return ""


def _named_recipients(conn: Connection, names: Sequence[str]) -> list[str]:
    chosen: list[str] = []
    for name in dict.fromkeys(n.strip() for n in names if n.strip()):
        partner = require_partner(conn, name)
        if partner.is_admin:
            raise InvalidRequest(
                f"{name} is an administrator: it reads every canary, so it cannot have its own"
            )
        chosen.append(partner.name)
    return chosen


def _skipped_text(skipped: Sequence[tuple[str, str]]) -> str:
    if not skipped:
        return "no partner can read it"
    return "; ".join(f"{name}: {why}" for name, why in skipped)


def _reach(conn: Connection, node: Node, issued: Issued) -> Issued:
    """Ask the policy, through the enforcement path itself, whether each canary reaches its recipient."""
    for object_id in issued.objects:
        for explanation in explain(conn, node.clearance, issued.recipient, object_id):
            if not explanation.receives:
                return replace(issued, reaches=False, why_not=tuple(explanation_lines(explanation)))
    return issued


# --- rendering canaries as STIX ----------------------------------------------------------------------


def _derive(key: bytes, *parts: str) -> bytes:
    message = b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)
    return hmac.new(key, message, hashlib.sha256).digest()


def marking_id(key: bytes, recipient: str) -> str:
    """The id of the marking naming `recipient` alone, derived from the key (not guessable)."""
    digest = _derive(key, "gesher-canary-marking-v1", recipient).hex()
    return f"marking-definition--{uuid.uuid5(_NAMESPACE, digest)}"


def render_marking(key: bytes, recipient: str) -> dict[str, object]:
    """A gesher marking naming `recipient` as the only recipient, originator-controlled. One per recipient,
    shared by all its canaries (a marking definition is never versioned, so its content never changes)."""
    created = datetime(2025, 1, 1, tzinfo=UTC) + _offset(_derive(key, "marking-created", recipient), 365)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": marking_id(key, recipient),
        "created": _stix_time(created),
        "name": f"gesher: {recipient} only",
        "extensions": {
            GESHER_MARKING_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tier": CANARY_TIER,
                "recipients": [recipient],
                "originator_controlled": True,
            }
        },
    }


def render_objects(
    key: bytes, recipient: str, scope: str, period: str, zone: str
) -> tuple[dict[str, object], list[dict[str, object]], tuple[Canary, ...]]:
    """The marking, the indicators and the canaries of one recipient for one scope and period."""
    values = core.canaries(key, recipient, scope, period, zone=zone)
    marking = render_marking(key, recipient)
    seen: dict[CanaryKind, int] = {}
    indicators = []
    for value in values:
        n = seen[value.kind] = seen.get(value.kind, -1) + 1
        tag = core.canary_tag(key, recipient, scope, period, value.kind, n)
        indicators.append(render_indicator(value, tag, zone, period, str(marking["id"])))
    return marking, indicators, values


def render_indicator(value: Canary, tag: bytes, zone: str, period: str, marking: str) -> dict[str, object]:
    """A plausible indicator carrying one canary. Its id and times derive from the full tag (secret), so
    they are stable across re-issues; a new zone gives new objects. It was "created" some time in the 30
    days before the period began, so it is never dated after the day it is issued."""
    start = datetime.strptime(f"{period}-01", "%Y-%m-%d").replace(tzinfo=UTC)
    created = _stix_time(start - timedelta(days=30) + _offset(tag, 30))
    names = _NAMES[value.kind]
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(_NAMESPACE, f'{tag.hex()}|{zone}')}",
        "created": created,
        "modified": created,
        "name": names[tag[-1] % len(names)],
        "indicator_types": ["malicious-activity"],
        "pattern": value.pattern,
        "pattern_type": "stix",
        "valid_from": created,
        "object_marking_refs": [TLP2_AMBER, marking],
    }


def _offset(digest: bytes, days: int) -> timedelta:
    milliseconds = int.from_bytes(digest[:8], "big") % (days * 86_400_000)
    return timedelta(milliseconds=milliseconds)


def _stix_time(at: datetime) -> str:
    return f"{at.strftime(_STIX_TIME)}.{at.microsecond // 1000:03d}Z"


# --- reading a leak ------------------------------------------------------------------------------------


class UnreadableLeak(InvalidRequest):
    """The leaked file cannot be read as JSON or as text (`gesher leak trace` exits 2)."""


@dataclass(frozen=True)
class Leak:
    """What a leaked file holds: candidate values, and the SHA-256 of each STIX object in it as compact
    JSON (compared with the hashes of the bytes served, as the disclosure entries record them)."""

    values: frozenset[str]
    object_hashes: frozenset[str] = frozenset()


def read_leak(data: bytes) -> Leak:
    """A leaked STIX bundle, TAXII envelope or other JSON document (gzip too), or plain text (one value per
    line, or any text: canary-shaped values are found anywhere). Raises `UnreadableLeak` with the reason."""
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise UnreadableLeak(f"a truncated or corrupt gzip file ({error})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableLeak(f"neither JSON nor UTF-8 text (byte {error.start} is not UTF-8)") from None
    if "\x00" in text:
        raise UnreadableLeak("binary data, not JSON or text")
    stripped = text.strip()
    if not stripped:
        raise UnreadableLeak("the file is empty: nothing to trace")
    if stripped[0] in "{[":
        try:
            document = orjson.loads(stripped)
        except orjson.JSONDecodeError as error:
            raise UnreadableLeak(f"not valid JSON ({error})") from None
        return Leak(frozenset(core.extract_values(document) | core.scan_text(text)), _object_hashes(document))
    lines = [line for line in stripped.splitlines() if line.strip()]
    return Leak(frozenset(core.extract_values(lines) | core.scan_text(text)))


def _object_hashes(document: Any) -> frozenset[str]:
    found: set[str] = set()
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("type"), str) and isinstance(item.get("id"), str):
                found.add(hashlib.sha256(orjson.dumps(item)).hexdigest())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return frozenset(found)


# --- tracing -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuanceEntry:
    """A `canary` ledger entry: what was issued to whom."""

    index: int
    at: datetime
    actor: str
    recipient: str
    scope: str
    period: str
    tags: tuple[str, ...]
    objects: tuple[str, ...]


@dataclass(frozen=True)
class Match:
    """One canary found in the leak: how (`kind`: domain, sha256 or object id), the value found, and the
    issuance entry and object that carried it."""

    kind: str
    value: str
    scope: str
    period: str
    tag: str
    object_id: str
    issuance: int


@dataclass(frozen=True)
class Disclosure:
    """A disclosure entry that served canary objects: to whom, when, where, which objects (id and the
    SHA-256 of the bytes served), and which of those the leak holds byte for byte."""

    index: int
    at: datetime
    partner: str
    endpoint: str
    objects: tuple[tuple[str, str], ...]
    identical: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()  # what allowed them ("administrator": an administrator's read)


@dataclass(frozen=True)
class Finding:
    """A recipient the leak points to: the canaries found, the share of all canaries found that are its
    (`confidence`), the issuance entries, and the disclosures in which it was served them."""

    recipient: str
    confidence: float
    matches: tuple[Match, ...]
    issuances: tuple[IssuanceEntry, ...]
    disclosures: tuple[Disclosure, ...]

    @property
    def canaries(self) -> int:
        return len({m.tag for m in self.matches})


@dataclass(frozen=True)
class Trace:
    """Everything a leak points to. `others` are disclosures of the same canary objects to partners other
    than their recipient (administrators read everything): listed, never counted as the recipient's.
    `served_all` names the partners that were served every canary found."""

    values: int
    findings: tuple[Finding, ...]
    others: tuple[Disclosure, ...] = ()
    served_all: tuple[str, ...] = ()
    issued: int = 0  # canary issuances in the ledger
    collections: dict[str, str] = field(default_factory=dict)  # scope id -> collection name


def _canary_entries(conn: Connection) -> Iterable[tuple[int, Entry]]:
    for index, body in ledger_store.bodies_of_kind(conn, Kind.CANARY.value):
        yield index, decode(body)


def issuances(conn: Connection) -> list[IssuanceEntry]:
    """Every canary issuance the ledger records, oldest first."""
    found = []
    for index, entry in _canary_entries(conn):
        f = entry.fields
        found.append(
            IssuanceEntry(
                index, entry.at, entry.actor, f["recipient"], f["scope"], f["period"],
                tuple(f["tags"]), tuple(f["objects"]),
            )
        )  # fmt: skip
    return found


def trace_leak(conn: Connection, node: Node, leak: Leak) -> Trace:
    """Name the recipients whose canaries `leak` holds, with the evidence chain from the ledger."""
    issued = issuances(conn)
    matches = _matches(leak, issued, node.ledger.canary_key())
    if not matches:
        return Trace(len(leak.values), (), issued=len(issued))
    owners = {m.object_id: recipient for recipient, ms in matches.items() for m in ms}
    relevant = {m.issuance for ms in matches.values() for m in ms}
    since = min(ledger.micros(i.at) for i in issued if i.index in relevant)  # nothing served before
    disclosures = _disclosures(conn, set(owners), since, leak.object_hashes)
    total = len({(recipient, m.tag) for recipient, ms in matches.items() for m in ms})
    findings = [_finding(r, found, total, issued, disclosures) for r, found in matches.items()]
    findings.sort(key=lambda f: (-f.canaries, f.recipient))
    return Trace(
        len(leak.values),
        tuple(findings),
        tuple(d for d in disclosures if any(owners[o] != d.partner for o, _ in d.objects)),
        _served_all(matches, disclosures),
        len(issued),
        _collection_names(conn, {m.scope for ms in matches.values() for m in ms}),
    )


def _finding(
    recipient: str,
    found: Sequence[Match],
    total: int,
    issued: Sequence[IssuanceEntry],
    disclosures: Sequence[Disclosure],
) -> Finding:
    """One recipient's part of a leak: its canaries found, their issuance, and its own disclosures."""
    entries = {m.issuance for m in found}
    return Finding(
        recipient,
        len({m.tag for m in found}) / total,
        tuple(sorted(found, key=lambda m: (m.kind, m.value))),
        tuple(i for i in issued if i.index in entries),
        tuple(d for d in disclosures if d.partner == recipient),
    )


def _matches(leak: Leak, issued: Sequence[IssuanceEntry], key: bytes) -> dict[str, list[Match]]:
    """Canaries found in the leak by recipient: values recomputed per (scope, period) from the recipients
    issued canaries for it (`canary.trace`), and the canary objects' ids themselves."""
    groups: dict[tuple[str, str], set[str]] = {}
    for i in issued:
        groups.setdefault((i.scope, i.period), set()).add(i.recipient)
    found: dict[str, dict[tuple[str, str], Match]] = {}
    for (scope, period), recipients in groups.items():
        for attribution in core.trace(leak.values, sorted(recipients), key, scope, [period]):
            for c in attribution.matched:
                for i in _issuances_of(issued, c.recipient, scope, period, c.tag):
                    match = Match(
                        c.kind.value, c.value, scope, period, c.tag, i.objects[i.tags.index(c.tag)], i.index
                    )
                    found.setdefault(c.recipient, {})[(match.kind, match.object_id)] = match
    for i in issued:
        for tag, object_id in zip(i.tags, i.objects, strict=False):
            if object_id in leak.values:
                match = Match(ID_MATCH, object_id, i.scope, i.period, tag, object_id, i.index)
                found.setdefault(i.recipient, {})[(match.kind, object_id)] = match
    return {recipient: list(ms.values()) for recipient, ms in found.items()}


def _issuances_of(
    issued: Sequence[IssuanceEntry], recipient: str, scope: str, period: str, tag: str
) -> list[IssuanceEntry]:
    return [
        i for i in issued if (i.recipient, i.scope, i.period) == (recipient, scope, period) and tag in i.tags
    ]


_NOT_BODIES = ("/manifest/", "/versions/")  # responses that name objects without serving their content


def _disclosures(
    conn: Connection, object_ids: set[str], since: int, hashes: frozenset[str]
) -> list[Disclosure]:
    """Disclosure entries since `since` that served any of `object_ids` (their content, not only their
    id in a manifest), with the objects concerned."""
    needles = re.compile("|".join(re.escape(o) for o in sorted(object_ids)).encode())
    found = []
    for index, body in ledger_store.bodies_of_kind(conn, Kind.DISCLOSURE.value, since=since):
        if not needles.search(body):
            continue
        entry = decode(body)
        endpoint = entry.fields["endpoint"]
        if any(part in endpoint for part in _NOT_BODIES):
            continue
        canaries = [s for s in served(entry) if s.object_id in object_ids]
        if canaries:
            objects = tuple((s.object_id, s.sha256) for s in canaries)
            identical = tuple(o for o, digest in objects if digest in hashes)
            rules = tuple(sorted({s.rule for s in canaries}))
            partner = entry.fields["partner"]
            found.append(Disclosure(index, entry.at, partner, endpoint, objects, identical, rules))
    return found


def _served_all(matches: dict[str, list[Match]], disclosures: Sequence[Disclosure]) -> tuple[str, ...]:
    """Partners that were served at least one object of every canary found."""
    canaries: dict[tuple[str, str], set[str]] = {}
    for recipient, ms in matches.items():
        for m in ms:
            canaries.setdefault((recipient, m.tag), set()).add(m.object_id)
    received: dict[str, set[str]] = {}
    for d in disclosures:
        received.setdefault(d.partner, set()).update(o for o, _ in d.objects)
    return tuple(sorted(p for p, got in received.items() if all(ids & got for ids in canaries.values())))


def _collection_names(conn: Connection, scopes: set[str]) -> dict[str, str]:
    names = {}
    for scope in scopes:
        found = collection_store.by_id(conn, scope)
        names[scope] = found.name if found is not None else "(deleted collection)"
    return names
