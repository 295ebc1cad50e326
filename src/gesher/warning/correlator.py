"""The incremental correlator the warning service feeds: sightings one at a time (time passed in), alerts
out when a token reaches a new, higher level.

Per token it keeps each reporter's latest sighting, false positive and expiration (bounded by the number
of reporters: a flood costs nothing), the last type-0 sighting for decay, and the current *spell* of
activity: a spell begins with a sighting when no partner had sighted the token within the longest rule
window (72 h by default), and ends when that quiet returns. Within a spell an alert is raised once per
level, only upwards; a later spell may raise them again.

Decay is judged when a spell begins, on the indicator's state before that spell: its clock reset by the
indicator's own dates (`decay(token)`, from the store) or by the last type-0 sighting of an earlier spell.
The spell's own sightings cannot vouch for it (they are the evidence being weighed); they do reset the
clock for the future, as MISP's sightings do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from gesher.warning.correlate import ReporterState, Sighting, window_stats
from gesher.warning.decay import DecayState
from gesher.warning.errors import SightingError
from gesher.warning.observations import SightingType
from gesher.warning.rules import (
    DEFAULT_RULESET,
    Alert,
    Decision,
    Level,
    RuleSet,
    Suppression,
    decide,
    publish,
)


def _no_decay(token: str) -> DecayState | None:
    return None


def _not_listed(token: str) -> bool:
    return False


@dataclass
class _Token:
    reporters: dict[str, ReporterState] = field(default_factory=dict)
    last_sighting: datetime | None = None
    spell_started: datetime | None = None
    alerted: Level = Level.NONE
    decayed_score: float | None = None


class Correlator:
    """Sightings in, alerts out. `decay(token)` gives an indicator's decay state from its own dates (None:
    no decay, e.g. a value with no indicator); `warninglisted(token)` says whether to suppress it."""

    def __init__(
        self,
        ruleset: RuleSet = DEFAULT_RULESET,
        *,
        decay: Callable[[str], DecayState | None] = _no_decay,
        warninglisted: Callable[[str], bool] = _not_listed,
    ) -> None:
        self.ruleset = ruleset
        self._decay = decay
        self._warninglisted = warninglisted
        self._tokens: dict[str, _Token] = {}

    def add(self, sighting: Sighting, now: datetime) -> list[Alert]:
        """Record one sighting received at `now`; the alerts it raises (none, or one at a new higher level
        for its token). Raises `SightingError` for a time beyond the clock-skew tolerance."""
        if sighting.time > now + self.ruleset.clock_skew:
            raise SightingError(
                f"sighting time {sighting.time.isoformat()} is in the future "
                f"(more than {self.ruleset.clock_skew} after {now.isoformat()})"
            )
        state = self._tokens.setdefault(sighting.token, _Token())
        if sighting.type is SightingType.SIGHTING:
            self._begin_spell_if_quiet(sighting.token, state, now)
        reporter = state.reporters.setdefault(sighting.reporter.id, ReporterState(sighting.reporter))
        reporter.reporter = sighting.reporter
        reporter.record(sighting)
        if sighting.type is SightingType.SIGHTING and (
            state.last_sighting is None or sighting.time > state.last_sighting
        ):
            state.last_sighting = sighting.time
        return self._raise(sighting.token, state, now)

    def add_many(self, sightings: Iterable[Sighting], now: datetime) -> list[Alert]:
        """`add` for each sighting in turn; all the alerts raised."""
        return [alert for sighting in sightings for alert in self.add(sighting, now)]

    def decision(self, token: str, now: datetime) -> Decision:
        """The current decision for `token` (level, reasons, suppressions, counts), for the analyst."""
        state = self._tokens.get(token, _Token())
        stats = [window_stats(state.reporters.values(), now, rule.window) for rule in self.ruleset.rules]
        suppression = Suppression(self._warninglisted(token), state.decayed_score)
        return decide(token, stats, self.ruleset, now, suppression)

    def level(self, token: str) -> Level:
        """The highest level alerted for `token` in its current spell."""
        state = self._tokens.get(token)
        return state.alerted if state else Level.NONE

    def forget_idle(self, now: datetime) -> int:
        """Drop tokens with no active reporter in the longest window and nothing standing to remember
        (no false positive); returns how many. Call it now and then to bound memory."""
        since = now - self.ruleset.longest
        idle = [
            token
            for token, state in self._tokens.items()
            if not any(r.active(since) or r.false_positive() for r in state.reporters.values())
        ]
        for token in idle:
            del self._tokens[token]
        return len(idle)

    def _begin_spell_if_quiet(self, token: str, state: _Token, now: datetime) -> None:
        since = now - self.ruleset.longest
        if state.spell_started is not None and any(r.active(since) for r in state.reporters.values()):
            return
        state.spell_started, state.alerted, state.decayed_score = now, Level.NONE, None
        prior = self._decay(token)
        if prior is not None and state.last_sighting is not None:
            prior = prior.sighted(state.last_sighting)
        if prior is not None and prior.is_decayed(now):
            state.decayed_score = prior.score(now)

    def _raise(self, token: str, state: _Token, now: datetime) -> list[Alert]:
        decision = self.decision(token, now)
        if decision.level <= state.alerted:
            return []
        state.alerted = decision.level
        alert = publish(decision, self.ruleset)
        return [alert] if alert is not None else []
