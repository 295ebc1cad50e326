"""Match keys from STIX patterns; other patterns evaluated with the OASIS stix2-matcher."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gesher.warning.indicators import MatchKey, PatternEvaluator, match_keys, observed_data
from gesher.warning.observations import Observation
from gesher.warning.values import ValueType

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SHA = "AB" * 32


@pytest.mark.parametrize(
    ("pattern", "keys"),
    [
        ("[domain-name:value = 'Evil.Example.']", ["domain-name:evil.example"]),
        ("[ipv4-addr:value='198.51.100.7']", ["ipv4-addr:198.51.100.7"]),
        ("[ipv6-addr:value = '2001:DB8::1']", ["ipv6-addr:2001:db8::1"]),
        ("[url:value = 'http://Evil.Example/x']", ["url:http://Evil.Example/x"]),
        ("[email-addr:value = 'Boss@Evil.Example']", ["email-addr:boss@evil.example"]),
        (f"[file:hashes.'SHA-256' = '{SHA}']", [f"sha-256:{SHA.lower()}"]),
        (
            f"[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.SHA256 = '{SHA}']",
            ["md5:d41d8cd98f00b204e9800998ecf8427e", f"sha-256:{SHA.lower()}"],
        ),
        (
            "[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example' OR url:value = 'http://c/']",
            ["domain-name:a.example", "domain-name:b.example", "url:http://c/"],
        ),
        ("[domain-name:value = 'it\\'s.example']", ["domain-name:it's.example"]),
        ("[domain-name:value = 'a.example' OR domain-name:value = 'A.example.']", ["domain-name:a.example"]),
    ],
)
def test_equalities_are_matched_by_value(pattern: str, keys: list[str]) -> None:
    derived = match_keys(pattern)
    assert not derived.evaluate and [str(k) for k in derived.keys] == keys


@pytest.mark.parametrize(
    "pattern",
    [
        "[domain-name:value LIKE '%.example']",
        "[domain-name:value = 'a.example' AND domain-name:value = 'b.example']",
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
        "[ipv4-addr:value = '198.51.100.0/24']",
        "[domain-name:value != 'a.example']",
        "[domain-name:value = 'a.example'] WITHIN 300 SECONDS",
        "[process:name = 'bh']",
        "[file:hashes.'SHA-256' = 'not-a-hash']",
        "[domain-name:value = 'a.example'] AND [url:value = 'http://a/']",
    ],
)
def test_other_patterns_are_marked_for_evaluation(pattern: str) -> None:
    derived = match_keys(pattern)
    assert derived.evaluate and derived.keys == () and derived.reason


def test_match_key_orders_and_prints_as_a_token() -> None:
    assert str(MatchKey(ValueType.DOMAIN, "a.example")) == "domain-name:a.example"


@pytest.mark.parametrize(
    ("pattern", "observation", "expected"),
    [
        ("[domain-name:value LIKE '%.example']", Observation("evil.example", ValueType.DOMAIN, AT), True),
        ("[domain-name:value LIKE '%.example']", Observation("evil.other", ValueType.DOMAIN, AT), False),
        (
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
            Observation("198.51.100.7", ValueType.IPV4, AT),
            True,
        ),
        (
            "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
            Observation("198.51.101.7", ValueType.IPV4, AT),
            False,
        ),
        (f"[file:hashes.'SHA-256' != '{SHA}']", Observation("cd" * 32, ValueType.SHA256, AT), True),
        ("[url:value MATCHES '^https?://evil']", Observation("http://evil/x", ValueType.URL, AT), True),
    ],
)
def test_the_reference_matcher_evaluates_the_rest(
    pattern: str, observation: Observation, expected: bool
) -> None:
    assert PatternEvaluator(pattern).matches(observation) is expected


def test_observed_data_shape() -> None:
    bundle = observed_data(Observation("cd" * 32, ValueType.SHA256, AT, count=4))
    container, sco = bundle["objects"]
    assert container["number_observed"] == 4 and container["object_refs"] == [sco["id"]]
    assert sco["type"] == "file" and sco["hashes"] == {"SHA-256": "cd" * 32}
    assert PatternEvaluator("[ipv4-addr:value ISSUBSET '10.0.0.0/8']").object_types() == {"ipv4-addr"}
