"""Stored access labels: distinct, append-only, few. Ingest registers them; serving reads them all."""

from __future__ import annotations

import json

from sqlalchemy import Connection, select

from gesher.policy.labels import AccessLabel
from gesher.store.db import dialect_insert
from gesher.store.tables import access_labels


def ensure(conn: Connection, label: AccessLabel) -> int:
    """The id of `label`, registering it first if it is new (concurrent writers agree on one row)."""
    digest = label.digest()
    found = conn.execute(select(access_labels.c.id).where(access_labels.c.digest == digest)).scalar()
    if found is not None:
        return int(found)
    body = json.dumps(label.to_json(), sort_keys=True)
    conn.execute(
        dialect_insert(conn, access_labels).values(digest=digest, label=body).on_conflict_do_nothing()
    )
    return int(conn.execute(select(access_labels.c.id).where(access_labels.c.digest == digest)).scalar_one())


def all_labels(conn: Connection) -> dict[int, AccessLabel]:
    """Every label, by id."""
    stmt = select(access_labels.c.id, access_labels.c.label)
    return {int(r.id): AccessLabel.from_json(json.loads(r.label)) for r in conn.execute(stmt)}
