"""The capability catalog: a vendor registers an item with its declared properties; the core's rules
classify it (tier, controls, carve-outs, the reasons) and both are kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection

from gesher.errors import Conflict, NotFound
from gesher.licensing.catalog import Capability, Classification, classify
from gesher.licensing.history import Actor, Role, event, refuse
from gesher.licensing_service.common import micros, now, record_events, require_own, visible_to
from gesher.store import licensing as store
from gesher.store.licensing import StoredItem

if TYPE_CHECKING:
    from gesher.exchange.node import Node


def register_item(
    node: Node, conn: Connection, actor: Actor, capability: Capability, reason: str = "registered"
) -> StoredItem:
    """Classify a vendor's item and add it to the catalog, with a `classify` event giving the tier and the
    rules' reasons. A vendor registers only its own organisation's items; the system registers none."""
    if actor.role == Role.SYSTEM:
        raise refuse("OFFICER_REQUIRED", "an item is registered by its vendor or an officer")
    require_own(actor, capability.vendor, f"registering {capability.name}")
    if store.item(conn, capability.name) is not None:
        raise Conflict(f"an item named {capability.name!r} is already in the catalog")
    classification = classify(capability)
    at = now()
    store.add_item(conn, capability, classification, micros(at), actor.id)
    details = (
        ("vendor", capability.vendor),
        *(("control", f"{c.regime.value} {c.code}") for c in classification.controls),
        *(("carve_out", c.value) for c in classification.carve_outs),
        *(("rationale", f"{r.code}: {r.text}") for r in classification.rationale),
    )
    ev = event(
        f"item:{capability.name}", "classify", actor, ("", classification.tier.value), reason, at, 1, details
    )
    record_events(conn, [ev])
    return require_item(conn, actor, capability.name)


def require_item(conn: Connection, actor: Actor, name: str) -> StoredItem:
    """An item the actor may see (another vendor's item is as absent as a missing one)."""
    found = store.item(conn, name)
    if found is None or not visible_to(actor, found.vendor):
        raise NotFound(f"no item named {name!r}")
    return found


def items_of(conn: Connection, actor: Actor) -> list[StoredItem]:
    """Every item for an officer; a vendor's own items for a vendor."""
    return store.items(conn, vendor=actor.organisation if actor.role == Role.VENDOR else None)


def classification_of(conn: Connection, name: str) -> Classification:
    found = store.item(conn, name)
    if found is None:
        raise NotFound(f"no item named {name!r}")
    return found.classification
