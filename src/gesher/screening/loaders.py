"""Watchlist files in, `Watchlist` objects out. Pure: the caller reads the file and passes its content
(str or bytes) with the file name, which is only used in messages and for defaults.

Three formats:

- **gesher JSON** (the shipped spyware fixture's format): `{"name"?, "version"?, "published"?,
  "entities": [...], "confidential_lists": [...]}`; each entity has `id`, `schema`, `name`, optional
  `aliases`, `weak_aliases`, `curated_aliases`, `curated_weak_aliases` (transliterations added by gesher,
  not on the cited list), `country`, `nationality`, `identifiers`, dated `actions`, `related_not_listed`,
  `sources`. Gives the public list, then one confidential `Watchlist` per `confidential_lists` item.
- **FollowTheMoney JSON lines** (`.jsonl`, `.ndjson`, `.ftm.json`; yente's custom-dataset format): one
  `{"id", "schema", "properties": {"name": [...], "alias": [...], "weakAlias": [...], "country": [...]}}`
  per line. FtM carries no list actions, so its entries are listed without a date.
- **CSV** with the header `id,schema,name,aliases,weak_aliases,country,listed_since,removed_on,authority,
  citation` (the first three required); several values in one cell are separated by `;`.

List metadata (`name`, `version`, `published`) comes from the file when it has it, else from the caller;
`name` defaults to the file name's stem and `version` to a digest of the content; `published` has no
default. Any problem raises `WatchlistFileError` naming the file, the record or line and the field, and
nothing is returned.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from importlib import resources
from pathlib import PurePath
from typing import Final, cast

from gesher.screening.errors import WatchlistFileError
from gesher.screening.records import Record, unique_entries
from gesher.screening.watchlist import SCHEMAS, ListAction, Watchlist, WatchlistEntry

SHIPPED: Final = "spyware_watchlist.json"
FTM_SUFFIXES: Final = (".jsonl", ".ndjson", ".ftm.json")
CSV_COLUMNS: Final = (
    "id",
    "schema",
    "name",
    "aliases",
    "weak_aliases",
    "country",
    "listed_since",
    "removed_on",
    "authority",
    "citation",
)
_FTM_ALIASES: Final = ("alias", "previousName")
_FTM_COUNTRIES: Final = ("country", "nationality", "citizenship", "jurisdiction")
_FTM_IDENTIFIERS: Final = (
    "registrationNumber",
    "innCode",
    "ogrnCode",
    "leiCode",
    "taxNumber",
    "idNumber",
    "passportNumber",
    "swiftBic",
)


def _decode(data: str | bytes, filename: str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise WatchlistFileError(filename, f"byte {error.start}", None, "not UTF-8 text") from None


class _Meta:
    """The list's name, version and published date: from the file if there, else from the caller."""

    def __init__(self, filename: str, content: str, name: str | None, version: str | None) -> None:
        self.filename = filename
        self.name = name or PurePath(filename).name.split(".")[0] or "watchlist"
        digest = hashlib.sha256(content.encode()).hexdigest()[:12]
        self.version = version or f"sha256:{digest}"

    def published(self, record: Record, given: date | None) -> date:
        value = record.data.get("published")
        if value is not None:
            return record.day("published", value)
        if given is None:
            record.fail("published", "unknown: the file has no published date, so pass one")
        return given


# --- gesher JSON ---------------------------------------------------------------------------------------


def _json_entity(record: Record) -> WatchlistEntry:
    entry_id, name = record.text("id"), record.text("name")
    assert entry_id is not None and name is not None
    aliases = record.texts("aliases") + record.texts("curated_aliases")
    weak = record.texts("weak_aliases") + record.texts("curated_weak_aliases")
    identifiers = record.data.get("identifiers") or {}
    if not isinstance(identifiers, dict) or not all(isinstance(v, str) for v in identifiers.values()):
        record.fail("identifiers", "must be an object of strings")
    actions = record.data.get("actions") or []
    if not isinstance(actions, list):
        record.fail("actions", "must be a list")
    return WatchlistEntry(
        id=entry_id,
        schema=record.schema(),
        name=record.name("name", name),
        aliases=tuple(record.name("aliases", a) for a in aliases),
        weak_aliases=tuple(record.name("weak_aliases", a) for a in weak),
        countries=record.countries("country", record.texts("country") + record.texts("nationality")),
        identifiers=cast(dict[str, str], identifiers),
        actions=tuple(record.action(f"actions[{i}]", a) for i, a in enumerate(actions)),
        related_not_listed=record.texts("related_not_listed"),
        sources=record.texts("sources"),
    )


def _objects(filename: str, doc: dict[str, object], key: str) -> Iterator[Record]:
    items = doc.get(key) or []
    if not isinstance(items, list):
        raise WatchlistFileError(filename, "", key, "must be a list")
    for i, item in enumerate(items):
        record = Record(filename, f"record {i + 1} of {key!r}", {})
        if not isinstance(item, dict):
            record.fail(None, "must be an object")
        record.data = cast(dict[str, object], item)
        yield record


def _confidential(record: Record, meta: _Meta, published: date) -> Watchlist:
    list_id = record.text("id")
    assert list_id is not None
    given = record.data.get("published")
    return Watchlist(
        name=list_id,
        version=record.text("version", required=False) or meta.version,
        published=record.day("published", given) if given is not None else published,
        confidential=True,
        source=record.text("authority", required=False) or "",
        covers=_covers(record),
    )


def _covers(record: Record) -> tuple[str, ...]:
    """The optional `covers` of a confidential list: the schemata its members can have."""
    given = record.data.get("covers", [])
    if not isinstance(given, list) or any(not isinstance(v, str) or v not in SCHEMAS for v in given):
        record.fail("covers", f"must be a list of schemata ({', '.join(SCHEMAS)})")
    return tuple(given)


def parse_json(
    data: str | bytes,
    filename: str,
    *,
    name: str | None = None,
    version: str | None = None,
    published: date | None = None,
) -> list[Watchlist]:
    """A gesher JSON watchlist file: the public list (when the file has `entities`), then one
    confidential list per item of `confidential_lists`."""
    text = _decode(data, filename)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise WatchlistFileError(filename, where, None, f"invalid JSON: {error.msg}") from None
    if not isinstance(doc, dict) or not ({"entities", "confidential_lists"} & doc.keys()):
        raise WatchlistFileError(
            filename, "", None, "expected an object with 'entities' or 'confidential_lists'"
        )
    top = Record(filename, "top level", doc)
    meta = _Meta(
        filename,
        text,
        top.text("name", required=False) or name,
        top.text("version", required=False) or version,
    )
    day = meta.published(top, published)
    entries = unique_entries((r, _json_entity(r)) for r in _objects(filename, doc, "entities"))
    lists = [Watchlist(meta.name, meta.version, day, False, filename, entries)] if "entities" in doc else []
    lists += [_confidential(r, meta, day) for r in _objects(filename, doc, "confidential_lists")]
    names = [w.name for w in lists]
    if len(set(names)) != len(names):
        raise WatchlistFileError(filename, "", "confidential_lists", f"list names repeat: {names}")
    return lists


# --- FollowTheMoney JSON lines ---------------------------------------------------------------------------


def _ftm_entity(record: Record) -> WatchlistEntry:
    entry_id = record.text("id")
    assert entry_id is not None
    props = record.data.get("properties")
    if not isinstance(props, dict):
        record.fail("properties", "missing (an object of lists of strings is required)")
    prop = Record(record.filename, record.position, cast(dict[str, object], props), "properties.")
    names = prop.texts("name")
    if not names:
        prop.fail("name", "missing (at least one name is required)")
    aliases = [prop.name("name", a) for a in names[1:]]
    aliases += [prop.name(key, a) for key in _FTM_ALIASES for a in prop.texts(key)]
    ids = {key: prop.texts(key)[0] for key in _FTM_IDENTIFIERS if prop.texts(key)}
    return WatchlistEntry(
        id=entry_id,
        schema=record.schema(),
        name=prop.name("name", names[0]),
        aliases=tuple(aliases),
        weak_aliases=tuple(prop.name("weakAlias", a) for a in prop.texts("weakAlias")),
        countries=prop.countries("country", [c for key in _FTM_COUNTRIES for c in prop.texts(key)]),
        identifiers=ids,
        sources=prop.texts("sourceUrl"),
    )


def _ftm_records(filename: str, text: str) -> Iterator[Record]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise WatchlistFileError(
                filename, f"line {number}, column {error.colno}", None, f"invalid JSON: {error.msg}"
            ) from None
        record = Record(filename, f"line {number}", {})
        if not isinstance(item, dict):
            record.fail(None, "must be a JSON object (one FollowTheMoney entity per line)")
        record.data = cast(dict[str, object], item)
        yield record


def parse_ftm(
    data: str | bytes,
    filename: str,
    *,
    name: str | None = None,
    version: str | None = None,
    published: date | None = None,
) -> Watchlist:
    """A FollowTheMoney entity file, one JSON object per line (yente's custom-dataset format)."""
    return _flat_list(data, filename, name, version, published, _ftm_records, lambda r, _list: _ftm_entity(r))


# --- CSV ---------------------------------------------------------------------------------------------------


def _csv_actions(record: Record, list_name: str) -> tuple[ListAction, ...]:
    since, removed = record.text("listed_since", required=False), record.text("removed_on", required=False)
    authority = record.text("authority", required=False) or list_name
    citation = record.text("citation", required=False)
    actions: list[ListAction] = []
    if since is not None:
        day = record.day("listed_since", since)
        actions.append(ListAction(authority, list_name, "added", day, citation))
    if removed is not None:
        if since is None:
            record.fail("removed_on", "a removal needs listed_since")
        day = record.day("removed_on", removed)
        if day < actions[0].date:
            record.fail("removed_on", f"{removed} is before listed_since {since}")
        actions.append(ListAction(authority, list_name, "removed", day, citation))
    return tuple(actions)


def _csv_entity(record: Record, list_name: str) -> WatchlistEntry:
    entry_id, name = record.text("id"), record.text("name")
    assert entry_id is not None and name is not None

    def values(column: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in (record.text(column, required=False) or "").split(";") if v.strip())

    return WatchlistEntry(
        id=entry_id,
        schema=record.schema(),
        name=record.name("name", name),
        aliases=tuple(record.name("aliases", a) for a in values("aliases")),
        weak_aliases=tuple(record.name("weak_aliases", a) for a in values("weak_aliases")),
        countries=record.countries("country", values("country")),
        actions=_csv_actions(record, list_name),
    )


def _csv_records(filename: str, text: str) -> Iterator[Record]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = Record(filename, "line 1 (header)", {})
    try:
        columns = reader.fieldnames or []
        missing = [c for c in CSV_COLUMNS[:3] if c not in columns]
        unknown = [c for c in columns if c not in CSV_COLUMNS]
        if missing or unknown:
            header.fail(None, f"missing columns {missing}, unknown columns {unknown}; expected {CSV_COLUMNS}")
        first_line = reader.line_num + 1
        for number, row in enumerate(reader, start=1):
            record = Record(filename, f"line {first_line} (record {number})", row)
            if None in row or None in row.values():
                record.fail(None, f"expected {len(columns)} fields as in the header")
            first_line = reader.line_num + 1
            yield record
    except csv.Error as error:
        where = f"line {reader.reader.line_num}"  # DictReader's own line_num lags behind on errors
        raise WatchlistFileError(filename, where, None, f"invalid CSV: {error}") from None


def parse_csv(
    data: str | bytes,
    filename: str,
    *,
    name: str | None = None,
    version: str | None = None,
    published: date | None = None,
) -> Watchlist:
    """A CSV watchlist with a header row (see the module docstring for the columns)."""
    return _flat_list(data, filename, name, version, published, _csv_records, _csv_entity)


def _flat_list(
    data: str | bytes,
    filename: str,
    name: str | None,
    version: str | None,
    published: date | None,
    records: Callable[[str, str], Iterator[Record]],  # (filename, text)
    entity: Callable[[Record, str], WatchlistEntry],
) -> Watchlist:
    """One public list from a file of one record per entry (CSV rows, FollowTheMoney lines)."""
    text = _decode(data, filename)
    meta = _Meta(filename, text, name, version)
    day = meta.published(Record(filename, "", {}), published)
    entries = unique_entries((r, entity(r, meta.name)) for r in records(filename, text))
    return Watchlist(meta.name, meta.version, day, False, filename, entries)


# --- any file -----------------------------------------------------------------------------------------------


def _looks_like_ftm(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    try:
        item = json.loads(first)
    except json.JSONDecodeError:
        return False
    return isinstance(item, dict) and "properties" in item


def load_watchlists(
    data: str | bytes,
    filename: str,
    *,
    name: str | None = None,
    version: str | None = None,
    published: date | None = None,
) -> list[Watchlist]:
    """Any supported file, by its name: `.csv`, `.jsonl`/`.ndjson`/`.ftm.json` (FollowTheMoney lines),
    `.json` (gesher JSON, or FollowTheMoney lines if the first line is an FtM entity)."""
    lower = filename.lower()
    text = _decode(data, filename)
    if lower.endswith(".csv"):
        return [parse_csv(text, filename, name=name, version=version, published=published)]
    if lower.endswith(FTM_SUFFIXES) or (lower.endswith(".json") and _looks_like_ftm(text)):
        return [parse_ftm(text, filename, name=name, version=version, published=published)]
    if lower.endswith(".json"):
        return parse_json(text, filename, name=name, version=version, published=published)
    raise WatchlistFileError(filename, "", None, "unknown format: expected .json, .jsonl, .ndjson or .csv")


@cache
def shipped_watchlists() -> tuple[Watchlist, ...]:
    """Everything in the watchlist shipped with gesher (`data/spyware_watchlist.json`, see
    `data/SOURCES.md`): 17 publicly designated commercial-spyware entities and persons, and the
    confidential US State Department visa-restriction list."""
    return tuple(parse_json(shipped_file(), SHIPPED))


def shipped_file() -> bytes:
    """The bytes of the watchlist file shipped with gesher (named `SHIPPED`), as an officer would load it."""
    return resources.files("gesher.screening").joinpath("data", SHIPPED).read_bytes()


def shipped_watchlist() -> Watchlist:
    """The public list of the shipped watchlist file (without the confidential list)."""
    return next(w for w in shipped_watchlists() if not w.confidential)
