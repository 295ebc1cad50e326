"""Correlation of one token, stateless across workers (issue 7, "Correlation"): every decision is made
from the store, so any API worker or CLI process may take any sighting.

After a sighting is stored, for each token it counts for: take the token's lock (PostgreSQL; SQLite
writers are serialised anyway), load its sightings of the longest rule window (72 h by default) and its
standing false positives and expirations, rebuild each reporter's latest word (`ReporterState`), and run
the pure rules (`window_stats`, `decide`, `publish`). A decision above the level already alerted for the
token in that window raises a new alert; one partner repeating itself counts once (the core's guarantee).

With `decay` on (`WarningConfig.decay`), an indicator that had decayed below its model's threshold when
the spell began raises no alert (MISP's polynomial model, the core's `decay`).

The window stands in for the in-memory correlator's "spell of activity": a level alerted within the
longest window is not alerted again; after that long it may be (a fresh wave of the same threat)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from gesher.store import warning as store
from gesher.store.warning import SightingRow
from gesher.warning.correlate import Reporter, ReporterState, Sighting, window_stats
from gesher.warning.decay import LONG_LIVED_HASH, NIDS_SIMPLE, PHISHING, DecayState
from gesher.warning.observations import SightingType
from gesher.warning.rules import Alert, Level, RuleSet, Suppression, decide, publish
from gesher.warning_service import indicator_keys


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
    conn: Connection,
    token: str,
    now: datetime,
    ruleset: RuleSet,
    warninglisted: bool = False,
    decay: bool = False,
) -> Raised | None:
    """The new or higher alert `token` reaches at `now`, or None (also when it is `warninglisted`). Call
    inside the write transaction that stored the sighting; the caller stores the alert in it too."""
    store.lock_token(conn, token)
    since = micros(now - ruleset.longest)
    rows = store.sightings_of(conn, token, since)
    states = _states(token, rows)
    stats = [window_stats(states, now, rule.window) for rule in ruleset.rules]
    decayed = decayed_score(conn, token, rows, since) if decay else None
    suppression = Suppression(warninglisted=warninglisted, decayed_score=decayed)
    decision = decide(token, stats, ruleset, now, suppression)
    if decision.level is Level.NONE or decision.level <= store.alerted_level(conn, token, since):
        return None
    alert = publish(decision, ruleset)
    if alert is None or decision.rule is None:
        return None
    organisations = stats[ruleset.rules.index(decision.rule)].reporters
    return Raised(token, alert, organisations)


def decayed_score(conn: Connection, token: str, rows: list[SightingRow], since: int) -> float | None:
    """The indicator's score when this spell of activity began, if it had decayed by then (else None).

    As the in-memory correlator does (`gesher.warning.correlator`): judged on the indicator's state
    before the spell, its clock reset by its own `modified` or by the last sighting of an earlier spell,
    never by the sightings being weighed. The spell is taken to begin at the earliest sighting of the
    longest window (a stateless stand-in for "no sighting for that long before")."""
    inputs = indicator_keys.decay_inputs(conn, token)
    began = min((r.seen_at for r in rows if r.type == 0 and r.seen_at >= since), default=None)
    if inputs is None or began is None:
        return None
    model_name, base, reset_at = inputs
    earlier = store.last_sighting_before(conn, token, since)
    model = MODELS[model_name]
    state = DecayState(model, base, from_micros(reset_at))
    if earlier is not None:
        state = state.sighted(from_micros(earlier))
    start = from_micros(began)
    return state.score(start) if state.is_decayed(start) else None


MODELS = {m.name: m for m in (NIDS_SIMPLE, PHISHING, LONG_LIVED_HASH)}


def _states(token: str, rows: list[SightingRow]) -> list[ReporterState]:
    """Each partner's latest sighting, false positive and expiration of the token, with its source
    reliability (Admiralty A-F, which weighs W and the confidence). A partner is known to the core only by
    its row id: identities stay in the store."""
    states: dict[int, ReporterState] = {}
    for row in rows:
        reporter = Reporter(str(row.partner_id), row.sector, row.country, row.reliability, row.critical)
        state = states.setdefault(row.partner_id, ReporterState(reporter))
        state.record(Sighting(token, reporter, from_micros(row.seen_at), SightingType(row.type)))
    return list(states.values())
