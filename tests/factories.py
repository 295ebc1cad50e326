"""Tiny factories for valid STIX 2.1 objects (tests only)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from gesher.stix import constants as c
from gesher.stix.gesher_marking import GESHER_MARKING_EXTENSION_ID

T0 = "2024-01-01T00:00:00.000Z"


def indicator(
    value: str = "evil.example", modified: str = T0, created: str = T0, **extra: object
) -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": extra.pop("id", f"indicator--{uuid.uuid4()}"),
        "created": created,
        "modified": modified,
        "name": f"domain {value}",
        "pattern": f"[domain-name:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": created,
    }
    obj.update(extra)
    return obj


def malware(**extra: object) -> dict[str, object]:
    obj: dict[str, object] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": f"malware--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": "Pegasus",
        "is_family": True,
    }
    obj.update(extra)
    return obj


def domain(value: str = "evil.example") -> dict[str, object]:
    return {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": f"domain-name--{uuid.uuid5(uuid.NAMESPACE_DNS, value)}",
        "value": value,
    }


def envelope(*objects: dict[str, object]) -> dict[str, object]:
    return {"objects": list(objects)}


def relationship(
    source: object, target: object, markings: Sequence[str] = (c.TLP2_GREEN,)
) -> dict[str, object]:
    return {
        "type": "relationship",
        "spec_version": "2.1",
        "id": f"relationship--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "relationship_type": "indicates",
        "source_ref": source,
        "target_ref": target,
        "object_marking_refs": list(markings),
    }


def gesher_marking(tier: str = "public", **content: object) -> dict[str, object]:
    """A gesher marking definition (the STIX 2.1 property extension on a marking-definition)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": T0,
        "name": f"gesher {tier}",
        "extensions": {
            GESHER_MARKING_EXTENSION_ID: {"extension_type": "property-extension", "tier": tier, **content}
        },
    }
