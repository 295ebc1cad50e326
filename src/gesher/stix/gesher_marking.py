"""gesher's own data marking: a STIX 2.1 extension-definition (property extension of marking-definition
objects, as the OASIS TLP 2.0 and PAP markings are) carrying a sensitivity tier, releasability to countries
or partner groups, an embargo and originator control. The JSON schema in `schemas/` is the published
contract; `gesher_marking_of` reads it without a schema engine (it runs at ingest) and a test proves both
agree."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from importlib import resources
from typing import Final

from gesher.errors import InvalidStix
from gesher.stix.constants import TLP2_CLEAR
from gesher.stix.timestamps import is_timestamp

GESHER_MARKING_EXTENSION_ID: Final = "extension-definition--e797391a-c93f-4623-a984-ecce5b055e15"
GESHER_IDENTITY_ID: Final = "identity--babdd7eb-1c54-46e3-b75f-3232c79f67b9"
GESHER_PUBLIC_MARKING_ID: Final = "marking-definition--3b5b0b55-5d36-4c1f-9a3a-6f0e2a8d7c41"
_PUBLISHED: Final = "2026-11-22T00:00:00.000Z"
_RECIPIENT = re.compile(r"[A-Z]{2}|group:[a-z0-9][a-z0-9._-]{0,62}")
_PARTNER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,99}")
_FIELDS: Final = frozenset(
    {"extension_type", "tier", "releasable_to", "recipients", "embargo_until", "originator_controlled"}
)


class Tier(IntEnum):
    """Sensitivity tiers, ascending: defensive intelligence flows readily, offensive material least."""

    PUBLIC = 0
    DEFENSIVE = 1
    SENSITIVE = 2
    OFFENSIVE = 3


@dataclass(frozen=True)
class GesherMarking:
    tier: Tier
    releasable_to: frozenset[str] | None = None  # None: no releasability restriction
    recipients: frozenset[str] | None = None  # organisations named as recipients (partner names)
    embargo_until: str | None = None
    originator_controlled: bool = False


def schema() -> dict[str, object]:
    text = (resources.files("gesher.stix") / "schemas" / "gesher-marking-extension.json").read_text()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def identity() -> dict[str, object]:
    """The identity that publishes the extension (as OASIS publishes TLP 2.0's)."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": GESHER_IDENTITY_ID,
        "created": _PUBLISHED,
        "modified": _PUBLISHED,
        "name": "gesher project",
        "identity_class": "organization",
        "object_marking_refs": [TLP2_CLEAR, GESHER_PUBLIC_MARKING_ID],
    }


def public_marking() -> dict[str, object]:
    """gesher's marking for public material (TLP:CLEAR alone leaves the tier to the policy's default)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": GESHER_PUBLIC_MARKING_ID,
        "created_by_ref": GESHER_IDENTITY_ID,
        "created": _PUBLISHED,
        "name": "gesher: public",
        "extensions": {
            GESHER_MARKING_EXTENSION_ID: {"extension_type": "property-extension", "tier": "public"}
        },
    }


def published_objects() -> list[dict[str, object]]:
    """What every gesher node serves so that other tools can read its markings: the public marking, the
    publisher's identity and the extension definition (in its `gesher-definitions` collection)."""
    return [public_marking(), identity(), extension_definition()]


def extension_definition() -> dict[str, object]:
    """The STIX 2.1 extension-definition object, served by every gesher node so other tools can read it."""
    return {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": GESHER_MARKING_EXTENSION_ID,
        "created_by_ref": GESHER_IDENTITY_ID,
        "created": _PUBLISHED,
        "modified": _PUBLISHED,
        "name": "gesher marking",
        "description": "Sensitivity tier, releasability to countries or partner groups, embargo and "
        "originator control, carried by marking-definition objects.",
        "schema": "JSON Schema (draft 2020-12) published with gesher: gesher/stix/schemas/"
        "gesher-marking-extension.json. Properties: tier (public|defensive|sensitive|offensive, required), "
        "releasable_to (ISO 3166-1 alpha-2 codes and group:<name>), recipients (named recipient "
        "organisations: the only ones that may receive TLP:AMBER+STRICT or TLP:RED), "
        "embargo_until (timestamp), "
        "originator_controlled (boolean).",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
        "object_marking_refs": [TLP2_CLEAR, GESHER_PUBLIC_MARKING_ID],
    }


def gesher_marking_of(definition: Mapping[str, object]) -> GesherMarking | None:
    """The gesher marking a marking-definition carries, None if it carries none, or InvalidStix naming the
    first property that breaks the schema (a malformed marking must never be read as a weaker one)."""
    extensions = definition.get("extensions")
    content = extensions.get(GESHER_MARKING_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    if content is None:
        return None
    if not isinstance(content, Mapping):
        raise InvalidStix("the gesher marking extension must be an object")
    return GesherMarking(
        tier=_tier(content),
        releasable_to=_releasable_to(content),
        recipients=_recipients(content),
        embargo_until=_embargo(content),
        originator_controlled=_flag(content),
    )


def _tier(content: Mapping[str, object]) -> Tier:
    unknown = sorted(set(content) - _FIELDS)
    if unknown:
        raise InvalidStix(f"gesher marking: unknown property {unknown[0]!r}")
    if content.get("extension_type") != "property-extension":
        raise InvalidStix("gesher marking: extension_type must be 'property-extension'")
    tier = content.get("tier")
    if not isinstance(tier, str) or tier.upper() not in Tier.__members__ or not tier.islower():
        raise InvalidStix(f"gesher marking: tier {tier!r} must be public, defensive, sensitive or offensive")
    return Tier[tier.upper()]


def _releasable_to(content: Mapping[str, object]) -> frozenset[str] | None:
    if "releasable_to" not in content:
        return None
    value = content["releasable_to"]
    if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
        raise InvalidStix("gesher marking: releasable_to must be a non-empty list without repeats")
    for recipient in value:
        if not isinstance(recipient, str) or not _RECIPIENT.fullmatch(recipient):
            raise InvalidStix(
                f"gesher marking: {recipient!r} is neither an ISO 3166-1 alpha-2 code nor group:<name>"
            )
    return frozenset(value)


def _recipients(content: Mapping[str, object]) -> frozenset[str] | None:
    if "recipients" not in content:
        return None
    value = content["recipients"]
    if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
        raise InvalidStix("gesher marking: recipients must be a non-empty list without repeats")
    for name in value:
        if not isinstance(name, str) or not _PARTNER_NAME.fullmatch(name):
            raise InvalidStix(f"gesher marking: recipient {str(name)[:100]!r} is not a partner name")
    return frozenset(value)


def _embargo(content: Mapping[str, object]) -> str | None:
    value = content.get("embargo_until")
    if value is not None and not is_timestamp(value):
        raise InvalidStix(f"gesher marking: embargo_until {value!r} is not a STIX timestamp")
    return value if isinstance(value, str) else None


def _flag(content: Mapping[str, object]) -> bool:
    value = content.get("originator_controlled", False)
    if not isinstance(value, bool):
        raise InvalidStix("gesher marking: originator_controlled must be true or false")
    return value
