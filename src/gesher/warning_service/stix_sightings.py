"""STIX 2.1 `sighting` objects POSTed over TAXII, read as early-warning reports (issue 7, "Sightings in").

The sighting names what was seen in `sighting_of_ref` (usually an indicator); its time is `last_seen`,
else `first_seen`, else `created`; `count` defaults to 1. STIX has no false-positive sighting, so a
custom property says which MISP sighting type it is: `x_gesher_sighting_type` = `sighting` (default),
`false-positive` or `expiration`. Objects of other types are not looked at; a sighting the STIX
validator refuses is not stored by ingest and is not counted either.

A sighting may also carry the values seen, as observed data (`stix_observed`): each value is one more
report (`type:value`, with the sighting's time, count and type), matched and correlated as a value
reported by `gesher sighting add` is. A sighting of an indicator counts for the indicator and for its
values; a sighting of anything else (malware, campaign, ...) that names values counts through its values
only. Each value is one report for the rate limit, as each line of an observation file is: a sighting
naming 50 values is 51 reports if it names an indicator, 50 otherwise. Values are matched against held
and hidden indicators alike and the reply is the status resource ingest wrote, so a value sighting
cannot tell a held indicator from a hidden one or from none (see `sightings`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from gesher.errors import InvalidRequest
from gesher.stix.timestamps import to_micros
from gesher.warning.observations import SIGHTING_NAMES
from gesher.warning_service import stix_observed
from gesher.warning_service.correlation import from_micros
from gesher.warning_service.sightings import Report

TYPE_PROPERTY = "x_gesher_sighting_type"
INDICATOR_PREFIX = "indicator--"


def reports(
    objects: Iterable[object], accepted: set[str], envelope: stix_observed.Envelope | None = None
) -> list[Report]:
    """The early-warning reports among `objects`: sightings whose id ingest `accepted`, each for its
    indicator and for the values its observed data in `envelope` names. Raises InvalidRequest (400) for
    a sighting it cannot read (e.g. an unknown sighting type, a value that is not of its type)."""
    found = []
    for obj in objects:
        if isinstance(obj, Mapping) and obj.get("type") == "sighting" and obj.get("id") in accepted:
            found.extend(of_sighting(obj, envelope or {}))
    return found


def of_sighting(sighting: Mapping[str, object], envelope: stix_observed.Envelope) -> list[Report]:
    """A sighting's reports: what `sighting_of_ref` names, then each observed value. A sighting of
    something other than an indicator that names values counts through its values only (a malware or
    campaign id is not what sensors see); without values it counts for its reference, as before."""
    first = report(sighting)
    values = [
        dataclasses.replace(first, subject=token, is_indicator=False)
        for token in stix_observed.tokens(sighting, envelope)
    ]
    if values and not first.subject.startswith(INDICATOR_PREFIX):
        return values
    return [first, *values]


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
