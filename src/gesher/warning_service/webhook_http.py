"""Sending one webhook delivery over HTTP, and when to try again (issue 7, "Alerts out": "retried with
back-off"). No store: `webhook_delivery` decides what is sent and records it first."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final, NamedTuple

import httpx

from gesher.warning_service.webhook_urls import Route

MEDIA_TYPE: Final = "application/json"
BACKOFF_CAP: Final = timedelta(hours=1)
# A retry comes up to a quarter early, so receivers that failed together are not hit again together.
JITTER: Final = 0.25


def backoff(base: timedelta, attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait after `attempts` failed attempts: `base` doubled per attempt after the first, capped at an
    hour, less up to a quarter of jitter."""
    doubled = base.total_seconds() * 2.0 ** min(max(attempts - 1, 0), 64)  # no overflow however many
    delay = min(doubled, BACKOFF_CAP.total_seconds())
    return timedelta(seconds=delay * (1 - JITTER * (rng or random).random()))


class Answer(NamedTuple):
    """The receiver's answer: its status (None: timed out or no connection), in words, and how long it
    asked us to wait (`Retry-After` on a 429 or 503)."""

    status: int | None
    error: str
    retry_after: timedelta | None = None


def retry_after(value: str | None) -> timedelta | None:
    """A `Retry-After` header (RFC 9110 10.2.3): delay-seconds or an HTTP date; None when absent or bad."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=min(int(text), 86_400))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - datetime.now(UTC), timedelta(0))


def post(http: httpx.Client, target: Route, headers: dict[str, str], body: bytes) -> Answer:
    sent = {**headers, **target.headers, "content-type": MEDIA_TYPE}
    try:
        if target.extensions:  # pinned: a connection of its own (a pooled one may carry another TLS name)
            with httpx.Client(timeout=http.timeout, follow_redirects=False, trust_env=False) as own:
                response = own.post(target.url, content=body, headers=sent, extensions=target.extensions)
        else:
            response = http.post(target.url, content=body, headers=sent)
    except httpx.TimeoutException:
        return Answer(None, "timed out")
    except httpx.HTTPError as error:
        return Answer(None, f"could not connect: {_describe(error)}")
    status = response.status_code
    asked = retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    return Answer(status, f"HTTP {status}", asked)


def retryable(status: int | None) -> bool:
    """Timeouts and connection errors (None), 5xx and 429 are tried again; any other answer is final."""
    return status is None or status >= 500 or status == 429


def _describe(error: BaseException) -> str:
    return (str(error) or type(error).__name__)[:300]
