"""Reading one record of a watchlist file, field by field, so that every problem is reported with the
file, the record number or line, and the field (shared by the JSON, FollowTheMoney and CSV loaders)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Final, NoReturn, cast

from gesher.screening.errors import WatchlistFileError
from gesher.screening.names import normalise
from gesher.screening.watchlist import (
    ACTIONS,
    SCHEMAS,
    ActionKind,
    ListAction,
    Schema,
    WatchlistEntry,
    country_code,
)

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_NAME: Final = 300


class Record:
    """One record (`data`) at `position` ("record 3", "line 7") of `filename`; `prefix` names a nested
    object in messages ("actions[1].")."""

    def __init__(self, filename: str, position: str, data: Mapping[str, object], prefix: str = "") -> None:
        self.filename = filename
        self.position = position
        self.data = data
        self.prefix = prefix

    def fail(self, field: str | None, problem: str) -> NoReturn:
        raise WatchlistFileError(self.filename, self.position, f"{self.prefix}{field or ''}" or None, problem)

    def text(self, field: str, *, required: bool = True) -> str | None:
        """A string field, stripped; a missing or empty required one is an error."""
        value = self.data.get(field)
        if value is None or value == "":
            if required:
                self.fail(field, "missing (a non-empty string is required)")
            return None
        if not isinstance(value, str):
            self.fail(field, f"must be a string, not {type(value).__name__}")
        if required and not value.strip():
            self.fail(field, "is empty")
        return value.strip() or None

    def texts(self, field: str) -> tuple[str, ...]:
        """A list of strings (a single string is read as a list of one); absent means empty."""
        value = self.data.get(field)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            self.fail(field, "must be a string or a list of strings")
        return tuple(v.strip() for v in cast(list[str], items) if v.strip())

    def name(self, field: str, value: str) -> str:
        """A name that screening can compare: at most 300 characters, something left once normalised."""
        if len(value) > MAX_NAME:
            self.fail(field, f"name longer than {MAX_NAME} characters")
        if not normalise(value):
            self.fail(field, f"name {value!r} has nothing comparable (letters or digits) in it")
        return value

    def schema(self, field: str = "schema") -> Schema:
        value = self.text(field)
        if value not in SCHEMAS:
            self.fail(field, f"unknown schema {value!r} (expected one of {', '.join(SCHEMAS)})")
        return cast(Schema, value)

    def day(self, field: str, value: object) -> date:
        """A calendar date written YYYY-MM-DD."""
        if not isinstance(value, str) or not _ISO_DATE.fullmatch(value.strip()):
            self.fail(field, f"{value!r} is not a date (YYYY-MM-DD)")
        try:
            return date.fromisoformat(value.strip())
        except ValueError as error:
            self.fail(field, f"{value!r} is not a valid date ({error})")

    def countries(self, field: str, values: Iterable[str]) -> tuple[str, ...]:
        """ISO 3166-1 alpha-2 codes, upper-cased, in first-seen order."""
        codes: list[str] = []
        for value in values:
            code = country_code(value)
            if code is None:
                self.fail(field, f"{value!r} is not an ISO 3166-1 alpha-2 country code")
            if code not in codes:
                codes.append(code)
        return tuple(codes)

    def action(self, field: str, value: object) -> ListAction:
        """One dated list action: {"authority", "list", "action", "date", "citation"?, "reason"?}."""
        if not isinstance(value, dict):
            self.fail(field, "must be an object with authority, list, action and date")
        sub = Record(self.filename, self.position, cast(dict[str, object], value), f"{self.prefix}{field}.")
        kind = sub.text("action")
        if kind not in ACTIONS:
            sub.fail("action", f"unknown action {kind!r} (expected one of {', '.join(ACTIONS)})")
        authority, listed_on = sub.text("authority"), sub.text("list")
        assert authority is not None and listed_on is not None
        return ListAction(
            authority=authority,
            list=listed_on,
            action=cast(ActionKind, kind),
            date=sub.day("date", value.get("date")),
            citation=sub.text("citation", required=False),
            reason=sub.text("reason", required=False),
        )


def unique_entries(records: Iterable[tuple[Record, WatchlistEntry]]) -> tuple[WatchlistEntry, ...]:
    """The entries, after checking that no id appears twice (the error points at the second one)."""
    first: dict[str, str] = {}
    entries: list[WatchlistEntry] = []
    for record, entry in records:
        if entry.id in first:
            record.fail("id", f"duplicate id {entry.id!r} (first at {first[entry.id]})")
        first[entry.id] = record.position
        entries.append(entry)
    return tuple(entries)
