"""Correlation of one token, stateless across workers (issue 7, "Correlation"): every decision is made
from the store, so any API worker or CLI process may take any sighting.

After a sighting is stored, for each token it counts for: take the token's lock (PostgreSQL; SQLite
writers are serialised anyway), load its sightings of the longest rule window (72 h by default) and its
standing false positives and expirations, rebuild each reporter's latest word (`ReporterState`), and run
the pure rules (`window_stats`, `decide`, `publish`). A decision above the level already alerted for the
token in that window raises a new alert; one partner repeating itself counts once (the core's guarantee).

The window stands in for the in-memory correlator's "spell of activity": a level alerted within the
longest window is not alerted again; after that long it may be (a fresh wave of the same threat)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from gesher.store import warning as store
from gesher.store.warning import SightingRow
from gesher.warning.correlate import Reporter, ReporterState, Sighting, window_stats
from gesher.warning.observations import SightingType
from gesher.warning.rules import Alert, Level, RuleSet, Suppression, decide, publish


@dataclass(frozen=True)
class Raised:
    """An alert to raise for a token: what partners may be told, and (for the ledger and analysts only)
    how many distinct organisations reported in the rule's window."""

    token: str
    alert: Alert
    organisations: int


def micros(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


def correlate(
    conn: Connection, token: str, now: datetime, ruleset: RuleSet, warninglisted: bool = False
) -> Raised | None:
    """The new or higher alert `token` reaches at `now`, or None (also when it is `warninglisted`). Call
    inside the write transaction that stored the sighting; the caller stores the alert in it too."""
    store.lock_token(conn, token)
    since = micros(now - ruleset.longest)
    states = _states(token, store.sightings_of(conn, token, since))
    stats = [window_stats(states, now, rule.window) for rule in ruleset.rules]
    decision = decide(token, stats, ruleset, now, Suppression(warninglisted=warninglisted))
    if decision.level is Level.NONE or decision.level <= store.alerted_level(conn, token, since):
        return None
    alert = publish(decision, ruleset)
    if alert is None or decision.rule is None:
        return None
    organisations = stats[ruleset.rules.index(decision.rule)].reporters
    return Raised(token, alert, organisations)


def _states(token: str, rows: list[SightingRow]) -> list[ReporterState]:
    """Each partner's latest sighting, false positive and expiration of the token. A partner is known to
    the core only by its row id: identities stay in the store."""
    states: dict[int, ReporterState] = {}
    for row in rows:
        reporter = Reporter(str(row.partner_id), row.sector, row.country, "F", row.critical)
        state = states.setdefault(row.partner_id, ReporterState(reporter))
        state.record(Sighting(token, reporter, from_micros(row.seen_at), SightingType(row.type)))
    return list(states.values())
