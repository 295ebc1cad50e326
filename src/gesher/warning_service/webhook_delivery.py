"""Delivering the webhook outbox (issue 7, "Alerts out"): signed, retried with back-off, recorded in the
ledger.

One pass (`deliver_due`):

1. claim the due rows in a short transaction, leasing each (its `next_attempt_at` moves past the lease), so
   two workers never send the same row at once (FOR UPDATE SKIP LOCKED on PostgreSQL);
2. per row, read the alert through `Outbound` as the webhook's partner (the summary, and the detail only if
   the partner may see the indicator it names). A removed webhook, a suspended partner or one that now
   receives nothing: the row is `withheld` and nothing is sent. A partner's own URL must still resolve to
   public addresses only, and the request is pinned to the one checked (`webhook_urls.route`);
3. record the disclosure (partner, `webhook:<id>`, policy version, each object's id, version and SHA-256 of
   the exact bytes in the payload) in a committed transaction BEFORE sending; if the ledger cannot take
   it, nothing is sent and the row is tried again later (fail closed). A retry sending the very bytes an
   earlier entry records reuses that entry;
4. POST outside any transaction (no redirects followed), then settle: 2xx delivered; 5xx, 429, timeouts
   and connection errors retried after `webhook_retry` doubling per attempt, capped at an hour, with
   jitter (or later, when a 429 or 503 says `Retry-After`), until `webhook_max_attempts`, then failed;
   any other answer failed at once (410 Gone also removes the webhook). See `webhook_http`."""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

import httpx
import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from gesher.errors import GesherError, NotFound
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound
from gesher.ledger import entries
from gesher.ledger.entries import Served
from gesher.ledger_service import log as ledger_log
from gesher.ledger_service.served import objects_served
from gesher.partners.service import principal_of, require_partner
from gesher.store import ledger as ledger_store
from gesher.store import partners as partner_store
from gesher.store import webhooks as store
from gesher.store.collections import ALERTS_ID
from gesher.store.webhooks import DELIVERED, FAILED, WITHHELD, DeliveryRow
from gesher.taxii.query import TaxiiQuery
from gesher.warning_service import webhook_signing, webhooks
from gesher.warning_service.webhook_http import BACKOFF_CAP, Answer, backoff, post, retryable
from gesher.warning_service.webhook_signing import Signer
from gesher.warning_service.webhook_urls import InvalidWebhookUrl, Route, route

ACTOR: Final = "gesher:webhooks"
PARTNER_ACTOR: Final = "partner:"  # how a partner's own registration is recorded (created_by)
BATCH: Final = 50
log = logging.getLogger("gesher.webhooks")


@dataclass(frozen=True)
class Attempt:
    """What happened to one claimed row: delivered, retry, failed, withheld, deferred (the ledger could not
    record it: nothing sent) or lost (another worker's lease took over)."""

    delivery_id: int
    outcome: str
    status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Pass:
    attempts: list[Attempt] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for a in self.attempts if a.outcome == outcome)


@dataclass(frozen=True)
class Payload:
    partner: str
    policy_version: int
    body: bytes
    served: tuple[Served, ...]


def message_id(node: Node, delivery_id: int) -> str:
    """The Standard Webhooks `webhook-id`: the same on every attempt of one delivery (receivers drop
    duplicates by it), unique across exchanges."""
    return f"msg_{uuid.uuid5(uuid.NAMESPACE_URL, f'{node.identity}/webhook-delivery/{delivery_id}').hex}"


def deliver_due(
    node: Node,
    now: datetime | None = None,
    *,
    limit: int = BATCH,
    rng: random.Random | None = None,
    stop: threading.Event | None = None,
) -> Pass:
    """One pass over the due deliveries (at most `limit`); `stop` ends it between rows."""
    now = now or datetime.now(UTC)
    at = ledger_log.micros(now)
    config = node.warning_config
    with node.db.read() as conn:
        if not store.any_due(conn, at):
            return Pass()
    lease = Lease(at, time.monotonic(), int(max(60.0, 2 * config.webhook_timeout + 30) * 1_000_000))
    with node.db.write() as conn:
        claimed = lease.until()
        rows = store.claim_due(conn, at, claimed, limit)
        signer = webhook_signing.signer(conn, node.settings) if rows else None
    done = Pass()
    if signer is None:
        return done
    timeout = httpx.Timeout(config.webhook_timeout)
    with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as http:
        for row in rows:
            if stop is not None and stop.is_set():
                break  # the lease runs out and the row is due again
            attempt = _deliver(node, signer, http, row, claimed, lease.until(), now, rng)
            log.info("webhook.attempt", extra={"delivery": row.id, "outcome": attempt.outcome})
            done.attempts.append(attempt)
    return done


@dataclass(frozen=True)
class Lease:
    """How long a worker holds the rows it claimed: `length` past the pass's clock, which starts at the
    pass's `now` (tests pass their own) and runs with real time. Renewed just before each send."""

    start: int
    monotonic: float
    length: int

    def until(self) -> int:
        return self.start + int((time.monotonic() - self.monotonic) * 1_000_000) + self.length


def _deliver(
    node: Node,
    signer: Signer,
    http: httpx.Client,
    row: DeliveryRow,
    claimed: int,
    renewed: int,
    now: datetime,
    rng: random.Random | None,
) -> Attempt:
    """Read, record and send one claimed row. Reading what the partner receives, renewing the lease and
    recording the disclosure are one transaction, committed before anything is sent."""
    with node.db.read() as conn:
        hook = store.by_id(conn, row.webhook_id)
    try:  # a partner's own URL must still lead to a public address (checked before anything is recorded)
        target = route(hook.url, hook.created_by.startswith(PARTNER_ACTOR)) if hook else Route("")
    except InvalidWebhookUrl as refused:
        _settle(node, row, claimed, state=FAILED, attempts=row.attempts + 1, last_error=refused.description)
        return Attempt(row.id, "failed", error=refused.description)
    except LookupError as unresolved:
        return _outcome(node, row, claimed, now, Answer(None, str(unresolved)), rng)
    try:
        with node.db.write() as conn:
            if not store.settle(conn, row.id, claimed, next_attempt_at=renewed):
                return Attempt(row.id, "lost")  # another worker's lease took over: it sends
            prepared = _payload(conn, node, row)
            if isinstance(prepared, str):
                store.settle(conn, row.id, renewed, state=WITHHELD, last_error=prepared)
                return Attempt(row.id, "withheld", error=prepared)
            index = _record(conn, row, prepared)
            store.settle(conn, row.id, renewed, ledger_index=index)
    except (GesherError, SQLAlchemyError) as refused:
        reason = f"not sent: it could not be read and recorded in the ledger ({_describe(refused)})"
        retry = ledger_log.micros(now + node.warning_config.webhook_retry)
        _settle(node, row, claimed, next_attempt_at=retry, last_error=reason)
        return Attempt(row.id, "deferred", error=reason)
    headers = signer.headers(message_id(node, row.id), int(time.time()), prepared.body)
    return _outcome(node, row, renewed, now, post(http, target, headers, prepared.body), rng)


def _payload(conn: Connection, node: Node, row: DeliveryRow) -> Payload | str:
    """What the webhook's partner receives of the alert, exactly as served; or why nothing is sent."""
    hook = store.by_id(conn, row.webhook_id)
    if hook is None or hook.removed_at is not None:
        return "the webhook was removed"
    partner = require_partner(conn, hook.partner)
    if partner.suspended:
        return "the partner is suspended"
    alert = store.alert_of(conn, row.alert_id)
    if alert is None:
        return "the alert no longer exists"
    level, published = alert
    detail = orjson.loads(published).get("detail")
    ids = (row.alert_id, detail) if detail else (row.alert_id,)
    principal = principal_of(partner, partner_store.grants_of(conn, partner.id))
    out = Outbound(conn, principal, node.clearance)
    try:
        page = out.objects(ALERTS_ID, TaxiiQuery(ids=ids), None, len(ids))
    except NotFound:
        return "the partner may not read alerts"
    if not page.rows:
        return "the policy gives the partner nothing of this alert"
    policy_version = out.policy_version()
    bodies = [bytes(r[1]) for r in page.rows]  # type: ignore[call-overload]
    head = {"event": row.event, "alert": row.alert_id, "level": level}
    if row.event == "escalation":
        head["stage"] = row.stage
    # The objects' exact bytes as served, spliced in: the ledger's SHA-256 of each is of these bytes.
    body = orjson.dumps(head)[:-1] + b',"objects":[' + b",".join(bodies) + b"]}"
    return Payload(partner.name, policy_version, body, tuple(objects_served(page)))


def _record(conn: Connection, row: DeliveryRow, payload: Payload) -> int:
    """The ledger index of the disclosure this payload makes: an earlier attempt's entry when it records
    exactly these objects to the same partner under the same policy, else a new entry."""
    endpoint = f"webhook:{row.webhook_id}"
    if row.ledger_index is not None:
        stored = ledger_store.body(conn, row.ledger_index)
        if stored is not None:
            entry = entries.decode(stored)
            same = {
                "partner": payload.partner,
                "endpoint": endpoint,
                "policy_version": payload.policy_version,
            }
            unchanged = all(entry.fields.get(k) == v for k, v in same.items())
            if unchanged and entries.served(entry) == payload.served:
                return row.ledger_index
    entry = entries.disclosure(
        ledger_log.now(),
        ACTOR,
        partner=payload.partner,
        endpoint=endpoint,
        policy_version=payload.policy_version,
        served=payload.served,
    )
    return ledger_log.append(conn, entry)


def _outcome(
    node: Node,
    row: DeliveryRow,
    lease: int,
    now: datetime,
    answer: Answer,
    rng: random.Random | None,
) -> Attempt:
    status, error = answer.status, answer.error
    attempts = row.attempts + 1
    at = ledger_log.micros(now)
    if status is not None and 200 <= status < 300:
        _settle(node, row, lease, state=DELIVERED, attempts=attempts, delivered_at=at, last_error=None)
        return Attempt(row.id, "delivered", status)
    config = node.warning_config
    if retryable(status) and attempts < config.webhook_max_attempts:
        wait = backoff(config.webhook_retry, attempts, rng)
        if answer.retry_after is not None:  # the receiver's own pace, within our cap
            wait = max(wait, min(answer.retry_after, BACKOFF_CAP))
        retry = ledger_log.micros(now + wait)
        _settle(node, row, lease, attempts=attempts, next_attempt_at=retry, last_error=error)
        return Attempt(row.id, "retry", status, error)
    if status is not None and 300 <= status < 400:
        error = f"{error}: redirects are not followed"
    _settle(node, row, lease, state=FAILED, attempts=attempts, last_error=error)
    if status == 410:  # Gone: the receiver says the endpoint is no more
        with node.db.write() as conn:
            hook = store.by_id(conn, row.webhook_id)
            if hook is not None and hook.removed_at is None:
                webhooks.remove(conn, row.webhook_id, ACTOR, "gone (HTTP 410 from the receiver)")
    return Attempt(row.id, "failed", status, error)


def _settle(node: Node, row: DeliveryRow, lease: int, **values: object) -> None:
    with node.db.write() as conn:
        store.settle(conn, row.id, lease, **values)


def _describe(error: BaseException) -> str:
    text = error.description if isinstance(error, GesherError) else str(error)
    return (text or type(error).__name__)[:300]
