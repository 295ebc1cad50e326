"""A simulated October 2026 for the incident board (issue 7): partners' sightings go through the real
sightings service (correlation, alerts, ledger) at simulated times, every alert raised is handed to
`open_or_link_for_alert` in the same transaction, and analysts contain, close and reopen.

Rules in force (the defaults): L1 2 partners in 1 h; L2 3 partners or 2 sectors in 24 h; L3 5 partners,
3 sectors or a critical-infrastructure operator in 72 h. Sectors: first-bank finance, ministry-of-health
government, grid-energy energy (critical), observer-cert and far-ally none ("unspecified").

| incident | alerts (token, level, raised) | time to alert | history |
|---|---|---|---|
| 1 | e L1 Sep 29 10:20 | 50 min | contained Oct 2 |
| 2 | a L1 Oct 3 10:20, a L2 Oct 3 12:00 | 50 min, 2.5 h | contained Oct 5, closed Oct 8 |
| 3 | b L3 Oct 10 08:30 | 1.5 h | contained Oct 12 |
| 4 | a L1 Oct 15 10:30 (2 is closed: a new incident) | 30 min | |
| 5 | c L2 Oct 20 14:10 | 70 min | contained Oct 25, closed Oct 27, reopened Oct 29 |
| 6 | d L1 Nov 2 09:20 | 20 min | |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from gesher.exchange.node import Node
from gesher.partners.service import require_partner
from gesher.warning_service import incidents, sightings
from gesher.warning_service.sightings import Report
from tests.warning_service.exchange import Exchange

ACTOR = "gesher:early-warning"
ANALYST = "cli:dana"


def when(text: str) -> datetime:
    return datetime.fromisoformat(f"2026-{text}").replace(tzinfo=UTC)


@dataclass
class Month:
    exchange: Exchange
    tokens: dict[str, str] = field(default_factory=dict)
    alerts: list[tuple[str, int, int]] = field(default_factory=list)  # (token name, level, incident)

    @property
    def node(self) -> Node:
        return self.exchange.node

    def sight(self, who: str, name: str, seen: str, now: str) -> None:
        """`who` reports, at `now`, that it saw token `name` at `seen`; alerts go to the board at once."""
        at = when(now)
        node = self.node
        with node.db.write() as conn:
            partner = require_partner(conn, who)
            report = Report(self.tokens[name], when(seen), is_indicator=True)
            done = sightings.record(conn, partner, [report], at, node.warning_config, node.identity, "cli")
            for published in done.alerts:
                incident = incidents.open_or_link_for_alert(conn, published.id, ACTOR, at)
                self.alerts.append((name, int(published.raised.alert.level), incident.id))

    def act(self, action: str, incident: int, now: str, reason: str = "analyst's call") -> None:
        with self.node.db.write() as conn:
            getattr(incidents, action)(conn, incident, ANALYST, reason, when(now))


def build(exchange: Exchange) -> Month:
    month = Month(exchange)
    domains = sorted(exchange.domains.items())
    for name, (_, indicator_id) in zip("abcde", domains, strict=False):
        month.tokens[name] = indicator_id
    s = month.sight
    s("observer-cert", "e", "09-29T09:30:00", "09-29T10:00:00")
    s("far-ally", "e", "09-29T10:15:00", "09-29T10:20:00")  # L1 -> incident 1
    month.act("contain", 1, "10-02T09:00:00")
    s("observer-cert", "a", "10-03T09:30:00", "10-03T10:00:00")
    s("far-ally", "a", "10-03T10:15:00", "10-03T10:20:00")  # L1 -> incident 2
    s("first-bank", "a", "10-03T11:50:00", "10-03T12:00:00")  # L2 -> incident 2, level 2
    month.act("contain", 2, "10-05T09:00:00")
    month.act("close", 2, "10-08T09:00:00")
    s("first-bank", "b", "10-10T07:00:00", "10-10T08:00:00")
    s("grid-energy", "b", "10-10T08:10:00", "10-10T08:30:00")  # L3 (critical) -> incident 3
    month.act("contain", 3, "10-12T09:00:00")
    s("observer-cert", "a", "10-15T10:00:00", "10-15T10:05:00")
    s("far-ally", "a", "10-15T10:20:00", "10-15T10:30:00")  # L1; incident 2 is closed -> incident 4
    s("ministry-of-health", "c", "10-20T13:00:00", "10-20T14:00:00")
    s("observer-cert", "c", "10-20T14:05:00", "10-20T14:10:00")  # L2 (2 sectors) -> incident 5
    month.act("contain", 5, "10-25T09:00:00")
    month.act("close", 5, "10-27T09:00:00")
    month.act("reopen", 5, "10-29T09:00:00", "the actor came back")
    s("observer-cert", "d", "11-02T09:00:00", "11-02T09:05:00")
    s("far-ally", "d", "11-02T09:10:00", "11-02T09:20:00")  # L1 -> incident 6
    return month
