"""Loading watchlists: a file is parsed whole (a bad record refuses the whole file), each list version is
loaded once, and the file is kept so every process screens against exactly the same lists."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from gesher.errors import Conflict, InvalidRequest
from gesher.licensing.applications import Application
from gesher.licensing_service import applications as licensing
from gesher.partners.vetting import Rescreen, rescreen_all
from gesher.screening import Watchlist, WatchlistFileError, load_watchlists
from gesher.stix.timestamps import now_micros
from gesher.store import audit
from gesher.store import watchlists as store

if TYPE_CHECKING:
    from gesher.exchange.node import Node

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_LIST_NAME, MAX_VERSION = 200, 100  # the store's columns (PostgreSQL refuses longer values)


@dataclass(frozen=True)
class Loaded:
    lists: tuple[Watchlist, ...]
    file_id: int


@dataclass(frozen=True)
class Update:
    """A list update as an officer sees it: what was loaded, and what re-screening everyone changed
    (partners, and the open licence applications whose recommendation changed)."""

    loaded: Loaded
    rescreen: Rescreen
    applications: tuple[Application, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {
            "loaded": [
                {
                    "name": w.name,
                    "version": w.version,
                    "entries": len(w.entries),
                    "confidential": w.confidential,
                }
                for w in self.loaded.lists
            ],
            "rescreened": self.rescreen.screened,
            "cut_off": list(self.rescreen.cut_off),
            "review": list(self.rescreen.review),
            "delisting_review": list(self.rescreen.delisted),
            "applications_rescreened": [
                {"id": a.id, "state": a.state.value, "recommendation": _verdict(a)} for a in self.applications
            ],
        }


def _verdict(app: Application) -> str | None:
    return app.recommendation.verdict.value if app.recommendation else None


def update(
    node: Node,
    conn: Connection,
    actor: str,
    data: bytes | str,
    filename: str,
    reason: str,
    name: str | None = None,
    version: str | None = None,
    published: date | None = None,
) -> Update:
    """Load a list version and, in the same transaction, re-screen every partner against the lists in force
    (a newly listed partner is cut off before anyone can call with its token again) and every open licence
    application's end user and intermediaries (issue 5: a newly listed one denies or parks it at once)."""
    loaded = load(conn, actor, data, filename, reason, name, version, published)
    partners = rescreen_all(node, conn, actor, f"watchlist update: {reason}")
    why = f"watchlist update: {reason}"
    return Update(loaded, partners, licensing.rescreen_open(node, conn, why))


def load(
    conn: Connection,
    actor: str,
    data: bytes | str,
    filename: str,
    reason: str,
    name: str | None = None,
    version: str | None = None,
    published: date | None = None,
) -> Loaded:
    """Parse and store one watchlist file. Nothing is stored when any record is bad or when a list
    version in it was loaded before (a list changes by a new version, never in place)."""
    if not reason.strip():
        raise InvalidRequest("a reason is required to load a watchlist")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidRequest(f"{filename}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    lists = tuple(load_watchlists(data, filename, name=name, version=version, published=published))
    for w in lists:
        for field, value, most in (("name", w.name, MAX_LIST_NAME), ("version", w.version, MAX_VERSION)):
            if len(value) > most:
                raise WatchlistFileError(filename, "", field, f"longer than {most} characters")
        if store.has_version(conn, w.name, w.version):
            raise Conflict(f"{filename}: list {w.name!r} version {w.version!r} is already loaded")
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    if "\x00" in text:  # valid UTF-8, parsed, but PostgreSQL text cannot hold it
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise WatchlistFileError(filename, f"line {line}", None, "a NUL character is not text")
    given = {"name": name, "version": version, "published": published.isoformat() if published else None}
    digest = hashlib.sha256(text.encode()).hexdigest()
    file_id = store.add_file(
        conn, filename[:300], digest, text, orjson.dumps(given).decode(), now_micros(), actor, reason
    )
    for w in lists:
        try:
            store.add_list(
                conn, file_id, w.name, w.version, w.published.isoformat(), w.confidential, len(w.entries)
            )
        except IntegrityError:  # another writer loaded this version since the check above (PostgreSQL)
            raise Conflict(f"{filename}: list {w.name!r} version {w.version!r} is already loaded") from None
        audit.record(
            conn, actor, "watchlist.load", f"watchlist:{w.name}", version=w.version, entries=len(w.entries),
            confidential=w.confidential, file=filename, digest=digest, reason=reason,
        )  # fmt: skip
    return Loaded(lists, file_id)
