"""The TAXII POST hook of early warning: sightings in an envelope a partner posts are recorded as its
reports, correlated, and may raise alerts, in the request's write transaction (issue 7).

Kept cheap for the common case: an envelope without sightings costs one pass over its object types, and
one whose sightings name no observed data one more pass over the sightings."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection

from gesher.exchange.ingest import Prepared, own_objects
from gesher.exchange.node import Node
from gesher.policy.principal import Principal
from gesher.stix.timestamps import now_micros
from gesher.store import partners
from gesher.store import warning as store
from gesher.warning_service import sightings, stix_observed, stix_sightings
from gesher.warning_service.correlation import from_micros
from gesher.warning_service.stix_observed import Envelope


def sightings_posted(
    node: Node, conn: Connection, principal: Principal, prepared: Prepared, successes: list[dict[str, str]]
) -> None:
    """Record the sightings among the posted objects that ingest accepted, as reports by the caller."""
    posted = [
        obj for _, obj, _ in prepared.checked if isinstance(obj, dict) and obj.get("type") == "sighting"
    ]
    if not posted:
        return
    partner = partners.by_name(conn, principal.name)
    accepted = {s["id"] for s in successes if "id" in s}
    envelope = _envelope(conn, partner.id if partner else None, prepared, posted)
    reports = stix_sightings.reports(posted, accepted, envelope)  # a bad value refuses the POST (400)
    # A sighting posted again (TAXII POST is idempotent) is the same report, not a new one.
    known = store.known_stix_ids(conn, [r.stix_id for r in reports if r.stix_id])
    reports = [r for r in reports if r.stix_id not in known]
    if not reports or partner is None:
        return
    now = from_micros(now_micros())
    sightings.record(conn, partner, reports, now, node.warning_config, node.identity, source="taxii")


def _envelope(
    conn: Connection, partner_id: int | None, prepared: Prepared, posted: list[dict[str, object]]
) -> Envelope:
    """Where a sighting names observed data, the objects its values are read from, by id: the envelope's
    objects the STIX validator accepted, then, for refs the envelope lacks, the latest version the poster
    itself posted earlier (a sensor posts its observed data once and sightings of it later). Never
    another partner's objects: what a sighting counts for cannot depend on, or probe, what others stored."""
    if not any(s.get("observed_data_refs") for s in posted):
        return {}
    envelope: dict[str, Mapping[str, object]] = {
        str(obj["id"]): obj
        for _, obj, candidate in prepared.checked
        if not isinstance(candidate, str) and isinstance(obj, dict) and "id" in obj
    }
    if partner_id is None:
        return envelope
    earlier = own_objects(conn, partner_id, stix_observed.missing_refs(posted, envelope))
    envelope |= earlier
    if earlier:  # an observed-data posted earlier names SCOs that may have been posted earlier too
        envelope |= own_objects(conn, partner_id, stix_observed.missing_refs(posted, envelope))
    return envelope
