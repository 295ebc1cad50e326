"""The TAXII POST hook of early warning: sightings in an envelope a partner posts are recorded as its
reports, correlated, and may raise alerts, in the request's write transaction (issue 7).

Kept cheap for the common case: an envelope without sightings costs one pass over its object types, and
one whose sightings name no observed data one more pass over the sightings."""

from __future__ import annotations

from sqlalchemy import Connection

from gesher.exchange.ingest import Prepared
from gesher.exchange.node import Node
from gesher.policy.principal import Principal
from gesher.stix.timestamps import now_micros
from gesher.store import partners
from gesher.store import warning as store
from gesher.warning_service import sightings, stix_sightings
from gesher.warning_service.correlation import from_micros
from gesher.warning_service.stix_observed import Envelope


def sightings_posted(
    node: Node, conn: Connection, principal: Principal, prepared: Prepared, successes: list[dict[str, str]]
) -> None:
    """Record the sightings among the posted objects that ingest accepted, as reports by the caller."""
    objects = [
        obj for _, obj, _ in prepared.checked if isinstance(obj, dict) and obj.get("type") == "sighting"
    ]
    if not objects:
        return
    accepted = {s["id"] for s in successes if "id" in s}
    reports = stix_sightings.reports(objects, accepted, _envelope(prepared, objects))
    # A sighting posted again (TAXII POST is idempotent) is the same report, not a new one.
    known = store.known_stix_ids(conn, [r.stix_id for r in reports if r.stix_id])
    reports = [r for r in reports if r.stix_id not in known]
    partner = partners.by_name(conn, principal.name)
    if not reports or partner is None:
        return
    now = from_micros(now_micros())
    sightings.record(conn, partner, reports, now, node.warning_config, node.identity, source="taxii")


def _envelope(prepared: Prepared, posted: list[dict[str, object]]) -> Envelope:
    """The envelope's objects the STIX validator accepted, by id, where a sighting names observed data:
    the only place its values are read from (not the store: see `stix_observed`)."""
    if not any(s.get("observed_data_refs") for s in posted):
        return {}
    return {
        str(obj["id"]): obj
        for _, obj, candidate in prepared.checked
        if not isinstance(candidate, str) and isinstance(obj, dict) and "id" in obj
    }
