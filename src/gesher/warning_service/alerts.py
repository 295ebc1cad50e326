"""Alerts out (issue 7, "Alerts out"): each alert becomes STIX 2.1 reports in the `alerts` collection,
served through the tiered policy like everything else, and an entry in the disclosure ledger.

Two reports per alert, so that what a recipient may not see stays indistinguishable from what does not
exist (DESIGN.md, "Hidden is indistinguishable from absent"):

- the **summary**, for every partner in good standing: level, rule, and (only at or above k reporters)
  counts, sectors and countries; its `object_refs` name only this exchange's identity, and its text is
  the same whether the token is a held indicator, an indicator id nobody holds, or an observed value that
  matches no indicator. It says nothing of any indicator, so it cannot betray a hidden one;
- the **detail**, only when the token is a held indicator: the same text, with `object_refs` naming the
  indicator. The exchange's one enforcement point withholds a report that names an object hidden from the
  caller (`exchange.outbound`, as for relationships and sightings), so exactly the partners who may see
  the indicator receive it.

Reporter identities never appear: the core's `Alert` carries none, and the reports are created by the
exchange's own identity. Both reports are TLP:GREEN (community-wide warnings); the policy decides who is
cleared for that."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection

from gesher.errors import ConfigurationError
from gesher.exchange.ingest import add_objects
from gesher.ledger.entries import Kind
from gesher.ledger_service import log as ledger
from gesher.stix.constants import TLP2_GREEN
from gesher.stix.timestamps import format_micros
from gesher.store import warning as store
from gesher.store.collections import ALERTS_ID
from gesher.store.incidents import active_for_token
from gesher.warning.rules import Alert, Level
from gesher.warning_service import incidents, webhooks
from gesher.warning_service.correlation import Raised, micros

ACTOR = "gesher:early-warning"


@dataclass(frozen=True)
class Published:
    """An alert as stored: the summary report's id (the alert's id), and the detail report's, if any."""

    id: str
    detail_id: str | None
    raised: Raised


def publish(conn: Connection, identity: str, raised: Raised, indicator_held: bool) -> Published:
    """Store the alert's reports in the `alerts` collection, its row, and its ledger entry, all in the
    caller's transaction."""
    alert = raised.alert
    summary = _report(identity, alert, [identity])
    detail = _report(identity, alert, [raised.token]) if indicator_held else None
    reports = [summary] + ([detail] if detail else [])
    result = add_objects(conn, ALERTS_ID, reports, None, keep_successes=False, source=ACTOR)
    if result.failures:  # our own objects: a failure is a bug, not bad input
        raise ConfigurationError(f"an alert could not be stored: {result.failures[0]}")
    store.add_alert(
        conn,
        {
            "id": summary["id"],
            "token": raised.token,
            "level": int(alert.level),
            "rule": alert.rule,
            "raised_at": micros(alert.raised_at),
            "organisations": raised.organisations,
            "published": orjson.dumps(_published(alert, detail)).decode(),
        },
    )
    level = f"L{int(alert.level)}"
    ledger.record(
        conn, Kind.ALERT, ACTOR, alert=summary["id"], level=level, organisations=raised.organisations
    )
    webhooks.enqueue(conn, str(summary["id"]), int(alert.level))  # delivered after commit (webhook_delivery)
    _board(conn, str(summary["id"]), raised)
    return Published(str(summary["id"]), str(detail["id"]) if detail else None, raised)


def _board(conn: Connection, alert_id: str, raised: Raised) -> None:
    """The national incident board follows the alerts: a national-level (L3) alert opens an incident, or
    joins the open one holding its token; a lower alert joins an open incident on its token, if any."""
    if raised.alert.level >= Level.NATIONAL or active_for_token(conn, raised.token) is not None:
        incidents.open_or_link_for_alert(conn, alert_id, ACTOR, raised.alert.raised_at)


def _report(identity: str, alert: Alert, refs: Sequence[str]) -> dict[str, object]:
    stamp = format_micros(micros(alert.raised_at))
    return {
        "type": "report",
        "spec_version": "2.1",
        "id": f"report--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "published": stamp,
        "created_by_ref": identity,
        "name": f"gesher early warning L{int(alert.level)}: {alert.rule.split(':', 1)[0][3:]}",
        "description": describe(alert),
        "report_types": ["threat-report"],
        "labels": ["gesher-alert", f"level-{int(alert.level)}"],
        "object_refs": list(refs),
        "object_marking_refs": [TLP2_GREEN],
    }


def describe(alert: Alert) -> str:
    """The alert in words: its rule and the core's k-anonymous reasons (no identities)."""
    return ". ".join(alert.reasons) + "."


def _published(alert: Alert, detail: dict[str, object] | None) -> dict[str, object]:
    return {
        "level": int(alert.level),
        "rule": alert.rule,
        "reporters": alert.reporters,
        "sectors": list(alert.sectors) if alert.sectors is not None else None,
        "countries": alert.countries,
        "confidence": alert.confidence,
        "withheld": alert.withheld,
        "detail": detail["id"] if detail else None,
    }


def listing(conn: Connection) -> list[dict[str, object]]:
    """Every alert, oldest first, for analysts (`gesher alerts`): the token and the true reporter count
    are the exchange's own knowledge, never sent to partners."""
    rows = store.all_alerts(conn)
    for row in rows:
        row["published"] = orjson.loads(str(row["published"]))
        row["raised_at"] = format_micros(int(row["raised_at"]))  # type: ignore[call-overload]
    return rows
