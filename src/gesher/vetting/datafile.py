"""gesher's country data files: CSV after a `#` preamble that says what the data is, as of when and from
where. A preamble line is `# key: value` (lower-case key) or free text; `as_of` (YYYY-MM-DD, exactly once)
and `source` (one or more) are required, the rest is kept as notes. Every problem is reported as
`file:line: column 'name': ...`; callers collect all problems and load nothing when there is any."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Protocol, TypeVar

from gesher.errors import ConfigurationError

MAX_FILE_BYTES: Final = 2 * 1024 * 1024  # the largest shipped file is ~13 kB; this only stops accidents
_META: Final = re.compile(r"#\s*([a-z_]+)\s*:\s*(.*)$")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}$")
T = TypeVar("T")


class CountryDataError(ConfigurationError):
    """A country data file (shipped or an operator's override) is malformed: nothing was loaded."""

    title = "Invalid country data"

    def __init__(self, problems: Sequence[str]) -> None:
        shown = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(
            f"country data not loaded, {len(problems)} problem(s): {shown}{more}",
            details={"problems": list(problems)},
        )
        self.problems = tuple(problems)


class Bad(ValueError):
    """One cell is wrong; the message says why (the reader adds file, line and column)."""


class Cell(ValueError):
    """A `Bad` value located in its column."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"column {column!r}: {message}")
        self.column = column
        self.message = message


class _Reader(Protocol):
    @property
    def line_num(self) -> int: ...

    def __next__(self) -> list[str]: ...


@dataclass(frozen=True)
class Row:
    line: int  # the file line where the record starts (1-based, counting the preamble)
    values: dict[str, str]


@dataclass(frozen=True)
class DataFile:
    label: str  # how messages name the file
    as_of: date
    sources: tuple[str, ...]
    notes: tuple[str, ...]
    header: tuple[str, ...]
    rows: tuple[Row, ...]

    def cells(self, problems: list[str], parse: Callable[[Row], T]) -> Iterator[tuple[Row, T]]:
        """Each row parsed by `parse`; a row whose parse raises `Cell` or `Bad` is reported and skipped."""
        for row in self.rows:
            try:
                yield row, parse(row)
            except Cell as exc:
                problems.append(f"{self.label}:{row.line}: column {exc.column!r}: {exc.message}")
            except Bad as exc:
                problems.append(f"{self.label}:{row.line}: {exc}")


def cell(row: Row, column: str, parse: Callable[[str], T]) -> T:
    """`parse` applied to one cell (stripped), its failure located in the column."""
    try:
        return parse(row.values[column].strip())
    except Bad as exc:
        raise Cell(column, str(exc)) from None


def show(value: str) -> str:
    """A cell value quoted for a message, cut short so a runaway cell cannot flood the output."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def parse_date(raw: str) -> date:
    if not _DATE.match(raw):
        raise Bad(f"{show(raw)} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Bad(f"{show(raw)} is not a date (YYYY-MM-DD)") from None


def decode(label: str, data: bytes, problems: list[str]) -> str | None:
    if len(data) > MAX_FILE_BYTES:
        problems.append(f"{label}: larger than {MAX_FILE_BYTES} bytes")
        return None
    try:
        return data.decode("utf-8-sig")  # a byte-order mark (spreadsheet export) is harmless
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(f"{label}:{line}: not UTF-8 text")
        return None


def read(label: str, text: str, required: Sequence[str], problems: list[str]) -> DataFile | None:
    """The file's preamble, header and rows; None (with the problems recorded) if the file cannot be used."""
    lines = text.splitlines(keepends=True)
    before = len(problems)
    meta, start = _preamble(label, lines, problems)
    body = lines[start:]
    reader = csv.reader(body, strict=True)
    try:
        header = tuple(h.strip() for h in next(reader))
    except StopIteration:
        problems.append(f"{label}:{start + 1}: no header row")
        return None
    except csv.Error as exc:
        problems.append(f"{label}:{start + reader.line_num}: {exc}")
        return None
    header_line = start + reader.line_num
    for column in sorted({h for h in header if header.count(h) > 1}):
        problems.append(f"{label}:{header_line}: column {column!r} appears more than once in the header")
    missing = [c for c in required if c not in header]
    for column in missing:
        problems.append(
            f"{label}:{header_line}: missing column {column!r} (the header has {', '.join(header)})"
        )
    rows = _rows(label, reader, start, header, problems)
    as_of = _as_of(label, meta, problems)
    if not meta.get("source"):
        problems.append(f"{label}:1: no '# source: ...' line (say where the data comes from)")
    if len(problems) > before or as_of is None:
        return None
    return DataFile(label, as_of, tuple(meta["source"]), tuple(meta.get("note", ())), header, tuple(rows))


def _preamble(label: str, lines: list[str], problems: list[str]) -> tuple[dict[str, list[str]], int]:
    meta: dict[str, list[str]] = {}
    n = 0
    while n < len(lines) and (lines[n].startswith("#") or not lines[n].strip()):
        line = lines[n].strip()
        n += 1
        if not line:
            continue
        found = _META.match(line)
        if found is None:  # free text (e.g. the title line) is kept as a note
            meta.setdefault("note", []).append(line.lstrip("#").strip())
            continue
        meta.setdefault(found[1], []).append(found[2].strip())
    return meta, n


def _as_of(label: str, meta: dict[str, list[str]], problems: list[str]) -> date | None:
    given = meta.get("as_of", [])
    if len(given) != 1:
        problems.append(f"{label}:1: needs exactly one '# as_of: YYYY-MM-DD' line (found {len(given)})")
        return None
    try:
        return parse_date(given[0])
    except Bad as exc:
        problems.append(f"{label}:1: as_of: {exc}")
        return None


def _rows(label: str, reader: _Reader, start: int, header: tuple[str, ...], problems: list[str]) -> list[Row]:
    rows: list[Row] = []
    line_num = reader.line_num
    while True:
        first = start + line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            return rows
        except csv.Error as exc:
            problems.append(f"{label}:{first}: {exc}")
            return rows
        line_num = reader.line_num
        if not any(v.strip() for v in record):
            continue  # a blank line
        if len(record) != len(header):
            problems.append(f"{label}:{first}: {len(record)} field(s), the header has {len(header)}")
            continue
        rows.append(Row(first, dict(zip(header, record, strict=True))))
