"""Ledger entries: canonical JSON per RFC 8785, one compact entry per disclosed response, round trips, and
refusals that name what is wrong."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from gesher.ledger import entries
from gesher.ledger.entries import Entry, Kind, Served, decode, disclosure, encode, make, served
from gesher.ledger.errors import LedgerError
from gesher.ledger.merkle import leaf_hash

AT = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
SHA = hashlib.sha256(b"bytes served").hexdigest()


def page(n: int) -> list[Served]:
    rules = ["tier-2", "group-07", "agreement:nl"]
    return [
        Served(
            f"indicator--{i:08d}-0000-4000-8000-000000000000", "2026-11-01T00:00:00.000Z", SHA, rules[i % 3]
        )
        for i in range(n)
    ]


def one_of_each() -> list[Entry]:
    return [
        disclosure(AT, "system", partner="cert-nl", endpoint="GET /taxii2/a/collections/c/objects/",
                   policy_version=7, served=page(5), canaries=["a1b2c3d4"]),
        make("ingest", AT, "cli:alice", collection="c", source="taxii",
             objects=[["indicator--1", "2026-11-01T00:00:00.000Z", SHA]]),
        make("policy", AT, "alice", policy_version="2026-11-23.1", sha256=SHA, reason="new group"),
        make("tier", AT, "alice", subject="partner:cert-nl", old=None, new="2", reason="review"),
        make("release", AT, "bob", object_id="report--1", version="v", decision="approved", reason="ok"),
        make("licence", AT, "bob", subject="application:A-7", decision="approved", reason="ok"),
        make("screening", AT, "system", subject="partner:x", result="clear", list_version="2026-11-20"),
        make("alert", AT, "system", alert="alert--1", level="high", organisations=3),
        make("psi_query", AT, "partner:cert-nl", partner="cert-nl", mode="cardinality",
             client_size=1000, server_size=50000),
        make("key_rotation", AT, "alice", old_key=None, new_key="gesher.example+01020304+AQ==",
             reason="yearly"),
        make("canary", AT, "cli:alice", recipient="cert-nl", scope="c", period="2026-11",
             tags=["a1b2c3d4", "e5f60718"], objects=["indicator--1", "indicator--2"]),
        make("acknowledgement", AT, "partner:cert-nl", alert="report--1", partner="cert-nl"),
        make("escalation", AT, "gesher:early-warning", alert="report--1", stage=1, pending=["cert-nl"]),
        make("incident", AT, "cli:alice", incident=7, action="contain", state="contained", level=3,
             reason="blocked at the border", alert=None),
    ]  # fmt: skip


@pytest.mark.parametrize("entry", one_of_each(), ids=lambda e: e.kind.value)
def test_every_kind_round_trips(entry: Entry) -> None:
    data = encode(entry)
    assert decode(data) == entry
    assert encode(decode(data)) == data
    assert entries.entry_leaf_hash(entry) == leaf_hash(data)


def test_all_kinds_are_covered() -> None:
    assert {e.kind for e in one_of_each()} == set(Kind)


def test_the_encoding_is_rfc8785_canonical() -> None:
    entry = make("alert", AT, "system", level="high", alert="alert--1", organisations=3)
    data = encode(entry)
    assert data == (
        b'{"actor":"system","alert":"alert--1","at":"2026-11-23T09:15:00.000000Z",'
        b'"kind":"alert","level":"high","organisations":3,"v":1}'
    )
    assert data == rfc8785.dumps(json.loads(data))


def test_rfc8785_orders_keys_by_utf16_and_formats_numbers_like_ecmascript() -> None:
    """RFC 8785 3.2.3 (keys sorted by UTF-16 code units) and 3.2.2.3 (ECMAScript number formatting)."""
    # U+FB33 < U+1F600 as code points, but 0xFB33 > 0xD83D (the high surrogate of U+1F600) in UTF-16
    assert rfc8785.dumps({"\ufb33": 1, "\U0001f600": 2, "b": 3, "a": 4}) == (
        '{"a":4,"b":3,"\U0001f600":2,"\ufb33":1}'.encode()
    )
    assert (
        rfc8785.dumps([1e21, 1e-7, 0.1, 100.0, -0.0, 2**53 - 1]) == b"[1e+21,1e-7,0.1,100,0,9007199254740991]"
    )


def test_times_are_normalised_to_utc_and_must_be_aware() -> None:
    local = AT.astimezone(timezone(timedelta(hours=2)))
    assert encode(make("alert", local, "s", alert="a", level="l", organisations=0)) == encode(
        make("alert", AT, "s", alert="a", level="l", organisations=0)
    )
    with pytest.raises(LedgerError, match="timezone-aware"):
        make("alert", datetime(2026, 1, 1), "s", alert="a", level="l", organisations=0)


def test_a_thousand_object_page_is_one_compact_entry_and_the_list_is_recoverable() -> None:
    objects = page(1000)
    entry = disclosure(AT, "system", partner="p", endpoint="GET /x", policy_version=1, served=objects)
    data = encode(entry)
    assert served(decode(data)) == tuple(objects)
    assert decode(data).fields["rules"] == ["agreement:nl", "group-07", "tier-2"]
    assert len(data) < 160 * 1000  # about 150 bytes per object, once


def test_served_refuses_other_kinds() -> None:
    with pytest.raises(LedgerError, match="no served objects"):
        served(one_of_each()[1])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "UTF-8"),
        (b"[]", "JSON object"),
        (b"{", "JSON"),
        (b'{"kind":"gossip","at":"2026-11-23T09:15:00.000000Z","actor":"a","v":1}', "unknown entry kind"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23","kind":"alert","level":"h","organisations":1,"v":1}',
         "'at'"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","kind":"alert","level":"h","v":1}',
         "needs the field 'organisations'"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","kind":"alert","level":"h",'
         b'"organisations":1.5,"v":1}', "'organisations' must be a non-negative integer"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","kind":"alert","level":"h",'
         b'"organisations":-1,"v":1}', "'organisations' must be a non-negative integer"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","extra":1,"kind":"alert","level":"h",'
         b'"organisations":1,"v":1}', "unknown fields"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","kind":"alert","level":"h",'
         b'"organisations":1,"v":2}', "format version"),
        (b'{"actor":"","alert":"x","at":"2026-11-23T09:15:00.000000Z","kind":"alert","level":"h",'
         b'"organisations":1,"v":1}', "actor"),
        (b'{"kind":"alert","actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","level":"h",'
         b'"organisations":1,"v":1}', "canonical"),
        (b'{"actor":"a","alert":"x","at":"2026-11-23T09:15:00.000000Z","kind":"alert","level":"h",'
         b'"organisations":1,"v":1} ', "canonical"),
    ],
)  # fmt: skip
def test_malformed_entries_are_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(LedgerError, match=message):
        decode(data)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recipient": ""}, "'recipient' must be a non-empty string"),
        ({"tags": "a1b2c3d4"}, "'tags' must be a list of non-empty strings"),
        ({"objects": ["indicator--1", ""]}, "'objects' must be a list of non-empty strings"),
        ({"partner": "cert-nl"}, "unknown fields"),
    ],
)
def test_a_canary_entry_names_its_recipient_scope_period_tags_and_objects(
    fields: dict[str, object], message: str
) -> None:
    good = {"recipient": "cert-nl", "scope": "c", "period": "2026-11", "tags": ["a1"], "objects": ["x"]}
    assert make(Kind.CANARY, AT, "cli:alice", **good).fields == good
    with pytest.raises(LedgerError, match=message):
        make(Kind.CANARY, AT, "cli:alice", **(good | fields))
    without = {k: v for k, v in good.items() if k != "period"}
    with pytest.raises(LedgerError, match="needs the field 'period'"):
        make(Kind.CANARY, AT, "cli:alice", **without)


def test_bad_disclosure_objects_are_refused() -> None:
    good = encode(disclosure(AT, "s", partner="p", endpoint="e", policy_version=1, served=page(2)))
    document = json.loads(good)
    for bad in (["id", "v", SHA], ["id", "v", SHA.upper(), 0], ["id", "v", SHA, 9], ["", "v", SHA, 0]):
        document["objects"] = [bad]
        with pytest.raises(LedgerError, match="disclosure object 0"):
            decode(rfc8785.dumps(document))


@settings(max_examples=50, deadline=None)
@given(
    st.text(min_size=1).filter(str.strip),
    st.lists(st.tuples(st.text(min_size=1).filter(str.strip), st.sampled_from(["r1", "r2"])), max_size=20),
)
def test_any_text_round_trips(partner: str, items: list[tuple[str, str]]) -> None:
    objects = [Served(oid, "v1", SHA, rule) for oid, rule in items]
    entry = disclosure(AT, "system", partner=partner, endpoint="GET /", policy_version="x", served=objects)
    assert served(decode(encode(entry))) == tuple(objects)


# --- the fast canonical path ---------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # any text but lone surrogates
ASCII_KEYS = st.text(st.characters(max_codepoint=127), max_size=8)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(ASCII_KEYS | TEXT, children, max_size=4)
    ),
    max_leaves=25,
)


@given(st.dictionaries(ASCII_KEYS | TEXT, JSON_VALUES, max_size=6))
@settings(max_examples=400)
def test_the_fast_canonical_bytes_are_rfc8785s(document: dict[str, object]) -> None:
    assert entries.canonical(document) == rfc8785.dumps(document)


def test_control_characters_and_unicode_are_written_as_rfc8785_writes_them() -> None:
    document = {"b": '\x00\x1f\x7f\u2028 "q" \\ é 🛰', "a": [2**53 - 1, -(2**53) + 1, 0, True, None]}
    assert entries.canonical(document) == rfc8785.dumps(document)


def test_an_unsafe_integer_or_a_lone_surrogate_is_refused_not_written() -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        entries.canonical({"n": 2**53})
    at = datetime(2026, 11, 23, tzinfo=UTC)
    entry = make(Kind.ALERT, at, "system", alert="alert--\ud800", level="high", organisations=3)
    with pytest.raises(LedgerError, match="canonicalised"):
        encode(entry)
