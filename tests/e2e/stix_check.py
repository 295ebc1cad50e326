"""The OASIS stix2-validator on served objects, in worker processes (it checks a few hundred objects a second
per core, and the real data holds about 12,500).

Options: `ValidationOptions(version="2.1")`, the validator's defaults otherwise. Only errors (STIX 2.1
MUSTs) fail a test; warnings (SHOULDs, e.g. {401} "custom property should be implemented using an
extension" for MITRE's x_mitre_* properties, or {302} "external reference has a URL but no hash") are
best-practice advice on the publishers' content, which an exchange must pass on unchanged.

One error is a known false positive of the validator and is the only one tolerated: "Pattern failed to
validate: 'id' is not a valid observable property name." for a comparison on the `id` property of a
*custom* SCO type (Amnesty's `[app:id = 'com.example']`, `[configuration-profile:id = '...']`). `id` is a
common property of every SCO (STIX 2.1 section 6.1) and the validator accepts it on the standard types
(`[file:id = ...]`); for custom types it applies the three-character minimum for property names
(section 3.1) instead. The OASIS pattern validator (stix2-patterns) itself accepts these patterns."""

from __future__ import annotations

import orjson
from stix2patterns.v21.pattern import Pattern
from stix2validator import ValidationOptions, validate_instance
from stix2validator.v21 import enums

OPTIONS = ValidationOptions(version="2.1")
_CUSTOM_SCO_ID = "Pattern failed to validate: 'id' is not a valid observable property name."


def is_custom_sco_id_false_positive(obj: dict[str, object], message: str) -> bool:
    if message != f"{obj.get('id')}: {_CUSTOM_SCO_ID}" or obj.get("type") != "indicator":
        return False
    comparisons = Pattern(str(obj["pattern"])).inspect().comparisons
    return all(
        object_type not in enums.OBSERVABLE_TYPES and any(path[0] == "id" for path, *_ in found)
        for object_type, found in comparisons.items()
    )


def errors_of(serialised: bytes) -> tuple[list[str], int]:
    """(the validator's errors that are not the known false positive, how many false positives)."""
    obj = orjson.loads(serialised)
    errors = [str(e) for e in validate_instance(obj, OPTIONS).errors]
    tolerated = [e for e in errors if is_custom_sco_id_false_positive(obj, e)]
    return [e for e in errors if e not in tolerated], len(tolerated)
