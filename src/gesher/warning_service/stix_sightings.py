"""STIX 2.1 `sighting` objects POSTed over TAXII, read as early-warning reports (issue 7, "Sightings in").

The sighting names what was seen in `sighting_of_ref` (usually an indicator); its time is `last_seen`,
else `first_seen`, else `created`; `count` defaults to 1. STIX has no false-positive sighting, so a
custom property says which MISP sighting type it is: `x_gesher_sighting_type` = `sighting` (default),
`false-positive` or `expiration`. Objects of other types are not looked at; a sighting the STIX
validator refuses is not stored by ingest and is not counted either."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gesher.errors import InvalidRequest
from gesher.stix.timestamps import to_micros
from gesher.warning.observations import SIGHTING_NAMES
from gesher.warning_service.correlation import from_micros
from gesher.warning_service.sightings import Report

TYPE_PROPERTY = "x_gesher_sighting_type"


def reports(objects: Iterable[object], accepted: set[str]) -> list[Report]:
    """The early-warning reports among `objects`: sightings whose id ingest `accepted`. Raises
    InvalidRequest (400) for a sighting it cannot read (e.g. an unknown sighting type)."""
    found = []
    for obj in objects:
        if isinstance(obj, Mapping) and obj.get("type") == "sighting" and obj.get("id") in accepted:
            found.append(report(obj))
    return found


def report(sighting: Mapping[str, object]) -> Report:
    sighting_id = str(sighting["id"])
    when = sighting.get("last_seen") or sighting.get("first_seen") or sighting.get("created")
    kind = sighting.get(TYPE_PROPERTY, "sighting")
    if not isinstance(kind, str) or kind not in SIGHTING_NAMES:
        raise InvalidRequest(f"{sighting_id}: {TYPE_PROPERTY} must be sighting, false-positive or expiration")
    try:  # STIX timestamps, any number of fractional digits (ingest validated them)
        time = from_micros(to_micros(str(when)))
    except ValueError as exc:
        raise InvalidRequest(f"{sighting_id}: {exc}") from None
    count = sighting.get("count", 1)
    return Report(
        subject=str(sighting["sighting_of_ref"]),
        time=time,
        type=SIGHTING_NAMES[kind],
        count=count if isinstance(count, int) and count > 0 else 1,
        is_indicator=True,
        stix_id=sighting_id,
    )
