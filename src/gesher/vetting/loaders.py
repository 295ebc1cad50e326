"""One parser per country data file: each checks every row (country codes known, no country twice, numbers,
dates and tiers well formed) and records problems as file:line and column instead of stopping at the first."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeVar

from gesher.vetting import datafile
from gesher.vetting.datafile import Bad, DataFile, Row, cell, show

_ALPHA2: Final = re.compile(r"[A-Z]{2}$")
_ALPHA3: Final = re.compile(r"[A-Z]{3}$")
_CODE_STATUSES: Final = ("official", "user-assigned", "withdrawn")
# WGI estimates run about -2.5..2.5 (WGI usage advisory); a value outside +-3 is a typo or a wrong column
# (e.g. the 0..100 percentile rank pasted into an estimate column).
WGI_LIMIT: Final = 3.0
TIER_NAMES: Final = ("A", "B", "C", "EMBARGOED")
PENDING: Final = "pending"
T = TypeVar("T")

CODES_FILE: Final = "countries.csv"
WGI_FILE: Final = "wgi_2022.csv"
JOINT_STATEMENT_FILE: Final = "spyware_joint_statement.csv"
BUDAPEST_FILE: Final = "budapest_parties.csv"
TIERS_FILE: Final = "cyber_export_tiers.csv"
DATA_FILES: Final = (CODES_FILE, WGI_FILE, JOINT_STATEMENT_FILE, BUDAPEST_FILE, TIERS_FILE)


@dataclass(frozen=True)
class RawFile:
    label: str  # how messages name it: the shipped file's name, or an override's path
    data: bytes | None  # None: it could not be read (the problem is recorded)
    override: bool


@dataclass(frozen=True)
class Code:
    alpha2: str
    alpha3: str
    name: str
    status: str


class CodeTable:
    def __init__(self, codes: list[Code]) -> None:
        self._by_alpha2 = {c.alpha2: c for c in codes}
        self._by_alpha3 = {c.alpha3: c for c in codes}

    def values(self) -> list[Code]:
        return list(self._by_alpha2.values())

    def resolve(self, raw: str) -> Code:
        """The country an alpha-2 or alpha-3 code (any case) names."""
        wanted = raw.upper()
        found = self._by_alpha2.get(wanted) or self._by_alpha3.get(wanted)
        if found is None:
            raise Bad(f"{show(raw)} is not a known ISO 3166-1 alpha-2 or alpha-3 country code")
        return found


@dataclass(frozen=True)
class WgiRow:
    year: int
    rl: float | None
    va: float | None
    pv: float | None
    cc: float | None


@dataclass(frozen=True)
class Signatory:
    joined: date | None  # None: pending
    source: str


@dataclass(frozen=True)
class TierRow:
    tier: str
    note: str


def read_all(raw: Mapping[str, RawFile], problems: list[str]) -> dict[str, DataFile]:
    required = {
        CODES_FILE: ("alpha2", "alpha3", "name", "status"),
        WGI_FILE: ("iso3", "year", *_WGI_COLUMNS),
        JOINT_STATEMENT_FILE: ("iso3", "joined", "source"),
        BUDAPEST_FILE: ("iso3",),
        TIERS_FILE: ("country", "tier"),
    }
    found: dict[str, DataFile] = {}
    for name, f in raw.items():
        text = None if f.data is None else datafile.decode(f.label, f.data, problems)
        parsed = None if text is None else datafile.read(f.label, text, required[name], problems)
        if parsed is not None:
            found[name] = parsed
    return found


def codes(file: DataFile | None, iso_3166: frozenset[str], problems: list[str]) -> CodeTable | None:
    if file is None:
        return None
    before = len(problems)
    parsed = _unique(file, problems, lambda row: _code(row, iso_3166), lambda c: c.alpha2)
    seen3: dict[str, int] = {}
    for line, code in parsed:
        if code.alpha3 in seen3:
            problems.append(
                f"{file.label}:{line}: column 'alpha3': {code.alpha3} already on line {seen3[code.alpha3]}"
            )
        seen3.setdefault(code.alpha3, line)
    return CodeTable([c for _, c in parsed]) if len(problems) == before else None


def _code(row: Row, iso_3166: frozenset[str]) -> Code:
    alpha2 = cell(row, "alpha2", lambda v: _match(_ALPHA2, v, "two capital letters"))
    alpha3 = cell(row, "alpha3", lambda v: _match(_ALPHA3, v, "three capital letters"))
    name = cell(row, "name", _non_empty)
    status = cell(row, "status", lambda v: _one_of(v, _CODE_STATUSES))
    if status == "official" and alpha2 not in iso_3166:
        raise datafile.Cell("alpha2", f"{alpha2} is not an ISO 3166-1 code in force (mark it user-assigned)")
    return Code(alpha2, alpha3, name, status)


_WGI_COLUMNS: Final = (
    "rule_of_law_est",
    "voice_accountability_est",
    "political_stability_est",
    "control_corruption_est",
)


def wgi(file: DataFile | None, table: CodeTable, problems: list[str]) -> dict[str, WgiRow]:
    def parse(row: Row) -> tuple[Code, WgiRow]:
        code = cell(row, "iso3", table.resolve)
        year = cell(row, "year", _year)
        rl, va, pv, cc = (cell(row, column, _estimate) for column in _WGI_COLUMNS)
        return code, WgiRow(year, rl, va, pv, cc)

    return _keyed(file, problems, parse)


def joint_statement(file: DataFile | None, table: CodeTable, problems: list[str]) -> dict[str, Signatory]:
    previous: list[str] = []  # "same" in the source column means the source of the row above

    def parse(row: Row) -> tuple[Code, Signatory]:
        code = cell(row, "iso3", table.resolve)
        joined = cell(row, "joined", lambda v: None if v.lower() == PENDING else _date_or_pending(v))
        source = cell(row, "source", lambda v: _same(v, previous))
        previous[:] = [source]
        return code, Signatory(joined, source)

    return _keyed(file, problems, parse)


def budapest(file: DataFile | None, table: CodeTable, problems: list[str]) -> set[str]:
    return set(_keyed(file, problems, lambda row: (cell(row, "iso3", table.resolve), True)))


def tiers(file: DataFile | None, table: CodeTable, problems: list[str]) -> dict[str, TierRow]:
    def parse(row: Row) -> tuple[Code, TierRow]:
        code = cell(row, "country", table.resolve)
        tier = cell(row, "tier", lambda v: _one_of(v.upper(), TIER_NAMES))
        return code, TierRow(tier, row.values.get("note", "").strip())

    return _keyed(file, problems, parse)


def _keyed(
    file: DataFile | None, problems: list[str], parse: Callable[[Row], tuple[Code, T]]
) -> dict[str, T]:
    """alpha-2 -> parsed row, every country at most once."""
    if file is None:
        return {}
    pairs = _unique(file, problems, parse, lambda pair: pair[0].alpha2)
    return {code.alpha2: value for _, (code, value) in pairs}


def _unique(
    file: DataFile, problems: list[str], parse: Callable[[Row], T], key: Callable[[T], str]
) -> list[tuple[int, T]]:
    seen: dict[str, int] = {}
    kept: list[tuple[int, T]] = []
    for row, value in file.cells(problems, parse):
        k = key(value)
        if k in seen:
            problems.append(f"{file.label}:{row.line}: {k} is already given on line {seen[k]}")
            continue
        seen[k] = row.line
        kept.append((row.line, value))
    return kept


def _estimate(raw: str) -> float | None:
    if not raw:
        return None  # the World Bank publishes no estimate
    try:
        value = float(raw)
    except ValueError:
        raise Bad(f"{show(raw)} is not a number") from None
    if not math.isfinite(value) or abs(value) > WGI_LIMIT:
        raise Bad(f"{show(raw)} is outside -{WGI_LIMIT}..{WGI_LIMIT} (WGI estimates run about -2.5..2.5)")
    return value


def _year(raw: str) -> int:
    if not raw.isdigit() or not 1996 <= int(raw) <= 2100:  # WGI starts in 1996
        raise Bad(f"{show(raw)} is not a year (1996 or later)")
    return int(raw)


def _date_or_pending(raw: str) -> date:
    try:
        return datafile.parse_date(raw)
    except Bad:
        raise Bad(f"{show(raw)} is not a date (YYYY-MM-DD) or {PENDING!r}") from None


def _same(raw: str, previous: list[str]) -> str:
    if raw.lower() != "same":
        return _non_empty(raw)
    if not previous:
        raise Bad("'same' needs a row above with a source")
    return previous[0]


def _match(pattern: re.Pattern[str], raw: str, what: str) -> str:
    if not pattern.match(raw):
        raise Bad(f"{show(raw)} is not {what}")
    return raw


def _one_of(raw: str, allowed: tuple[str, ...]) -> str:
    if raw not in allowed:
        raise Bad(f"{show(raw)} is not one of {', '.join(allowed)}")
    return raw


def _non_empty(raw: str) -> str:
    if not raw:
        raise Bad("is empty")
    return raw
