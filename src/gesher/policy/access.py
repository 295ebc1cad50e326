"""Collection access decisions. Each rule's docstring is the explanation a user sees."""

from __future__ import annotations

from dataclasses import dataclass

from gesher.policy.principal import Principal


@dataclass(frozen=True)
class CollectionAccess:
    """Whether the caller may know the collection exists, read it, write to it, and why."""

    visible: bool
    can_read: bool
    can_write: bool
    reason: str


def collection_access(principal: Principal, collection_id: str) -> CollectionAccess:
    """Administrators of the exchange read and write every collection. A partner sees a collection only
    when it holds a grant on it, and reads or writes only what that grant says. Without a grant the
    collection is indistinguishable from one that does not exist (default deny)."""
    if principal.is_admin:
        return CollectionAccess(True, True, True, "exchange administrator")
    grant = principal.grants.get(collection_id)
    if grant is None or not (grant.can_read or grant.can_write):
        return CollectionAccess(False, False, False, "no grant on this collection")
    return CollectionAccess(True, grant.can_read, grant.can_write, "collection grant")
