"""Creating collections (management, with an audit event)."""

from __future__ import annotations

import re
import uuid

from sqlalchemy import Connection

from gesher.errors import ConfigurationError, Conflict, InvalidRequest
from gesher.exchange.ingest import add_objects
from gesher.stix.gesher_marking import published_objects
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import collections as store
from gesher.store.collections import Collection

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,199}$")


def ensure_definitions(conn: Connection) -> None:
    """The `gesher-definitions` collection with the objects this exchange publishes (idempotent)."""
    if store.by_name_or_id(conn, store.DEFINITIONS_ID) is None:
        store.insert(conn, store.DEFINITIONS_ID, store.DEFINITIONS_NAME, _DEFINITIONS, now_micros())
    result = add_objects(conn, store.DEFINITIONS_ID, published_objects(), None, keep_successes=False)
    if result.failures:
        raise ConfigurationError(f"the published definitions could not be stored: {result.failures[0]}")


def ensure_alerts(conn: Connection) -> None:
    """The `alerts` collection early warning publishes into (idempotent)."""
    if store.by_name_or_id(conn, store.ALERTS_ID) is None:
        store.insert(conn, store.ALERTS_ID, store.ALERTS_NAME, _ALERTS, now_micros())


_ALERTS = "Early-warning alerts: threats seen by several partners, without who reported them"
_DEFINITIONS = (
    "STIX definitions this exchange publishes: gesher's marking extension, its publisher, its marks"
)


def create_collection(conn: Connection, actor: str, name: str, description: str | None = None) -> Collection:
    if not _NAME.match(name) or name != name.strip():
        raise InvalidRequest(
            f"collection name {name[:100]!r} must be 1-200 letters, digits, spaces, '.', '_' or '-'"
        )
    if store.by_name_or_id(conn, name) is not None:
        raise Conflict(f"a collection named {name!r} already exists")
    collection = store.insert(conn, str(uuid.uuid4()), name, description, now_micros())
    audit.record(conn, actor, "collection.create", f"collection:{collection.id}", name=name)
    return collection
