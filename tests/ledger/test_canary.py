"""Leak tracing: canaries are deterministic, differ per recipient, and a leaked subset (even one value) is
traced to the right recipient among 50; values that are not canaries point to nobody."""

from __future__ import annotations

import json

import pytest

from gesher.ledger.canary import (
    Attribution,
    CanaryKind,
    canaries,
    extract_values,
    scan_text,
    trace,
)
from gesher.ledger.errors import LedgerError

KEY = bytes(range(32))
ZONE = "cdn-metrics.example.net"
RECIPIENTS = [f"partner-{i:02d}" for i in range(50)]
PERIODS = ["2026-10", "2026-11"]


def test_canaries_are_deterministic_and_plausible() -> None:
    first = canaries(KEY, "partner-07", "report--r1", "2026-11", zone=ZONE)
    assert first == canaries(KEY, "partner-07", "report--r1", "2026-11", zone=ZONE)
    domain, file_hash = first
    assert domain.kind is CanaryKind.DOMAIN and domain.value.endswith(f".{ZONE}")
    label = domain.value.split(".")[0]
    assert len(label) == 16 and label.isalnum() and label == label.lower()
    assert file_hash.kind is CanaryKind.SHA256 and len(file_hash.value) == 64
    assert domain.pattern == f"[domain-name:value = '{domain.value}']"
    assert file_hash.pattern == f"[file:hashes.'SHA-256' = '{file_hash.value}']"
    assert len(domain.tag) == 8 and domain.tag != file_hash.tag


def test_every_input_changes_every_value() -> None:
    base = canaries(KEY, "partner-07", "report--r1", "2026-11", zone=ZONE)
    others = [
        canaries(KEY, "partner-08", "report--r1", "2026-11", zone=ZONE),
        canaries(KEY, "partner-07", "report--r2", "2026-11", zone=ZONE),
        canaries(KEY, "partner-07", "report--r1", "2026-12", zone=ZONE),
        canaries(bytes(32), "partner-07", "report--r1", "2026-11", zone=ZONE),
    ]
    values = {c.value for c in base}
    for other in others:
        assert not values & {c.value for c in other}
    everyone = {c.value for r in RECIPIENTS for c in canaries(KEY, r, "report--r1", "2026-11", zone=ZONE)}
    assert len(everyone) == 100


def test_repeated_kinds_give_distinct_canaries() -> None:
    kinds = (CanaryKind.DOMAIN, CanaryKind.DOMAIN, CanaryKind.SHA256)
    assert len({c.value for c in canaries(KEY, "p", "s", "t", zone=ZONE, kinds=kinds)}) == 3


@pytest.mark.parametrize("leaker", ["partner-00", "partner-23", "partner-49"])
def test_a_single_leaked_value_names_the_recipient_among_50(leaker: str) -> None:
    issued = canaries(KEY, leaker, "collection--amber", "2026-11", zone=ZONE)
    for canary in issued:
        noise = ["evil.example.com", "8.8.8.8", "d41d8cd98f00b204e9800998ecf8427e"]
        found = trace([*noise, canary.value], RECIPIENTS, KEY, "collection--amber", PERIODS)
        assert [a.recipient for a in found] == [leaker]
        assert found[0].confidence == 1.0 and found[0].matched[0].period == "2026-11"


def test_a_leaked_bundle_is_traced_even_defanged_and_under_another_zone() -> None:
    domain, file_hash = canaries(KEY, "partner-31", "report--r9", "2026-10", zone=ZONE)
    bundle = {
        "type": "bundle",
        "objects": [
            {"type": "indicator", "pattern": f"[domain-name:value = '{domain.value.replace('.', '[.]')}']"},
            {"type": "indicator", "pattern": f"[file:hashes.'SHA-256' = '{file_hash.value.upper()}']"},
            {"type": "indicator", "pattern": "[domain-name:value = 'real-bad.example']"},
        ],
    }
    values = extract_values(json.loads(json.dumps(bundle)))
    (attribution,) = trace(values, RECIPIENTS, KEY, ["report--r1", "report--r9"], PERIODS)
    assert attribution.recipient == "partner-31" and len(attribution.matched) == 2
    moved = domain.value.split(".")[0] + ".elsewhere.example"
    assert trace([moved], RECIPIENTS, KEY, "report--r9", PERIODS)[0].recipient == "partner-31"


def test_values_that_are_not_canaries_point_to_nobody() -> None:
    assert trace(["evil.example.com", "a" * 64, "", "x"], RECIPIENTS, KEY, "report--r1", PERIODS) == ()
    other_key = canaries(bytes(32), "partner-01", "report--r1", "2026-11", zone=ZONE)
    assert trace([c.value for c in other_key], RECIPIENTS, KEY, "report--r1", PERIODS) == ()


def test_a_merged_leak_names_every_recipient_strongest_first() -> None:
    a = canaries(KEY, "partner-02", "r", "2026-11", zone=ZONE)
    b = canaries(KEY, "partner-40", "r", "2026-11", zone=ZONE)
    found = trace([a[0].value, a[1].value, b[0].value], RECIPIENTS, KEY, "r", PERIODS)
    assert [x.recipient for x in found] == ["partner-02", "partner-40"]
    assert [round(x.confidence, 2) for x in found] == [0.67, 0.33]
    assert all(isinstance(x, Attribution) for x in found)


def test_bad_keys_and_zones_are_refused() -> None:
    with pytest.raises(LedgerError, match="key"):
        canaries(b"short", "p", "s", "t", zone=ZONE)
    for zone in ("Not A Zone", "-bad.example", "example"):
        with pytest.raises(LedgerError, match="zone"):
            canaries(KEY, "p", "s", "t", zone=zone)


def test_canaries_are_found_in_free_text_too() -> None:
    domain, file_hash = canaries(KEY, "partner-12", "r", "2026-11", zone=ZONE)
    defanged = domain.value.replace(".", "[.]")
    text = (
        f"From a paste site:\nhxxps://{defanged}/login?x=1, seen 2026-11-30.\n"
        f"sha256,{file_hash.value.upper()}\n<td>{'b' * 65}</td> www.example.com"
    )
    found = scan_text(text)
    assert domain.value in found and file_hash.value in found
    assert "b" * 64 not in found  # a longer hex run is not a SHA-256
    (attribution,) = trace(found, RECIPIENTS, KEY, "r", PERIODS)
    assert attribution.recipient == "partner-12" and len(attribution.matched) == 2
