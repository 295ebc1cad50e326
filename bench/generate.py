"""Deterministic, fast generator of realistic STIX 2.1 indicators.

Every field of indicator number `i` is derived from one BLAKE2b digest of (seed, i), so any object (or
just its id) can be rebuilt from its index alone: the ingest clients split the work by envelope index and
the lookup clients draw random ids without keeping a list of a million ids.

    python -m bench.generate     # self-check: STIX 2.1 validation of a sample, and the generation rate
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from hashlib import blake2b

import orjson

DEFAULT_SEED = 20240601
_BASE = datetime(2024, 1, 1, tzinfo=UTC)
_DAYS = [(_BASE + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(800)]
_HMS = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
_TYPES = (
    ["malicious-activity"],
    ["malicious-activity", "attribution"],
    ["anomalous-activity"],
    ["compromised"],
)
_LABELS = ("phishing", "c2", "botnet", "ransomware", "scanner", "malware-delivery", "credential-theft")
_CAMPAIGNS = ("STORM-0815", "TA-RAVEN", "GLACIER-7", "UNC-4412", "OPAL-SPIDER", "SANDSTORM-12")
_NETS = ("192.0.2", "198.51.100", "203.0.113")
_TLDS = ("example.net", "example.com", "example.org")


def _digest(seed: int, index: int) -> bytes:
    """512 pseudo-random bits for indicator `index`: BLAKE2b(seed || index)."""
    return blake2b(seed.to_bytes(8, "big") + index.to_bytes(8, "big")).digest()


def _uuid4(raw: bytes) -> str:
    """A version-4, RFC 4122 variant UUID from 16 random bytes."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[raw[8] & 3]}{h[17:20]}-{h[20:32]}"


def indicator_id(index: int, seed: int = DEFAULT_SEED) -> str:
    return "indicator--" + _uuid4(_digest(seed, index)[:16])


def _timestamp(ms: int) -> str:
    """STIX timestamp with milliseconds, `ms` milliseconds after 2024-01-01T00:00:00Z."""
    sec, ms = divmod(ms, 1000)
    day, sec = divmod(sec, 86_400)
    return f"{_DAYS[day]}T{_HMS[sec]}.{ms:03d}Z"


def _observable(d: bytes, index: int) -> tuple[str, str]:
    """(pattern, human-readable name) for one of four common observable kinds."""
    kind = d[48] & 3
    if kind == 0:
        value = f"x{index}.{_TLDS[d[49] % 3]}"
        return f"[domain-name:value = '{value}']", f"Malicious domain {value}"
    if kind == 1:
        value = f"{_NETS[d[49] % 3]}.{d[50] % 254 + 1}"
        return f"[ipv4-addr:value = '{value}']", f"Malicious IPv4 {value}"
    if kind == 2:
        value = d[16:48].hex()
        return f"[file:hashes.'SHA-256' = '{value}']", f"Malicious file {value[:12]}"
    value = f"https://x{index}.{_TLDS[d[49] % 3]}/{d[51:57].hex()}/login.php"
    return f"[url:value = '{value}']", f"Malicious URL {value}"


def indicator(index: int, seed: int = DEFAULT_SEED) -> dict[str, object]:
    d = _digest(seed, index)
    pattern, name = _observable(d, index)
    created_ms = index * 37 + int.from_bytes(d[52:56], "big") % 86_400_000
    created = _timestamp(created_ms)
    campaign = _CAMPAIGNS[d[58] % len(_CAMPAIGNS)]
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--" + _uuid4(d[:16]),
        "created": created,
        "modified": _timestamp(created_ms + d[59] * 1000),
        "name": name,
        "description": f"Observed in {campaign} activity; reported by a partner sensor network, batch "
        f"{index // 1000}.",
        "indicator_types": _TYPES[d[60] & 3],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": created,
        "labels": [_LABELS[d[61] % len(_LABELS)], campaign.lower()],
        "confidence": 50 + d[62] % 50,
    }


def envelope(first: int, count: int, seed: int = DEFAULT_SEED) -> bytes:
    """A TAXII envelope holding indicators first .. first+count-1, as JSON bytes."""
    return orjson.dumps({"objects": [indicator(i, seed) for i in range(first, first + count)]})


def envelopes(
    total: int, size: int = 1000, seed: int = DEFAULT_SEED, part: int = 0, parts: int = 1
) -> Iterator[bytes]:
    """Stream the envelopes of `total` indicators; with parts > 1, every parts-th envelope from `part`."""
    for number, first in enumerate(range(0, total, size)):
        if number % parts == part:
            yield envelope(first, min(size, total - first), seed)


def _self_check(sample: int = 200, rate_objects: int = 100_000) -> None:
    from stix2validator import ValidationOptions, validate_instance

    options = ValidationOptions(version="2.1", strict=True)
    for i in range(0, sample * 5003, 5003):
        result = validate_instance(indicator(i), options)
        if not result.is_valid or result.warnings:
            raise SystemExit(f"indicator {i} invalid: {result.errors} {result.warnings}")
    assert indicator(7) == indicator(7) and indicator(7) != indicator(8)
    assert indicator(123)["id"] == indicator_id(123)
    start = time.perf_counter()
    size = sum(len(e) for e in envelopes(rate_objects))
    elapsed = time.perf_counter() - start
    print(f"{sample} sampled indicators valid STIX 2.1 (strict, no warnings)")
    print(
        f"generated {rate_objects:,} in {elapsed:.2f} s = {rate_objects / elapsed:,.0f} objects/s, "
        f"{size / rate_objects:.0f} bytes/object"
    )


if __name__ == "__main__":
    _self_check()
