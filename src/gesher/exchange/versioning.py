"""The per-version flags that keep TAXII's version filters cheap: which stored version of an object is its
first and which its latest, and whether all of its versions carry the same access label. Versions order by
their `modified` (or `created`) key, whatever order they arrived or left in.

`uniform` matters to the policy: when every version of an object carries one label (and one release
state), a partner sees all of its versions or none, so the stored first/latest flags hold for every
partner. When they differ, a partner's own first and latest are among the versions it may see (the
store's queries ask for them), so a hidden newer version is indistinguishable from an absent one."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection

from gesher.store import objects as store

Flags = tuple[bool, bool, bool]  # (is_latest, is_first, uniform)
# What decides whether a partner may see a version: its label and whether its release was approved.
Visibility = tuple[int | None, bool]
# (version key, date_added, visibility, current flags or None for a version not yet stored)
Version = tuple[str, int, Visibility, Flags | None]


def flag_changes(versions: Sequence[Version]) -> dict[int, Flags]:
    """Flags by date_added, for every version of one object whose flags are new or wrong."""
    if not versions:
        return {}
    latest = max(key for key, _, _, _ in versions)
    first = min(key for key, _, _, _ in versions)
    uniform = len({seen for _, _, seen, _ in versions}) == 1
    changes = {}
    for key, date_added, _, current in versions:
        wanted = (key == latest, key == first, uniform)
        if wanted != current:
            changes[date_added] = wanted
    return changes


def repair_flags(conn: Connection, collection: int, object_ids: Iterable[str]) -> None:
    """Recompute the flags of the objects' versions (after a delete, a relabel or a release decision)."""
    for remaining in store.versions_of(conn, collection, list(object_ids)).values():
        versions = [(v.version, v.date_added, (v.label_id, v.released), v.flags) for v in remaining]
        store.set_flags(conn, collection, list(flag_changes(versions).items()))
