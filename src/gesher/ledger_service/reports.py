"""Gathering an impact report from the store: the disclosure and ingest entries of the ledger, the partners,
the access labels and policies, and a few facts about the object versions disclosed (their label and when
they were added; never their bodies). The computation is `ledger_service.impact`'s, on plain records.

Reports are read-only and fast: entries are streamed in index order and parsed with orjson without the
validating `ledger.entries.decode` (checking the ledger is `gesher ledger verify`'s job), and objects are
looked up only for the versions counted, by collection and id (the store's unique index)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select

from gesher.errors import Unavailable
from gesher.ledger.entries import AT_FORMAT, Kind
from gesher.ledger_service import impact
from gesher.ledger_service.impact import Disclosure, Facts, Options, Recipient, Report
from gesher.policy.labels import AccessLabel
from gesher.policy.policy_file import PolicyFileError, parse_policy
from gesher.policy.rules import DENY_ALL, Policy
from gesher.store import collections as collection_store
from gesher.store import labels as label_store
from gesher.store import ledger as ledger_store
from gesher.store import partners as partner_store
from gesher.store import policies as policy_store
from gesher.store.tables import objects

_COLLECTION = re.compile(r"/collections/([^/]+)/")
_CHUNK = 500  # object ids per lookup (SQLite allows 999 parameters)
_PARTNER_SOURCE = "partner:"


def disclosures_report(conn: Connection, options: Options) -> Report:
    """The impact report over the period `options` names, from what `conn` sees."""
    partners = partner_store.all_partners(conn)
    recipients = {p.name: Recipient(p.name, p.country, p.trust_tier, p.is_admin) for p in partners}
    admins = frozenset(p.name for p in partners if p.is_admin)
    tally = impact.Tally(options, admins)
    for disclosure in _disclosures(conn, options.until):
        tally.add(disclosure)
    facts = _facts(conn, tally)
    given = _given(conn, options, tally, facts, {p.id: p.name for p in partners}, set(recipients))
    if not options.include_admins:
        given = [g for g in given if g[0] not in admins]
    return impact.build(tally, facts, _Defaults(conn), recipients, impact.contributions(given))


def _parsed(body: bytes) -> dict[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise Unavailable(f"a ledger entry is not JSON ({error}): run `gesher ledger verify`") from None
    if not isinstance(document, dict):
        raise Unavailable("a ledger entry is not a JSON object: run `gesher ledger verify`")
    return document


def _at(document: dict[str, Any]) -> int:
    try:
        moment = datetime.strptime(document["at"], AT_FORMAT).replace(tzinfo=UTC)
    except (KeyError, TypeError, ValueError):
        raise Unavailable("a ledger entry has no valid time: run `gesher ledger verify`") from None
    return impact.micros_of(moment)


def _disclosures(conn: Connection, until: int | None) -> Iterator[Disclosure]:
    """Every disclosure entry before `until`, oldest first (those before the period too: they tell
    whether a version had been released before it)."""
    for _, body in _stream(conn, Kind.DISCLOSURE, until):
        d = _parsed(body)
        try:
            found = _COLLECTION.search(d["endpoint"])
            yield Disclosure(
                _at(d), d["partner"], int(d["policy_version"]), found and found.group(1), d["objects"]
            )
        except (KeyError, TypeError, ValueError):
            raise Unavailable("a disclosure entry is malformed: run `gesher ledger verify`") from None


def _stream(conn: Connection, kind: Kind, until: int | None) -> Iterator[tuple[int, bytes]]:
    # A server-side cursor on PostgreSQL, so a large ledger is not loaded whole (SQLite streams anyway).
    conn.execution_options(stream_results=True, max_row_buffer=500)
    return ledger_store.bodies_of_kind(conn, kind.value, None, until)


def _ingests(conn: Connection, until: int | None) -> Iterator[tuple[int, str, list[list[str]]]]:
    """(time, source, [[object id, version, sha256], ...]) of every ingest entry before `until`."""
    for _, body in _stream(conn, Kind.INGEST, until):
        d = _parsed(body)
        try:
            yield _at(d), str(d["source"]), d["objects"]
        except KeyError:
            raise Unavailable("an ingest entry is malformed: run `gesher ledger verify`") from None


def _facts(conn: Connection, tally: impact.Tally) -> list[Facts]:
    """What the store says of every version counted in the period (the others stay `Facts()`), looked up
    in the collection each was first disclosed from."""
    facts = [Facts()] * len(tally.collection)
    wanted: dict[str, dict[str, dict[str, int]]] = {}  # collection -> object id -> version -> interned id
    ids = list(tally.ids.items())
    for kid in tally.needed():
        (object_id, version), collection = ids[kid][0], tally.collection[kid]
        if collection is not None:
            wanted.setdefault(collection, {}).setdefault(object_id, {})[version] = kid
    labels = {i: _label_facts(label) for i, label in label_store.all_labels(conn).items()}
    for collection_id, versions in wanted.items():
        found = collection_store.by_id(conn, collection_id)
        if found is not None:
            _lookup(conn, found.key, versions, labels, facts)
    return facts


def _label_facts(label: AccessLabel) -> tuple[str | None, str | None]:
    tier = label.tier.name.lower() if label.tier is not None else None
    tlp = label.tlp.name.replace("_", "+") if label.tlp is not None else None
    return tier, tlp


_VERSIONS_OF = (
    select(objects.c.object_id, objects.c.version_text, objects.c.label_id, objects.c.date_added)
    .where(objects.c.collection_key == bindparam("key"))
    .where(objects.c.object_id.in_(bindparam("ids", expanding=True)))
)


def _lookup(
    conn: Connection,
    key: int,
    versions: dict[str, dict[str, int]],
    labels: dict[int, tuple[str | None, str | None]],
    facts: list[Facts],
) -> None:
    """Label and date_added of the wanted versions of one collection, by the (collection, id) index."""
    object_ids = list(versions)
    for start in range(0, len(object_ids), _CHUNK):
        chunk = object_ids[start : start + _CHUNK]
        for object_id, version, label_id, added in conn.execute(_VERSIONS_OF, {"key": key, "ids": chunk}):
            kid = versions[object_id].get(version)
            if kid is None:
                continue
            tier, tlp = labels.get(label_id, (None, None)) if label_id is not None else (None, None)
            # A version stored without a label is never served to partners; it can only have reached an
            # administrator, and then its markings are unknown to the report.
            known = label_id is not None and label_id in labels
            facts[kid] = Facts(known, tier, tlp, int(added))


def _given(
    conn: Connection,
    options: Options,
    tally: impact.Tally,
    facts: list[Facts],
    names: dict[int, str],
    partners: set[str],
) -> list[tuple[str, str, str]]:
    """(partner, object id, version) contributions in the period: ingest entries whose source is a partner,
    and stored versions a partner added. Ingest entries also date the versions they list (a version's
    ingest time is the earliest of its date_added and those entries)."""
    given: list[tuple[str, str, str]] = []
    for at, source, listed in _ingests(conn, options.until):
        partner = source.removeprefix(_PARTNER_SOURCE)
        counted = partner in partners and (options.since is None or at >= options.since)
        for item in listed:
            object_id, version = str(item[0]), str(item[1])
            kid = tally.ids.get((object_id, version))
            if kid is not None:
                known = facts[kid]
                if known.added is None or at < known.added:
                    facts[kid] = replace(known, added=at)
            if counted:
                given.append((partner, object_id, version))
    given.extend((names[p], o, v) for p, o, v in _added(conn, options) if p in names)
    return given


def _added(conn: Connection, options: Options) -> Iterator[tuple[int, str, str]]:
    """(partner id, object id, version) of the stored versions partners added in the period."""
    o = objects.c
    stmt = select(o.added_by, o.object_id, o.version_text).where(o.added_by.is_not(None))
    if options.since is not None:
        stmt = stmt.where(o.date_added >= options.since)
    if options.until is not None:
        stmt = stmt.where(o.date_added < options.until)
    for added_by, object_id, version in conn.execute(stmt):
        yield int(added_by), str(object_id), str(version)


class _Defaults:
    """The default (tier, TLP) of each policy a disclosure was decided under (its stored id)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.known: dict[int, tuple[str, str]] = {}

    def __call__(self, policy_id: int) -> tuple[str, str]:
        if policy_id not in self.known:
            policy = self._policy(policy_id)
            tier, tlp = policy.default_tier.name.lower(), policy.default_tlp.name.replace("_", "+")
            self.known[policy_id] = (tier, tlp)
        return self.known[policy_id]

    def _policy(self, policy_id: int) -> Policy:
        stored = policy_store.by_id(self.conn, policy_id) if policy_id else None
        if stored is None:
            return DENY_ALL
        try:
            return parse_policy(stored.text, f"policy:{policy_id}")
        except PolicyFileError:
            return Policy(version=stored.version)  # the built-in defaults
