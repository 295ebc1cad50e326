"""Indicator decay: MISP's polynomial decaying model, exactly (reference `privacy_warning.md` 4.4, from
MISP's `app/Model/DecayingModelsFormulas/Polynomial.php` and `Base.php`).

    score = base_score * (1 - (elapsed / lifetime) ** (1 / decay_speed)), clipped at 0
    decayed when threshold > score
    time to decay: lifetime * (1 - threshold / base_score) ** decay_speed

`elapsed` runs from the last sighting (MISP: "everytime a Sighting is added... the score is refreshed back
to the value of the original base_score"); without one, from the indicator's `last_seen`, else from its
timestamp; and if the indicator was modified after its last sighting, from that modification. Only type-0
sightings reset the clock (a false positive or an expiration is no evidence the indicator is live).

Models per value type (`model_for`): MISP's `nids-simple-model` for addresses, domains and URLs,
`phishing-model` for phishing (e-mail senders, indicators labelled phishing), and a long-lived model for
file hashes, which do not go stale the way infrastructure does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from gesher.warning.values import HASH_LENGTHS, ValueType

DAY: Final = 86_400.0


@dataclass(frozen=True)
class DecayModel:
    """A polynomial decaying model: lifetime τ in days, decay speed δ, threshold, default base score."""

    name: str
    lifetime_days: float
    decay_speed: float
    threshold: float
    default_base_score: float = 80.0

    def score(self, elapsed: timedelta, base_score: float | None = None) -> float:
        """The score `elapsed` after the clock was last reset: base*(1-(elapsed/τ)^(1/δ)), at least 0.
        A negative elapsed time (a reset in the future) counts as none."""
        base = self.default_base_score if base_score is None else base_score
        ratio = max(elapsed.total_seconds(), 0.0) / (self.lifetime_days * DAY)
        if ratio >= 1.0:
            return 0.0
        return max(base * (1.0 - float(ratio ** (1.0 / self.decay_speed))), 0.0)

    def is_decayed(self, elapsed: timedelta, base_score: float | None = None) -> bool:
        """MISP's `isDecayed`: the threshold is above the score."""
        return self.threshold > self.score(elapsed, base_score)

    def time_to_decay(self, base_score: float | None = None) -> timedelta:
        """How long after a reset the score falls to the threshold: τ(1 - threshold/base)^δ (zero when the
        base is at or below the threshold)."""
        base = self.default_base_score if base_score is None else base_score
        if base <= self.threshold:
            return timedelta(0)
        return timedelta(days=self.lifetime_days * (1.0 - self.threshold / base) ** self.decay_speed)


NIDS_SIMPLE: Final = DecayModel("nids-simple-model", lifetime_days=120, decay_speed=2, threshold=30)
PHISHING: Final = DecayModel("phishing-model", lifetime_days=3, decay_speed=2.3, threshold=30)
# Design choice (reference 4.4: "file hashes with a long tau"): five years, linear; at base 80 it decays
# after about 3.1 years.
LONG_LIVED_HASH: Final = DecayModel("long-lived-hash-model", lifetime_days=1825, decay_speed=1, threshold=30)


def model_for(value_type: ValueType, labels: Iterable[str] = ()) -> DecayModel:
    """The model for an indicator of `value_type`: hashes long-lived, e-mail senders and anything labelled
    phishing (STIX `labels` or `indicator_types`) the phishing model, everything else NIDS-simple."""
    if value_type in HASH_LENGTHS:
        return LONG_LIVED_HASH
    if value_type == ValueType.EMAIL or any("phishing" in label.lower() for label in labels):
        return PHISHING
    return NIDS_SIMPLE


# MISP's admiralty-scale taxonomy (`numerical_value` of each tag, misp-taxonomies admiralty-scale).
SOURCE_RELIABILITY: Final[dict[str, float]] = {"A": 100, "B": 75, "C": 50, "D": 25, "E": 0, "F": 50, "G": 0}
INFORMATION_CREDIBILITY: Final[dict[int, float]] = {1: 100, 2: 75, 3: 50, 4: 25, 5: 0, 6: 50}


def base_score(values: Mapping[str, float], weights: Mapping[str, float], default: float = 80.0) -> float:
    """MISP's `computeBasescore`: the weighted mean of the numerical values of the configured taxonomies
    present (weights normalised over those present), or `default` when none is present or all present
    weigh nothing. E.g. reliability A (100) and credibility 3 (50) at equal weights give 75."""
    present = {name: w for name, w in weights.items() if name in values}
    total = sum(present.values())
    if not present or total <= 0:
        return default
    return sum(values[name] * w / total for name, w in present.items())


def admiralty_base_score(
    reliability: str | None, credibility: int | None = None, default: float = 80.0
) -> float:
    """The base score from Admiralty source reliability (A-G) and information credibility (1-6), equal
    weights, as the reference recommends; `default` when neither is known. Raises KeyError for an unknown
    grade."""
    values: dict[str, float] = {}
    if reliability is not None:
        values["reliability"] = SOURCE_RELIABILITY[reliability.upper()]
    if credibility is not None:
        values["credibility"] = INFORMATION_CREDIBILITY[credibility]
    return base_score(values, {"reliability": 1.0, "credibility": 1.0}, default)


def reference_time(
    last_sighting: datetime | None,
    last_seen: datetime | None,
    timestamp: datetime,
    modified: datetime | None = None,
) -> datetime:
    """When the decay clock was last reset (MISP `Base.php` `computeCurrentScore`): the last type-0
    sighting; without one `last_seen`, else the indicator's timestamp; and if the indicator was modified
    after its last sighting, `last_seen` or the timestamp instead."""
    fallback = last_seen if last_seen is not None else timestamp
    if last_sighting is None:
        return fallback
    if modified is not None and modified > last_sighting:
        return fallback
    return last_sighting


@dataclass(frozen=True)
class DecayState:
    """An indicator's decay inputs: its model and base score, and when its clock was last reset."""

    model: DecayModel
    base_score: float
    reset_at: datetime

    def score(self, now: datetime) -> float:
        """The score at `now`."""
        return self.model.score(now - self.reset_at, self.base_score)

    def is_decayed(self, now: datetime) -> bool:
        """True if the score at `now` is below the model's threshold."""
        return self.model.is_decayed(now - self.reset_at, self.base_score)

    def sighted(self, at: datetime, sighting_type: int = 0) -> DecayState:
        """The state after a sighting: a type-0 sighting later than the last reset resets the clock; a
        false positive (1) or an expiration (2) changes nothing."""
        if sighting_type != 0 or at <= self.reset_at:
            return self
        return DecayState(self.model, self.base_score, at)
