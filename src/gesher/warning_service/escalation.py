"""Unacknowledged high-level alerts escalate (issue 7). Runs in the caller's transaction; never commits.

`sweep` is the periodic run (`gesher alerts escalate`, from cron): an alert at or above the escalation
level that some expected partner (see `acknowledgements`) has not acknowledged escalates to stage 1 once
the acknowledgement deadline has passed since it was raised, and to stage 2 at twice the deadline if
partners are still pending. Each (alert, stage) escalates once, whichever sweep gets there first (a unique
row), and each escalation is a ledger entry naming the partners still pending. An alert every expected
partner acknowledged never escalates. The sweep returns what escalated so that its caller can notify
(webhooks, the incident board)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection

from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.stix.timestamps import format_micros
from gesher.store import acknowledgements as store
from gesher.warning_service import incidents, webhooks
from gesher.warning_service.acknowledgements import Readers, allowed_time, deadline
from gesher.warning_service.alerts import ACTOR
from gesher.warning_service.correlation import micros

if TYPE_CHECKING:
    from gesher.exchange.node import Node

STAGES: Final = 2  # stage 1 at the deadline, stage 2 at twice the deadline


@dataclass(frozen=True)
class Escalated:
    """An alert that escalated in this sweep: its level, the stage, and the partners still pending (ids
    and names, in id order)."""

    alert_id: str
    level: int
    stage: int
    raised_at: int
    pending: tuple[int, ...]
    names: tuple[str, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "alert": self.alert_id, "level": self.level, "stage": self.stage,
            "raised_at": format_micros(self.raised_at), "pending": list(self.names),
        }  # fmt: skip


def sweep(conn: Connection, node: Node, now: datetime) -> list[Escalated]:
    """Escalate every alert due (see the module's docstring) as of `now`; return what escalated."""
    config = node.warning_config
    at = micros(now)
    candidates = store.unfinished(conn, config.escalation_level, at - allowed_time(config), STAGES)
    if not candidates:
        return []
    ids = [a.id for a in candidates]
    reached, acked = store.stages(conn, ids), store.acknowledged_by(conn, ids)
    readers = Readers(conn, node.clearance)
    escalated: list[Escalated] = []
    for alert in candidates:
        waiting = sorted((p for p in readers.of(alert.id) if p.id not in acked[alert.id]), key=lambda p: p.id)
        if not waiting:
            continue
        pending, names = tuple(p.id for p in waiting), tuple(p.name for p in waiting)
        for stage in range(1, STAGES + 1):
            if stage in reached[alert.id] or at < deadline(alert, config, stage):
                continue
            if not store.add_escalation(conn, alert.id, stage, at, pending):
                continue  # another sweep escalated it first
            ledger.record(conn, Kind.ESCALATION, ACTOR, alert=alert.id, stage=stage, pending=list(names))
            escalated.append(Escalated(alert.id, alert.level, stage, alert.raised_at, pending, names))
    return escalated


def escalate(conn: Connection, node: Node, now: datetime) -> list[Escalated]:
    """`sweep`, then the notices: each escalated alert is re-sent (event `escalation`) to the webhooks of
    the partners still pending, and put on the national incident board (opened, or joined to the incident
    holding its token). In the caller's transaction, like the sweep."""
    done = sweep(conn, node, now)
    for e in done:
        webhooks.enqueue(conn, e.alert_id, e.level, event="escalation", partner_ids=e.pending, stage=e.stage)
        incidents.open_or_link_for_alert(conn, e.alert_id, ACTOR, now)
    return done
