"""Sightings in (issue 7, "Sightings in"): a partner's report that it saw something, attributed to it,
stored append-only, matched, correlated, and turned into alerts, all in the caller's transaction.

A report names either an observed **value** (`gesher sighting add`, observation files) or an
**indicator** by id (a STIX `sighting`'s `sighting_of_ref`). It counts for tokens:

- a value counts for every stored indicator naming it (one indexed lookup in `indicator_keys`) or whose
  other pattern matches it (`pattern_index`), or, if none does, for the value itself (`type:value`), so
  partners' sightings correlate with each other too;
- an indicator id counts for itself, whether the exchange holds it, holds it hidden from the reporter, or
  has never heard of it: the reply and the correlation are the same in all three cases, so a sighting
  cannot probe for existence (an alert's detail report, which names the indicator, exists only for held
  indicators and reaches only those who may see them: see `alerts`).

Each row carries the reporter's sector(s), country and critical-infrastructure flag as the registry says
at report time. Refused, with nothing written: a time beyond the clock-skew tolerance, and a partner over
its rate limit (`TooManyRequests`, 429)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from gesher.errors import GesherError, InvalidRequest
from gesher.store import warning as store
from gesher.store.partners import PartnerRow
from gesher.warning.errors import SightingError
from gesher.warning.observations import SightingType
from gesher.warning.rules import RuleSet
from gesher.warning.values import normalise, type_name
from gesher.warning_service import alerts, indicator_keys, pattern_index, warninglists
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.correlation import correlate, micros

NO_SECTOR = "unspecified"


class TooManyRequests(GesherError):
    """A partner reported more sightings than its rate limit allows (TAXII: 429)."""

    status = 429
    title = "Too many sightings"


@dataclass(frozen=True)
class Report:
    """One sighting as reported: a value token (`type:value`) or an indicator id, when, how often, of
    which MISP type, and the STIX sighting it came from (if any)."""

    subject: str
    time: datetime
    type: SightingType = SightingType.SIGHTING
    count: int = 1
    is_indicator: bool = False
    stix_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What recording reports did: how many rows were stored and the alerts raised (for the operator)."""

    stored: int
    alerts: list[alerts.Published]


def sector_of(partner: PartnerRow) -> str:
    """A partner's sector as correlation counts it: its sectors joined (`energy+finance`), so a partner in
    several sectors is one sector combination, never several partners."""
    return "+".join(sorted(partner.sector_set)) or NO_SECTOR


def is_critical(partner: PartnerRow, config: WarningConfig) -> bool:
    """A critical-infrastructure operator: one of its sectors is in `config.critical_sectors`."""
    return bool(partner.sector_set & {s.lower() for s in config.critical_sectors})


def ruleset_of(config: WarningConfig) -> RuleSet:
    """The alert rules in force: issue 7's defaults (2 partners in 1 h; 3 partners or 2 sectors in 24 h;
    5 partners, 3 sectors or a critical-infrastructure operator in 72 h; k = 3; 5 min clock skew) unless
    the operator's GESHER_ALERT_RULES / GESHER_ALERT_K say otherwise."""
    return config.ruleset


def record(
    conn: Connection,
    partner: PartnerRow,
    reports: Sequence[Report],
    now: datetime,
    config: WarningConfig,
    identity: str,
    source: str,
) -> Outcome:
    """Store `reports` by `partner`, then correlate every token they count for and publish the alerts
    raised. Checks everything before writing anything."""
    ruleset = ruleset_of(config)
    _check_times(reports, now, ruleset.clock_skew)
    _check_rate(conn, partner, len(reports), now, config.sighting_rate_limit)
    indicator_keys.catch_up(conn, indicator_keys.SIGHTING_CATCH_UP)
    tail = indicator_keys.not_indexed_yet(conn)  # read once, for values and for patterns
    held = indicator_keys.indicators_for(conn, [r.subject for r in reports], tail)
    held = pattern_index.with_matches(conn, held, reports, tail)  # values against non-equality patterns
    rows: list[dict[str, object]] = []
    tokens: dict[str, None] = {}
    for report in reports:
        for i, token in enumerate(_tokens(report, held)):
            rows.append(_row(partner, report, token, now, config, source) | {"counted": i == 0})
            tokens[token] = None
    store.add_sightings(conn, rows)
    # Every token's lock first, in one order: two requests sharing tokens cannot deadlock (each alert
    # also takes the alerts collection's lock, which must come after all of them).
    for token in sorted(tokens):
        store.lock_token(conn, token)
    held_indicators = {i for ids in held.values() for i in ids}
    raised = []
    for token in tokens:
        listed = warninglists.listed(config.warninglists, token)
        found = correlate(conn, token, now, ruleset, listed, config.decay)
        if found is not None:
            raised.append(alerts.publish(conn, identity, found, indicator_held=token in held_indicators))
    return Outcome(len(rows), raised)


def _tokens(report: Report, held: dict[str, list[str]]) -> list[str]:
    if report.is_indicator:
        return [report.subject]
    return held.get(report.subject) or [report.subject]


def _row(
    partner: PartnerRow, report: Report, token: str, now: datetime, config: WarningConfig, source: str
) -> dict[str, object]:
    return {
        "received_at": micros(now),
        "seen_at": micros(report.time),
        "partner_id": partner.id,
        "sector": sector_of(partner)[:200],
        "country": partner.country,
        "critical": is_critical(partner, config),
        "type": int(report.type),
        "count": report.count,
        "token": token,
        "source": source,
        "stix_id": report.stix_id,
    }


def _check_times(reports: Sequence[Report], now: datetime, skew: timedelta) -> None:
    for report in reports:
        if report.time > now + skew:
            raise SightingError(
                f"sighting time {report.time.isoformat()} is in the future (more than {skew} after "
                f"{now.isoformat()}): check the reporting clock"
            )


def _check_rate(conn: Connection, partner: PartnerRow, count: int, now: datetime, limit: int) -> None:
    """At most `limit` sightings per partner per minute: its reports of the last 60 s plus these (one
    each, however many indicators a value names: the limit must not reveal how many there are)."""
    recent = store.recent_count(conn, partner.id, micros(now - timedelta(minutes=1)))
    if recent + count > limit:
        raise TooManyRequests(
            f"rate limit: at most {limit} sightings per minute per partner ({recent} in the last minute, "
            f"{count} more offered); retry later"
        )


def value_report(
    value: str, time: datetime, kind: SightingType = SightingType.SIGHTING, declared: str | None = None
) -> Report:
    """A report of one observed value (classified by its shape unless `declared`), in its normal form.
    Raises InvalidRequest with the reason for a value that is not of its type."""
    try:
        normal = normalise(value, type_name(declared) if declared else None)
    except ValueError as exc:
        raise InvalidRequest(f"value {value[:200]!r}: {exc}") from None
    return Report(f"{normal.type.value}:{normal.value}", time, kind)
