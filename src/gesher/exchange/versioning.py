"""The per-version flags that keep TAXII's version filters cheap: which stored version of an object is its
first and which its latest, and whether all of its versions carry the same access label. Versions order by
their `modified` (or `created`) key, whatever order they arrived or left in.

`uniform` matters to the policy: when every version of an object carries one label, a partner sees all of
its versions or none, so the stored first/latest flags hold for every partner. When labels differ, a
partner's own first and latest are among the versions it may see (exchange.outbound asks for them), so a
hidden newer version is indistinguishable from an absent one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from gesher.store import objects as store

Flags = tuple[bool, bool, bool]  # (is_latest, is_first, uniform)
# (version key, date_added, label id, current flags or None for a version not yet stored)
Version = tuple[str, int, int | None, Flags | None]


def flag_changes(versions: Sequence[Version]) -> dict[int, Flags]:
    """Flags by date_added, for every version of one object whose flags are new or wrong."""
    if not versions:
        return {}
    latest = max(key for key, _, _, _ in versions)
    first = min(key for key, _, _, _ in versions)
    uniform = len({label for _, _, label, _ in versions}) == 1
    changes = {}
    for key, date_added, _, current in versions:
        wanted = (key == latest, key == first, uniform)
        if wanted != current:
            changes[date_added] = wanted
    return changes


def repair_flags(conn: Connection, collection: int, object_ids: Iterable[str]) -> None:
    """Recompute the flags of the objects' remaining versions (after a delete or a relabel)."""
    for remaining in store.versions_of(conn, collection, list(object_ids)).values():
        versions = [(v.version, v.date_added, v.label_id, v.flags) for v in remaining]
        store.set_flags(conn, collection, list(flag_changes(versions).items()))
