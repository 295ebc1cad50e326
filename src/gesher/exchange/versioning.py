"""Which stored version of an object is its first and which its latest: the flags that make TAXII's
match[version]=first|last a cheap filter. Versions order by their `modified` (or `created`) key, whatever
order they arrived or left in."""

from __future__ import annotations

from collections.abc import Sequence

# (version key, date_added, current (is_latest, is_first) or None for a version not yet stored)
Version = tuple[str, int, tuple[bool, bool] | None]


def flag_changes(versions: Sequence[Version]) -> dict[int, tuple[bool, bool]]:
    """(is_latest, is_first) by date_added, for every version of one object whose flags are new or wrong."""
    if not versions:
        return {}
    latest = max(key for key, _, _ in versions)
    first = min(key for key, _, _ in versions)
    changes = {}
    for key, date_added, current in versions:
        wanted = (key == latest, key == first)
        if wanted != current:
            changes[date_added] = wanted
    return changes
