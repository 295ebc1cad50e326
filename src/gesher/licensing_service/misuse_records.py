"""The misuse history a recommendation weighs (issue 5: substantiated misuse feeds later decisions): every
misuse report actioned on a substantiated finding, as `recommend.MisuseRecord` facts. Which application a
record involves (its end user, intermediaries, destination, vendor) is the pure rule's business
(`recommend.misuse_reports`); this only reads the reports, the licences they name and the day each finding
was recorded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from gesher.licensing.conditions import LicenceKind
from gesher.licensing.misuse import DenyEndUser, LowerCountryTier, MisuseFinding, MisuseReport, MisuseState
from gesher.licensing.recommend import MisuseRecord
from gesher.store import licensing as store
from gesher.store.licensing import LICENCE, MISUSE

INVESTIGATE = "investigate"  # the history action that records a report's finding


def substantiated(conn: Connection) -> tuple[MisuseRecord, ...]:
    """Every actioned misuse report whose finding was substantiated, oldest id first."""
    reports = store.find(conn, MISUSE, state=MisuseState.ACTIONED.value)
    return tuple(_record(conn, report) for report in reports if report.finding == MisuseFinding.SUBSTANTIATED)


def _record(conn: Connection, report: MisuseReport) -> MisuseRecord:
    named = [x for x in (store.load(conn, LICENCE, lid) for lid in report.licences) if x is not None]
    exports = [x for x in named if x.kind == LicenceKind.EXPORT]
    parties = [report.end_user, *(x.end_user for x in exports)]
    parties += [a.party for a in report.actions if isinstance(a, DenyEndUser)]
    countries = [report.country, *(x.destination for x in exports)]
    countries += [a.country for a in report.actions if isinstance(a, LowerCountryTier)]
    return MisuseRecord(
        report.id,
        _substantiated_on(conn, report),
        report.summary,
        _unique(parties),
        _unique(c.upper() for c in countries),
        _unique(x.vendor for x in named),
    )


def _substantiated_on(conn: Connection, report: MisuseReport) -> date:
    """The day the finding was recorded (the report's investigation event)."""
    found = [e for e in store.events(conn, "misuse", report.id) if e.action == INVESTIGATE]
    at = found[-1].at if found else 0
    return datetime.fromtimestamp(at / 1_000_000, UTC).date()


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v.strip()))
