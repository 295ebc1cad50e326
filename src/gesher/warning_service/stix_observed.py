"""The values a posted STIX 2.1 `sighting` carries as observed data (issue 7, "Sightings in").

A sighting's `observed_data_refs` name `observed-data` objects; their `object_refs` name the cyber
observables (SCOs) seen; STIX 2.1 section 4.13 also still allows the deprecated embedded `objects`
dictionary, read here too. Each SCO we know becomes observed values in the one normal form of
`gesher.warning.values`: `domain-name`, `ipv4-addr`, `ipv6-addr`, `url`, `email-addr` by their `value`,
`file` by its MD5, SHA-1, SHA-256 and SHA-512 hashes (other hashes and other SCO types name nothing
we match, and are passed over).

The envelope is what the poster sent: the posted objects the validator accepted and, for refs they
lack (`missing_refs`), the poster's own earlier posts (the caller reads them from the store). An
observed-data or SCO neither holds is passed over, so what a sighting counts for depends on nothing but
what the poster itself sent, and cannot probe the store for objects others posted.
A value that is not of its type is refused (400) by the caller, naming the sighting and the SCO."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from gesher.errors import InvalidRequest
from gesher.warning.values import HASH_LENGTHS, ValueType, normalise, type_name

# SCO types whose `value` property is the observed value, and the type it is declared as.
VALUE_TYPES = {t.value: t for t in (ValueType.DOMAIN, ValueType.IPV4, ValueType.IPV6, ValueType.URL)} | {
    ValueType.EMAIL.value: ValueType.EMAIL
}

Envelope = Mapping[str, Mapping[str, object]]  # object id -> object, for the envelope's valid objects


def tokens(sighting: Mapping[str, object], envelope: Envelope) -> list[str]:
    """The value tokens (`type:value`, normalised) of the SCOs a sighting's observed data names, each
    once, in the order first named. Raises InvalidRequest for a value that is not of its type."""
    found: dict[str, None] = {}
    for label, sco in _observables(sighting, envelope):
        for declared, raw in _raw_values(sco):
            try:
                normal = normalise(raw, declared)
            except ValueError as exc:
                raise InvalidRequest(f"{sighting.get('id')}: observed {label}: {exc}") from None
            found[f"{normal.type.value}:{normal.value}"] = None
    return list(found)


def missing_refs(sightings: Iterable[Mapping[str, object]], envelope: Envelope) -> list[str]:
    """The ids the sightings' observed data names that the envelope lacks: the observed-data objects, and
    the SCOs of the observed-data it holds (ask again once the observed-data are added)."""
    missing: dict[str, None] = {}
    for sighting in sightings:
        for ref in _list(sighting.get("observed_data_refs")):
            observed = envelope.get(str(ref))
            if observed is None:
                missing[str(ref)] = None
            elif observed.get("type") == "observed-data":
                missing.update(
                    (str(r), None) for r in _list(observed.get("object_refs")) if str(r) not in envelope
                )
    return list(missing)


def _observables(
    sighting: Mapping[str, object], envelope: Envelope
) -> Iterator[tuple[str, Mapping[str, object]]]:
    """(a label naming it, the SCO) for each SCO the sighting's observed data names."""
    for ref in _list(sighting.get("observed_data_refs")):
        observed = envelope.get(str(ref))
        if observed is None or observed.get("type") != "observed-data":
            continue
        for sco_ref in _list(observed.get("object_refs")):
            sco = envelope.get(str(sco_ref))
            if sco is not None:
                yield str(sco_ref), sco
        embedded = observed.get("objects")  # deprecated in STIX 2.1, still allowed: read-only
        if isinstance(embedded, Mapping):
            for key, sco in embedded.items():
                if isinstance(sco, Mapping):
                    yield f"{ref} objects[{key!r}]", sco


def _raw_values(sco: Mapping[str, object]) -> Iterator[tuple[ValueType, str]]:
    """(declared type, raw value) of what an SCO observed; nothing for types we do not match."""
    kind = sco.get("type")
    if isinstance(kind, str) and kind in VALUE_TYPES:
        value = sco.get("value")
        yield VALUE_TYPES[kind], value if isinstance(value, str) else ""  # no value: refused as empty
    elif kind == "file" and isinstance(hashes := sco.get("hashes"), Mapping):
        for algorithm, digest in sorted(hashes.items()):
            declared = type_name(str(algorithm))
            if isinstance(declared, ValueType) and declared in HASH_LENGTHS and isinstance(digest, str):
                yield declared, digest


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
