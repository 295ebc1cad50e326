"""Partners acknowledge alerts (issue 7, "Partners acknowledge alerts; unacknowledged high-level alerts
escalate"). Runs in the caller's transaction; never commits.

Who is expected to acknowledge an alert at or above the escalation level: every partner in good standing
(vetted, not suspended, not an administrator of the exchange) that may read the alert's summary report.
Whether a partner may read it is decided by the exchange's one enforcement point (`Outbound`), exactly as
when it reads the `alerts` collection over TAXII, so an alert hidden from a partner is never expected of it,
never listed to it, and acknowledging it answers exactly like acknowledging an alert that does not exist.

Any alert a partner may read can be acknowledged (any level); the first acknowledgement counts, a second
one returns the first. Each acknowledgement is a ledger entry (`acknowledgement`: the alert and the
partner; the note stays in the store)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection

from gesher.errors import Forbidden, GesherError, InvalidRequest, NotFound
from gesher.exchange.clearance import Clearance
from gesher.exchange.outbound import Outbound
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.partners.service import principal_of
from gesher.policy.principal import Principal
from gesher.stix.timestamps import format_micros
from gesher.store import acknowledgements as store
from gesher.store import partners as partner_store
from gesher.store.acknowledgements import AlertRow
from gesher.store.collections import ALERTS_ID
from gesher.store.partners import PartnerRow
from gesher.warning_service.config import WarningConfig
from gesher.warning_service.correlation import micros

NOTE_LIMIT: Final = 2000  # characters of an acknowledgement's note
# One message for an alert that does not exist and one hidden from the caller (hidden = absent): it names
# no id, so the two answers are the same bytes whatever was asked.
NO_ALERT: Final = "no such alert"


@dataclass(frozen=True)
class Acknowledged:
    """An acknowledgement as stored (the first one, when the partner acknowledged before), and whether
    this call created it."""

    alert_id: str
    partner: str
    at: int
    actor: str
    note: str
    created: bool

    def as_json(self) -> dict[str, object]:
        return {
            "alert": self.alert_id, "partner": self.partner, "acknowledged_at": format_micros(self.at),
            "actor": self.actor, "note": self.note or None,
        }  # fmt: skip


def in_good_standing(partner: PartnerRow) -> bool:
    """Vetted (has a trust tier), not suspended, not an administrator of the exchange: a partner expected
    to acknowledge the high-level alerts it receives."""
    return partner.trust_tier is not None and not partner.suspended and not partner.is_admin


def require_good_standing(principal: Principal) -> None:
    """A caller that is not a partner in good standing may not acknowledge (403, whatever the alert: the
    refusal says nothing about any alert). Suspended partners never get this far: their tokens are
    refused (401)."""
    entitlement = principal.entitlement
    if principal.is_admin:
        raise Forbidden("administrators of the exchange do not acknowledge alerts; partners do")
    if entitlement is None or entitlement.trust_tier is None or entitlement.suspended:
        raise Forbidden("only vetted partners in good standing acknowledge alerts")


def readable(conn: Connection, clearance: Clearance, principal: Principal, alert_id: str) -> bool:
    """Whether the caller may read the alert's summary report, as the exchange's one policy decides."""
    return _can_read(Outbound(conn, principal, clearance), alert_id)


def _can_read(outbound: Outbound, alert_id: str) -> bool:
    try:
        return outbound.object_exists(ALERTS_ID, alert_id)
    except GesherError:  # the alerts collection hidden or unreadable for this caller: nothing readable
        return False


def check_note(note: str | None) -> str:
    """The note as stored ("" for none): at most NOTE_LIMIT characters, no control characters."""
    text = (note or "").strip()
    if len(text) > NOTE_LIMIT:
        raise InvalidRequest(f"a note holds at most {NOTE_LIMIT} characters, not {len(text)}")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidRequest("a note may not hold control characters")
    return text


def acknowledge(
    conn: Connection,
    clearance: Clearance,
    principal: Principal,
    alert_id: str,
    actor: str,
    note: str | None,
    now: datetime,
) -> Acknowledged:
    """The partner `principal` acknowledges the alert (as `actor`: the partner itself over REST, an
    operator after a phone call). NotFound, with the same message, when the alert does not exist or the
    partner may not read it; the first acknowledgement is returned when there is one."""
    require_good_standing(principal)
    text = check_note(note)
    # An id no alert can have (too long, unprintable: PostgreSQL cannot even compare a NUL) is absent.
    found = store.alert(conn, alert_id) if 0 < len(alert_id) <= 300 and alert_id.isprintable() else None
    if found is None or not readable(conn, clearance, principal, alert_id):
        raise NotFound(NO_ALERT)
    row = store.Acknowledgement(alert_id, principal.partner_id, micros(now), actor, text)
    created = store.add(conn, row)
    if created:
        ledger.record(conn, Kind.ACKNOWLEDGEMENT, actor, alert=alert_id, partner=principal.name)
    held = store.of(conn, alert_id, principal.partner_id)
    assert held is not None  # just stored, or stored before
    return Acknowledged(alert_id, principal.name, held.at, held.actor, held.note, created)


def allowed_time(config: WarningConfig) -> int:
    """How long partners have to acknowledge an alert (microseconds)."""
    return config.acknowledgement // timedelta(microseconds=1)


def deadline(alert: AlertRow, config: WarningConfig, stage: int = 1) -> int:
    """When the alert escalates to `stage` if partners are still pending (microseconds)."""
    return alert.raised_at + stage * allowed_time(config)


def pending(
    conn: Connection, clearance: Clearance, principal: Principal, config: WarningConfig
) -> list[AlertRow]:
    """The alerts at or above the escalation level the caller may read and has not acknowledged, oldest
    first."""
    require_good_standing(principal)
    done = store.acknowledged(conn, principal.partner_id)
    outbound = Outbound(conn, principal, clearance)
    return [
        a
        for a in store.alerts_from(conn, config.escalation_level)
        if a.id not in done and _can_read(outbound, a.id)
    ]


class Readers:
    """The partners in good standing, and which of them may read a given alert: one `Outbound` per
    partner, so the policy is worked out once per partner however many alerts are asked about."""

    def __init__(self, conn: Connection, clearance: Clearance) -> None:
        self.partners = [p for p in partner_store.all_partners(conn) if in_good_standing(p)]
        self._outbounds = {
            p.id: Outbound(conn, principal_of(p, partner_store.grants_of(conn, p.id)), clearance)
            for p in self.partners
        }

    def of(self, alert_id: str) -> list[PartnerRow]:
        """The partners expected to acknowledge this alert (if it is at or above the escalation level)."""
        return [p for p in self.partners if _can_read(self._outbounds[p.id], alert_id)]


@dataclass(frozen=True)
class Status:
    """How far an alert at or above the escalation level is acknowledged: by how many of the partners
    expected to, and the escalation stages it reached."""

    acknowledged: int
    expected: int
    stages: tuple[int, ...]


def statuses(conn: Connection, clearance: Clearance, config: WarningConfig) -> dict[str, Status]:
    """For every alert at or above the escalation level (for `gesher alerts`)."""
    found = store.alerts_from(conn, config.escalation_level)
    return _statuses(conn, clearance, [a.id for a in found])


def _statuses(conn: Connection, clearance: Clearance, alert_ids: Sequence[str]) -> dict[str, Status]:
    if not alert_ids:
        return {}
    readers = Readers(conn, clearance)
    acked = store.acknowledged_by(conn, alert_ids)
    reached = store.stages(conn, alert_ids)
    result = {}
    for alert_id in alert_ids:
        expected = {p.id for p in readers.of(alert_id)}
        done = len(expected & acked[alert_id])
        result[alert_id] = Status(done, len(expected), tuple(sorted(reached[alert_id])))
    return result
