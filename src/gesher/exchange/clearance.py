"""Which stored versions a partner may receive, computed per access label and cached per process.

DESIGN.md, "Access labels": the policy decides once per (partner entitlement, label), not per object; the
allowed label ids become a SQL filter. Each request checks, in one query, which policy is in force and
the number of labels, so a policy load, a new label or a partner change (the entitlement is part of the
cache key) takes effect at the next request, in every worker. Time-dependent decisions (an embargo that
ends, an agreement that expires) carry the time at which they must be recomputed."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from gesher.policy.decide import Decision, decide
from gesher.policy.entitlement import Entitlement
from gesher.policy.labels import AccessLabel
from gesher.policy.policy_file import PolicyFileError, parse_policy
from gesher.policy.rules import DENY_ALL, Policy
from gesher.policy.sanitise import Sanitiser
from gesher.stix.timestamps import now_micros
from gesher.store import labels as label_store
from gesher.store import policies as policy_store

_CACHED_PARTNERS = 4096


@dataclass(frozen=True)
class Allowed:
    """What one partner may receive right now: label ids served as they are (after sanitisation), label
    ids served only for versions a second analyst released, and how to redact each."""

    policy: Policy
    policy_id: int
    open: tuple[int, ...]
    gated: tuple[int, ...]
    profiles: dict[int, str | None] = field(default_factory=dict)
    denied_selectors: dict[int, tuple[str, ...]] = field(default_factory=dict)
    # Granularly marked parts the partner may receive only once the version's release is approved.
    pending_selectors: dict[int, tuple[str, ...]] = field(default_factory=dict)
    valid_until: int | None = None
    # Originators the partner's profiles protect: a relationship or sighting naming one is withheld.
    protected: frozenset[str] = frozenset()
    # The rule (or agreement) that allows each label: what the ledger records as the deciding rule.
    rules: dict[int, str] = field(default_factory=dict)

    @property
    def nothing(self) -> bool:
        return not self.open and not self.gated

    def admits(self, label_id: int | None, released: bool) -> bool:
        """Whether a version with this label (and release state) is one the partner may see."""
        return label_id in self.open or (released and label_id in self.gated)


class Clearance:
    """One per process (held by the Node). Thread-safe: API workers share it."""

    def __init__(self, exchange_identity: str) -> None:
        self.exchange_identity = exchange_identity
        self._lock = threading.Lock()
        self._labels: dict[int, AccessLabel] = {}
        self._policies: dict[int, Policy] = {0: DENY_ALL}
        self._allowed: OrderedDict[tuple[object, ...], Allowed] = OrderedDict()
        self._sanitisers: dict[tuple[int, str], Sanitiser] = {}

    def current_policy(self, conn: Connection) -> tuple[int, Policy]:
        policy_id, _ = policy_store.state(conn)
        return policy_id, self._policy(conn, policy_id)

    def label(self, conn: Connection, label_id: int) -> AccessLabel | None:
        if label_id not in self._labels:
            self._refresh_labels(conn, policy_store.state(conn)[1])
        return self._labels.get(label_id)

    def allowed(
        self,
        conn: Connection,
        entitlement: Entitlement,
        now: int | None = None,
        state: tuple[int, int] | None = None,
    ) -> Allowed:
        """What the partner may receive now. `state` is (policy in force, number of labels) when the caller
        already read it in this transaction (authentication does); else it is read here."""
        policy_id, count = state if state is not None else policy_store.state(conn)
        self._refresh_labels(conn, count)
        now = now_micros() if now is None else now
        key = (entitlement, policy_id, count)
        with self._lock:
            found = self._allowed.get(key)
            if found is not None and (found.valid_until is None or now < found.valid_until):
                self._allowed.move_to_end(key)
                return found
        computed = self._compute(entitlement, policy_id, self._policy(conn, policy_id), now)
        with self._lock:
            self._allowed[key] = computed
            while len(self._allowed) > _CACHED_PARTNERS:
                self._allowed.popitem(last=False)
        return computed

    def sanitiser(self, allowed: Allowed, profile: str | None) -> Sanitiser | None:
        if profile is None or profile not in allowed.policy.profiles:
            return None
        key = (allowed.policy_id, profile)
        found = self._sanitisers.get(key)
        if found is None:
            found = self._sanitisers[key] = Sanitiser(
                allowed.policy.profiles[profile], self.exchange_identity
            )
        return found

    def decisions(
        self, conn: Connection, entitlement: Entitlement, label_id: int, now: int | None = None
    ) -> tuple[Decision, list[tuple[tuple[str, ...], Decision]]] | None:
        """The decision for one label and for each of its granular redactions (for `policy explain`)."""
        label = self.label(conn, label_id)
        if label is None:
            return None
        _, policy = self.current_policy(conn)
        now = now_micros() if now is None else now
        return decide(entitlement, label, policy, now), [
            (sel, decide(entitlement, sub, policy, now)) for sel, sub in label.redactions
        ]

    def _refresh_labels(self, conn: Connection, count: int) -> None:
        """Learn labels this process has not seen (labels are few and never deleted: reading them all is
        cheap and cannot miss one that committed out of id order)."""
        if count <= len(self._labels):
            return
        fresh = label_store.all_labels(conn)
        with self._lock:
            self._labels.update(fresh)

    def _policy(self, conn: Connection, policy_id: int) -> Policy:
        found = self._policies.get(policy_id)
        if found is None:
            stored = policy_store.by_id(conn, policy_id)
            # A stored policy was validated when it was loaded; parsing again cannot fail short of tampering
            # (or a stricter parser), and then the deny-all policy is the only safe reading, never a 500.
            try:
                found = parse_policy(stored.text, f"policy #{policy_id}") if stored else DENY_ALL
            except PolicyFileError:
                found = DENY_ALL
            self._policies[policy_id] = found
        return found

    def _compute(self, entitlement: Entitlement, policy_id: int, policy: Policy, now: int) -> Allowed:
        open_ids: list[int] = []
        gated: list[int] = []
        profiles: dict[int, str | None] = {}
        denied: dict[int, tuple[str, ...]] = {}
        pending: dict[int, tuple[str, ...]] = {}
        rules: dict[int, str] = {}
        ends: list[int] = []
        for label_id, label in sorted(self._labels.items()):
            d = decide(entitlement, label, policy, now)
            if d.valid_until is not None:
                ends.append(d.valid_until)
            if not d.allowed:
                continue
            parts = [(sel, decide(entitlement, sub, policy, now)) for sel, sub in label.redactions]
            (gated if d.needs_release else open_ids).append(label_id)
            profiles[label_id] = d.profile
            rules[label_id] = d.decided_by or "policy"
            hidden = [s for sel, part in parts if not part.allowed for s in sel]
            if hidden:
                denied[label_id] = tuple(hidden)
            held_back = [s for sel, part in parts if held_until_release(d, part) for s in sel]
            if held_back:
                pending[label_id] = tuple(held_back)
        return Allowed(
            policy,
            policy_id,
            tuple(open_ids),
            tuple(gated),
            profiles,
            denied,
            pending,
            min(ends) if ends else None,
            _protected(policy, profiles.values()),
            rules,
        )


def held_until_release(whole: Decision, part: Decision) -> bool:
    """A granularly marked part that needs a second analyst's approval (e.g. a RED description) while its
    object does not: partners cleared for it receive the object without it until the version is released,
    and with it after (one approval covers the version as a whole)."""
    return part.allowed and part.needs_release and not whole.needs_release


def _protected(policy: Policy, profile_names: Iterable[str | None]) -> frozenset[str]:
    """Originators protected by any of the profiles the partner is served under (replacing a reference
    in a relationship would make a different statement; serving it would name them)."""
    found: set[str] = set()
    for name in set(profile_names):
        profile = policy.profiles.get(name) if name else None
        if profile is not None:
            found |= profile.protected_originators
    return frozenset(found)
