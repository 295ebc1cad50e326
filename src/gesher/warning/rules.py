"""Alert rules, suppression and what an alert may say (issue 7, "Alert rules"; reference 4.2).

Default rules (configurable, `RuleSet`):

- L1 fast spread: 2 partners within 1 h;
- L2 campaign: 3 partners or 2 sectors within 24 h;
- L3 national: 5 partners, 3 sectors or any critical-infrastructure operator within 72 h.

Every alert needs at least `min_reporters` (2) distinct partners in its rule's window, so one partner alone
never raises one, however often it reports (and a critical-infrastructure operator alone does not either).
The highest level met and not suppressed wins. Suppressed:

- a level whose partner count is at most 2 while any partner's standing word is a false positive;
- a token on a warninglist (the caller says which, e.g. from `pymispwarninglists`);
- a token whose indicator had decayed below its model's threshold when this spell of activity began.

An `Alert` never names a reporter. Its counts, sectors, countries and confidence are published only when
at least k distinct partners (default 3) reported within the rule's window; below that they are withheld
and the alert says only which rule was met. `Decision` is the analyst's view: the reasons with counts,
still without identities.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from typing import Final

from gesher.warning.correlate import WindowStats


class Level(IntEnum):
    """Alert levels: 0 none, 1 fast spread, 2 campaign, 3 national."""

    NONE = 0
    FAST_SPREAD = 1
    CAMPAIGN = 2
    NATIONAL = 3


@dataclass(frozen=True)
class AlertRule:
    """One level's rule: within `window`, at least `min_reporters` partners, or `min_sectors` sectors,
    or (if `critical_infrastructure`) any critical-infrastructure operator among them; None disables a
    branch."""

    level: Level
    name: str
    window: timedelta
    min_reporters: int | None = None
    min_sectors: int | None = None
    critical_infrastructure: bool = False

    def describe(self) -> str:
        """The rule in words, e.g. 'L2 campaign: 3 partners or 2 sectors within 24 h'."""
        branches = []
        if self.min_reporters is not None:
            branches.append(f"{self.min_reporters} partners")
        if self.min_sectors is not None:
            branches.append(f"{self.min_sectors} sectors")
        if self.critical_infrastructure:
            branches.append("any critical-infrastructure operator")
        text = branches[0] if len(branches) == 1 else ", ".join(branches[:-1]) + " or " + branches[-1]
        return f"L{int(self.level)} {self.name}: {text} within {_duration(self.window)}"

    def met(self, stats: WindowStats) -> tuple[str, ...]:
        """The branches `stats` meets, in words with counts (empty if none)."""
        reasons = []
        if self.min_reporters is not None and stats.reporters >= self.min_reporters:
            reasons.append(f"{stats.reporters} partners >= {self.min_reporters}")
        if self.min_sectors is not None and len(stats.sectors) >= self.min_sectors:
            reasons.append(f"{len(stats.sectors)} sectors >= {self.min_sectors}")
        if self.critical_infrastructure and stats.critical:
            reasons.append("a critical-infrastructure operator among the partners")
        return tuple(reasons)


DEFAULT_RULES: Final = (
    AlertRule(Level.FAST_SPREAD, "fast spread", timedelta(hours=1), min_reporters=2),
    AlertRule(Level.CAMPAIGN, "campaign", timedelta(hours=24), min_reporters=3, min_sectors=2),
    AlertRule(
        Level.NATIONAL,
        "national",
        timedelta(hours=72),
        min_reporters=5,
        min_sectors=3,
        critical_infrastructure=True,
    ),
)


@dataclass(frozen=True)
class RuleSet:
    """The rules and their parameters: k for k-anonymity, the partner floor of every alert, the false
    positive suppression bound, and the clock-skew tolerance for sighting times."""

    rules: tuple[AlertRule, ...] = DEFAULT_RULES
    k: int = 3
    min_reporters: int = 2
    false_positive_max_reporters: int = 2
    clock_skew: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.min_reporters < 2:
            raise ValueError("min_reporters must be at least 2: one partner alone never raises an alert")
        if self.k < 1 or not self.rules:
            raise ValueError("k must be at least 1 and there must be at least one rule")

    @property
    def longest(self) -> timedelta:
        """The longest rule window (a token quiet that long ends its spell of activity)."""
        return max(rule.window for rule in self.rules)


DEFAULT_RULESET: Final = RuleSet()


@dataclass(frozen=True)
class Suppression:
    """Suppressions that apply to a whole token: on a warninglist, or decayed (with its score)."""

    warninglisted: bool = False
    decayed_score: float | None = None


@dataclass(frozen=True)
class Decision:
    """The analyst's view of one token at one time: the level reached (NONE if none), the rule, the
    reasons (counts, never identities), the suppressions that applied, and the window counts."""

    token: str
    at: datetime
    level: Level
    rule: AlertRule | None
    reasons: tuple[str, ...]
    suppressed: tuple[str, ...]
    stats: tuple[WindowStats, ...] = field(repr=False)


@dataclass(frozen=True)
class Alert:
    """What partners may be told: the token, the level and rule, when; counts, sectors, countries and
    confidence only if at least k partners reported (else None and `withheld`). No reporter identities."""

    token: str
    level: Level
    rule: str
    raised_at: datetime
    reporters: int | None
    sectors: tuple[str, ...] | None
    countries: int | None
    confidence: float | None
    withheld: bool
    reasons: tuple[str, ...]


def decide(
    token: str, stats: Sequence[WindowStats], ruleset: RuleSet, now: datetime, suppression: Suppression
) -> Decision:
    """The highest level whose rule `stats` (one per rule, in order) meets and nothing suppresses, with
    its reasons."""
    blocked = _token_suppressions(suppression)
    suppressed = list(blocked)
    for rule, window in sorted(zip(ruleset.rules, stats, strict=True), key=lambda rw: -rw[0].level):
        met = rule.met(window)
        if not met:
            continue
        if window.reporters < ruleset.min_reporters:
            suppressed.append(
                f"{rule.describe()}: only {window.reporters} partner(s), {ruleset.min_reporters} needed"
            )
            continue
        if window.false_positives and window.reporters <= ruleset.false_positive_max_reporters:
            suppressed.append(
                f"L{int(rule.level)}: {window.false_positives} false-positive report(s) and only "
                f"{window.reporters} partners"
            )
            continue
        if blocked:
            return Decision(token, now, Level.NONE, rule, met, tuple(suppressed), tuple(stats))
        return Decision(token, now, rule.level, rule, met, tuple(suppressed), tuple(stats))
    return Decision(token, now, Level.NONE, None, (), tuple(suppressed), tuple(stats))


def publish(decision: Decision, ruleset: RuleSet) -> Alert | None:
    """The alert partners may receive for a decision (None if it reached no level), with counts only at
    or above k."""
    rule = decision.rule
    if rule is None or decision.level is Level.NONE:
        return None
    window = decision.stats[ruleset.rules.index(rule)]
    shown = window.reporters >= ruleset.k
    reasons = [f"{rule.describe()}: met"]
    if shown:
        reasons.append(
            f"seen by {window.reporters} partners in {len(window.sectors)} sectors and "
            f"{len(window.countries)} countries within {_duration(rule.window)}"
            + (", among them critical infrastructure" if window.critical else "")
        )
    else:
        reasons.append(f"counts withheld: fewer than {ruleset.k} partners")
    return Alert(
        token=decision.token,
        level=rule.level,
        rule=rule.describe(),
        raised_at=decision.at,
        reporters=window.reporters if shown else None,
        sectors=tuple(sorted(window.sectors)) if shown else None,
        countries=len(window.countries) if shown else None,
        confidence=round(window.confidence, 4) if shown else None,
        withheld=not shown,
        reasons=tuple(reasons),
    )


def _token_suppressions(suppression: Suppression) -> list[str]:
    found = []
    if suppression.warninglisted:
        found.append("the value is on a warninglist")
    if suppression.decayed_score is not None:
        found.append(
            f"the indicator had decayed (score {suppression.decayed_score:.1f}) when this activity began"
        )
    return found


def _duration(window: timedelta) -> str:
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} h"
    if seconds % 60 == 0:
        return f"{seconds // 60} min"
    return f"{seconds} s"
