"""A compiled scan of plain observation files: which lines might match an indicator (issue 7,
"Performance": >= 10M observed values/s against 1M indicators, file to matches).

DuckDB's reader and built-ins (CSV parsing, lower(), strptime, the hash probe) cost ~175 ns a row on one
core, at their floor; a scan written for the plain shapes of file costs ~90 (a `time,value` line). It
reads the file's bytes as they are (a memory map, no Python string per value), in numba-compiled code that
releases the GIL so that pieces of a file run on every core, and answers one of three things for a piece:

- CLEAN, with the lines to look at: every line is plainly one the pure parser accepts, and the listed
  lines are the only ones whose value might equal an indicator value. Those are the lines whose join key's
  hash is in the indicator keys' table (the key is the value's ASCII letters lower-cased with one trailing
  dot dropped, as `matching.py`'s DuckDB join key, so it is a superset of the pure core's matches), and the
  lines Python must decide itself (a non-ASCII byte, which must also be valid UTF-8; an IPv6 shape).
  The caller parses just those lines with the pure core and keeps the exact matches.
- SUSPECT: a line is not plainly clean (a quote, a stray carriage return or control byte, a blank or
  over-long line, a field count unlike the header's, a time not in the common `YYYY-MM-DDTHH:MM:SSZ` shape
  or after the limit, an empty value, a declared type, count or sighting type the pure core would refuse,
  JSON beyond the plain shape below). The scan is conservative: the caller hands the file to the slower
  routes, which decide exactly.
- FULL: more lines to look at than the caller made room for (the caller then takes a slower route too).

The plain shapes: CSV without quotes; JSON lines of flat objects whose strings hold no escape, the other
values literals or plain numbers, each known key at most once. A declared type is checked as the pure core
checks it (e-mail addresses have an @, hashes their length of hex digits, IPv4 addresses their exact form;
an IPv6 address goes to Python), and so are counts and sighting types.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import IntEnum
from typing import Any, Final

import numba
import numpy as np

from gesher.warning.observations import MAX_COUNT, SIGHTING_NAMES
from gesher.warning.values import ANY_IP, HASH_LENGTHS, TYPE_NAMES, ValueType


def _compiled(func: Callable[..., Any]) -> Any:
    """`func` compiled by numba, releasing the GIL, with numba's on-disk cache where it has somewhere to
    write it (the package's folder or the user's cache folder); without the cache elsewhere (a read-only
    install under a user without a home), where each process compiles again (~3 s) instead of failing."""
    try:
        compiled = numba.njit(nogil=True, cache=True)(func)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        compiled = numba.njit(nogil=True)(func)
    return compiled


_U: Final = np.uint64
# Byte classes of the line scan: ordinary bytes (including tab), and the few it stops at.
_ORDINARY, _COMMA, _NEWLINE, _RETURN, _SUSPECT, _NON_ASCII = 0, 1, 2, 3, 4, 5
_CLASSES: Final = np.zeros(256, np.uint8)
_CLASSES[[b for b in range(32) if b not in (9, 10, 13)] + [ord('"')]] = _SUSPECT
_CLASSES[ord(",")], _CLASSES[10], _CLASSES[13] = _COMMA, _NEWLINE, _RETURN
_CLASSES[128:] = _NON_ASCII

_K1: Final = _U(0x9E3779B97F4A7C15)
_K2: Final = _U(0xBF58476D1CE4E5B9)
_SEED: Final = _U(0x243F6A8885A308D3)
_ONES: Final = _U(0x0101010101010101)
_HIGH: Final = _U(0x8080808080808080)
_ALL: Final = _U(0xFFFFFFFFFFFFFFFF)
# Adding these to an ASCII byte sets its high bit from 'A' (0x41) on, and from '[' (0x5B) on.
_FROM_A: Final = _U(0x3F3F3F3F3F3F3F3F)
_FROM_BRACKET: Final = _U(0x2525252525252525)
_COLONS: Final = _U(0x3A3A3A3A3A3A3A3A)


def _template(shape: str) -> tuple[Any, Any, Any, Any]:
    """Masks checking eight (or four) bytes of a time at once against `shape` ('0' for a digit): the
    bytes XORed with the template are 0-9 where a digit is expected and 0 where a separator is."""
    xor = add = high = separators = 0
    for i, char in enumerate(shape):
        if char == "0":
            xor |= 0x30 << (8 * i)
            add |= 0x76 << (8 * i)  # 0-9 + 0x76 stays below 0x80; 10 or more reaches it
            high |= 0x80 << (8 * i)
        else:
            xor |= ord(char) << (8 * i)
            separators |= 0xFF << (8 * i)
    return _U(xor), _U(add), _U(high), _U(separators)


_T0, _A0, _H0, _S0 = _template("0000-00-")
_T1, _A1, _H1, _S1 = _template("00T00:00")
_T2, _A2, _H2, _S2 = _template(":00Z")


class Status(IntEnum):
    CLEAN = 0
    SUSPECT = 1
    FULL = 2


@numba.njit(inline="always")
def _load8(buf: Any, i: int) -> Any:
    # Eight bytes, little-endian; LLVM makes this one unaligned load.
    return (
        _U(buf[i])
        | (_U(buf[i + 1]) << _U(8))
        | (_U(buf[i + 2]) << _U(16))
        | (_U(buf[i + 3]) << _U(24))
        | (_U(buf[i + 4]) << _U(32))
        | (_U(buf[i + 5]) << _U(40))
        | (_U(buf[i + 6]) << _U(48))
        | (_U(buf[i + 7]) << _U(56))
    )


@numba.njit(inline="always")
def _load4(buf: Any, i: int) -> Any:
    return _U(buf[i]) | (_U(buf[i + 1]) << _U(8)) | (_U(buf[i + 2]) << _U(16)) | (_U(buf[i + 3]) << _U(24))


@numba.njit(inline="always")
def _byte(word: Any, k: int) -> Any:
    return np.int64((word >> _U(8 * k)) & _U(255))


@_compiled
def _time_ordinal(buf: Any, start: int, end: int) -> int:
    """An ordinal of the time text buf[start:end] if it is `YYYY-MM-DDTHH:MM:SSZ`, a real UTC date and
    time from 1970 on, else -1. Ordinals order as times do."""
    if end - start != 20:
        return -1
    x0 = _load8(buf, start) ^ _T0
    x1 = _load8(buf, start + 8) ^ _T1
    x2 = _load4(buf, start + 16) ^ _T2
    # A byte >= 0x80 is caught by its own high bit (the OR), so a carry it makes only adds refusals.
    bad = (
        (((x0 + _A0) | x0) & _H0)
        | (x0 & _S0)
        | (((x1 + _A1) | x1) & _H1)
        | (x1 & _S1)
        | (((x2 + _A2) | x2) & _H2)
        | (x2 & _S2)
    )
    if bad != 0:
        return -1
    year = _byte(x0, 0) * 1000 + _byte(x0, 1) * 100 + _byte(x0, 2) * 10 + _byte(x0, 3)
    month = _byte(x0, 5) * 10 + _byte(x0, 6)
    day = _byte(x1, 0) * 10 + _byte(x1, 1)
    hour = _byte(x1, 3) * 10 + _byte(x1, 4)
    minute = _byte(x1, 6) * 10 + _byte(x1, 7)
    second = _byte(x2, 1) * 10 + _byte(x2, 2)
    if year < 1970 or month < 1 or month > 12 or day < 1 or hour > 23 or minute > 59 or second > 59:
        return -1
    if day > 28:
        if month == 2:
            if day > 29 or not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
                return -1
        elif day > 30 + ((month + (month >> 3)) & 1):  # 31 in January, March, May, July, August, ...
            return -1
    ordinal: int = ((((year * 16 + month) * 32 + day) * 32 + hour) * 64 + minute) * 64 + second
    return ordinal


@numba.njit(inline="always")
def _lowered(word: Any) -> Any:
    """ASCII upper-case letters of eight ASCII bytes lower-cased."""
    return word | (((word + _FROM_A) & ~(word + _FROM_BRACKET) & _HIGH) >> _U(2))


@numba.njit(inline="always")
def _mix(h: Any, word: Any) -> Any:
    h = (h ^ word) * _K1
    return h ^ (h >> _U(29))


@_compiled
def _key_hash(buf: Any, start: int, end: int) -> tuple[Any, bool]:
    """The 64-bit hash of the ASCII bytes buf[start:end] with letters lower-cased (never 0), and whether
    they hold a colon."""
    h, colons, i = _SEED, _U(0), start
    while i + 8 <= end:
        word = _lowered(_load8(buf, i))
        c = word ^ _COLONS
        colons |= (c - _ONES) & ~c & _HIGH
        h = _mix(h, word)
        i += 8
    if i < end:
        keep = _ALL >> _U(64 - 8 * (end - i))
        if i + 8 <= buf.size:
            word = _load8(buf, i) & keep
        else:
            word = _U(0)
            for k in range(end - i):
                word |= _U(buf[i + k]) << _U(8 * k)
        word = _lowered(word)
        c = word ^ _COLONS
        colons |= (c - _ONES) & ~c & _HIGH & keep
        h = _mix(h, word)
    h = (h ^ (_U(end - start) << _U(56))) * _K1
    h ^= h >> _U(32)
    h *= _K2
    h ^= h >> _U(29)
    return (h if h != 0 else _U(1)), colons != 0


@numba.njit(inline="always")
def _hex_digit(b: int) -> bool:
    return ((b - 48) & 0xFF) < 10 or (((b | 32) - 97) & 0xFF) < 6


@numba.njit(inline="always")
def _hex_colon_or_dot(b: int) -> bool:
    return _hex_digit(b) or b == 58 or b == 46


@_compiled
def _ipv6_shape(buf: Any, start: int, end: int) -> bool:
    """Whether buf[start:end] has `values.IPV6_SHAPE`: hex digits, colons and dots with a colon, then
    optionally % and a scope without %."""
    colon, percent = False, -1
    for i in range(start, end):
        b = buf[i]
        if percent >= 0:
            if b == 37:
                return False
        elif b == 37:
            percent = i
        elif b == 58:
            colon = True
        elif not _hex_colon_or_dot(b):
            return False
    return colon and percent != end - 1


# Declared types as the scan knows them: 0 none declared, then one code a canonical type. A value of a
# declared type must pass its type's check (or its line goes to Python: an IPv6 address).
_KINDS: Final = ("", *ValueType, ANY_IP)
_DOMAIN, _IPV4, _IPV6, _URL, _EMAIL = 1, 2, 3, 4, 5
_ANY_IP: Final = len(_KINDS) - 1
assert _KINDS[_DOMAIN : _EMAIL + 1] == tuple(ValueType)[:5]  # the codes above are the enumeration's order


_SLOTS_SHIFT: Final = _U(58)  # name tables have 64 slots


def _name_words(name: str) -> tuple[int, int]:
    """A name of at most 16 ASCII bytes as two little-endian words (a name holds no zero byte, so the
    words tell its length too)."""
    assert len(name) <= 16 and name.isascii()
    return int.from_bytes(name.encode()[:8], "little"), int.from_bytes(name.encode()[8:], "little")


def _slot(w0: int, w1: int, multiplier: int) -> int:
    """The slot of a name's words in a 64-slot table (the same arithmetic as `_name_code`'s)."""
    mixed = (w0 ^ (w1 * int(_K1))) % 2**64
    return (mixed * multiplier) % 2**64 >> int(_SLOTS_SHIFT)


def _name_table(codes: dict[str, int]) -> tuple[Any, Any, Any]:
    """A perfect hash table of names: (words per slot, code per slot, -1 where empty; the multiplier that
    puts every name in a slot of its own), so that a lookup is one multiplication and one comparison."""
    words = {name: _name_words(name) for name in codes}
    for attempt in range(1, 10_000):
        multiplier = (int(_K2) * attempt) % 2**64 | 1
        slots = {name: _slot(*w, multiplier) for name, w in words.items()}
        if len(set(slots.values())) == len(slots):
            table = np.zeros((64, 2), np.uint64)
            table_codes = np.full(64, -1, np.int64)
            for name, slot in slots.items():
                table[slot] = words[name]
                table_codes[slot] = codes[name]
            return table, table_codes, _U(multiplier)
    raise AssertionError("no multiplier separates the names")  # (found at import, for fixed names)


# The accepted type names (ASCII lower case) and each one's code; the hex length each code demands.
_TYPE_TABLE: Final = _name_table({name: _KINDS.index(kind) for name, kind in TYPE_NAMES.items()})
_HEX_LENGTHS: Final = np.array([HASH_LENGTHS.get(k, 0) if k else 0 for k in _KINDS], np.int64)
_SIGHTING_TABLE: Final = _name_table({name: int(kind) for name, kind in SIGHTING_NAMES.items()})
assert MAX_COUNT == 10**9 - 1  # a count is 1 to 9 digits


@_compiled
def _name_code_bytewise(buf: Any, start: int, end: int, table: tuple[Any, Any, Any], fold_case: bool) -> int:
    """`_name_code` of a name already stripped, a byte at a time (at the very end of a buffer)."""
    words, codes, multiplier = table
    w0 = w1 = _U(0)
    for i in range(start, end):
        b = buf[i]
        if b >= 128:
            return -1
        if fold_case and ((b - 65) & 0xFF) < 26:
            b |= 32
        if i - start < 8:
            w0 |= _U(b) << _U(8 * (i - start))
        else:
            w1 |= _U(b) << _U(8 * (i - start - 8))
    slot = ((w0 ^ (w1 * _K1)) * multiplier) >> _SLOTS_SHIFT
    return int(codes[slot]) if words[slot, 0] == w0 and words[slot, 1] == w1 else -1


@numba.njit(inline="always")
def _name_code(buf: Any, start: int, end: int, table: tuple[Any, Any, Any], fold_case: bool) -> int:
    """The code of the name buf[start:end] in a `_name_table`, blanks around it dropped (and ASCII case,
    if `fold_case`): -2 if it is blank, -1 if it is no name there."""
    words, codes, multiplier = table
    while start < end and (buf[start] == 32 or buf[start] == 9):
        start += 1
    while end > start and (buf[end - 1] == 32 or buf[end - 1] == 9):
        end -= 1
    n = end - start
    if n == 0:
        return -2
    if n > 16 or end + 16 > buf.size:  # (too long a name; or too near the buffer's end to load words)
        return -1 if n > 16 else _name_code_bytewise(buf, start, end, table, fold_case)
    # The scans refuse control bytes, so a field holds no zero byte: the masked words tell its length.
    w0 = _load8(buf, start) & (_ALL >> _U(8 * (8 - min(n, 8))))
    w1 = _load8(buf, start + 8) & (_ALL >> _U(8 * (16 - n))) if n > 8 else _U(0)
    if (w0 | w1) & _HIGH:
        return -1
    if fold_case:
        w0, w1 = _lowered(w0), _lowered(w1)
    slot = ((w0 ^ (w1 * _K1)) * multiplier) >> _SLOTS_SHIFT
    return int(codes[slot]) if words[slot, 0] == w0 and words[slot, 1] == w1 else -1


@_compiled
def _type_code(buf: Any, start: int, end: int) -> int:
    """The code of the declared type buf[start:end] (blanks around it dropped, ASCII case ignored): 0 if
    blank, -1 if not a type name the pure core knows."""
    code = _name_code(buf, start, end, _TYPE_TABLE, True)
    return 0 if code == -2 else code


@_compiled
def _count_ok(buf: Any, start: int, end: int) -> bool:
    """Whether buf[start:end] is a count the pure core accepts in CSV: blank, or 1 to 9 digits, not 0."""
    while start < end and (buf[start] == 32 or buf[start] == 9):
        start += 1
    while end > start and (buf[end - 1] == 32 or buf[end - 1] == 9):
        end -= 1
    if end - start > 9:
        return False
    nonzero = start == end
    for i in range(start, end):
        if ((buf[i] - 48) & 0xFF) >= 10:
            return False
        nonzero |= buf[i] != 48
    return nonzero


@_compiled
def _ipv4_shape(buf: Any, start: int, end: int) -> bool:
    """Whether buf[start:end] is `values.IPV4_SHAPE`: four decimal octets up to 255 without leading zeros
    (what `ipaddress.IPv4Address` reads, as its own text)."""
    octets, digits, octet = 0, 0, 0
    for i in range(start, end + 1):
        if i == end or buf[i] == 46:
            if digits == 0 or octet > 255 or octets == 4:
                return False
            octets += 1
            digits, octet = 0, 0
        else:
            b = buf[i]
            if ((b - 48) & 0xFF) >= 10 or (digits == 1 and octet == 0) or digits == 3:
                return False
            digits += 1
            octet = octet * 10 + b - 48
    return octets == 4


@numba.njit(inline="always")
def _in_range(word: Any, low: int, high: int) -> Any:
    """The high bit of each byte of eight ASCII bytes that lies in [low, high] (no carry crosses bytes:
    a byte below 0x80 plus a constant below 0x80 stays below 0x100)."""
    return (word + _ONES * _U(0x80 - low)) & ~(word + _ONES * _U(0x7F - high)) & _HIGH


@_compiled
def _hex_digits(buf: Any, start: int, end: int) -> bool:
    """Whether buf[start:end] is all hexadecimal digits, eight bytes at a time where it can."""
    i = start
    while i + 8 <= end:
        word = _load8(buf, i)
        # 'A'-'F' to 'a'-'f'; digits already have the bit (control bytes would become digits, but the scans
        # have refused them before)
        lowered = word | (_ONES * _U(32))
        if word & _HIGH or (_in_range(lowered, 48, 57) | _in_range(lowered, 97, 102)) != _HIGH:
            return False
        i += 8
    while i < end:  # the last bytes
        if not _hex_digit(buf[i]):
            return False
        i += 1
    return True


@_compiled
def _typed_value(buf: Any, start: int, end: int, kind: int) -> int:
    """A value of a declared type against its type's rule: 0 it passes, 1 its line goes to Python (an
    IPv6 address, which `ipaddress` decides), -1 it fails (the slower routes say why)."""
    if kind in (_DOMAIN, _URL):
        return 0
    if kind == _EMAIL:
        for i in range(start, end):
            if buf[i] == 64:
                return 0
        return -1
    if _HEX_LENGTHS[kind] > 0:
        return 0 if end - start == _HEX_LENGTHS[kind] and _hex_digits(buf, start, end) else -1
    colon = False
    for i in range(start, end):
        colon |= buf[i] == 58
    if kind == _IPV6 or (kind == _ANY_IP and colon):  # (any IP with a colon is an IPv6 address)
        return 1 if colon else -1
    return 0 if _ipv4_shape(buf, start, end) else -1  # an IPv4 address, or any IP without one


@numba.njit(inline="always")
def _bloom_bits(h: Any) -> Any:
    return (_U(1) << (h & _U(63))) | (_U(1) << ((h >> _U(6)) & _U(63))) | (_U(1) << ((h >> _U(12)) & _U(63)))


# What a line's time, value and declared type make of it.
_SKIP, _LIST, _DOUBT = 0, 1, 2


@numba.njit(inline="always")
def _verdict(
    buf: Any,
    time_start: int,
    time_end: int,
    value_start: int,
    value_end: int,
    non_ascii: bool,
    kind: int,
    latest: int,
    bloom: Any,
    shift: Any,
    table: Any,
) -> int:
    """_LIST a line whose value may match (or that Python must decide), _SKIP one that cannot match, _DOUBT
    one the scan is not sure the pure parser accepts. `kind`: the declared type's code (0 none, -1 not a
    type name)."""
    when = _time_ordinal(buf, time_start, time_end)
    if when < 0 or when > latest or kind < 0:
        return _DOUBT
    while value_start < value_end and (buf[value_start] == 32 or buf[value_start] == 9):
        value_start += 1
    while value_end > value_start and (buf[value_end - 1] == 32 or buf[value_end - 1] == 9):
        value_end -= 1
    if value_end == value_start or (value_end - value_start == 1 and buf[value_start] == 46):
        return _DOUBT  # no normal form ('' or '.')
    if kind > 0:
        typed = _typed_value(buf, value_start, value_end, kind)
        if typed != 0:
            return _DOUBT if typed < 0 else _LIST
    if non_ascii:
        return _LIST
    key_end = value_end - 1 if buf[value_end - 1] == 46 else value_end
    h, colon = _key_hash(buf, value_start, key_end)
    if colon and _ipv6_shape(buf, value_start, value_end):
        return _LIST
    bits = _bloom_bits(h)
    if bloom[h >> shift] & bits != bits:
        return _SKIP
    mask = _U(table.size - 1)
    slot = h & mask
    while table[slot] != h:
        if table[slot] == 0:
            return _SKIP
        slot = (slot + _U(1)) & mask
    return _LIST


@numba.njit(inline="always")
def _listing(verdict: int, out: Any, listed: int, line: int, line_end: int) -> int:
    """How many lines are listed once a line's verdict is applied; -1 if it is suspect, -2 if `out` is
    full."""
    if verdict == _DOUBT:
        return -1
    if verdict == _LIST:
        if listed == out.shape[0]:
            return -2
        out[listed, 0] = line
        out[listed, 1] = line_end
        listed += 1
    return listed


@_compiled
def _scan_csv(
    buf: Any,
    start: int,
    end: int,
    columns: int,
    at: Any,
    latest: int,
    max_line: int,
    bloom: Any,
    shift: Any,
    table: Any,
    out: Any,
) -> tuple[int, int]:
    """(status, lines listed in `out`) for the CSV lines of buf[start:end]; see the module's docstring.
    `at`: the columns of the time, value, type, count and sighting type (-1: none)."""
    time_column, value_column, type_column, count_column, sighting_column = at[0], at[1], at[2], at[3], at[4]
    classes = _CLASSES
    # Where each field of the line starts; one more slot, the end of the line plus one, closes the last.
    starts = np.empty(columns + 1, np.int64)
    listed = 0
    pos = start
    while pos < end:
        line = pos
        starts[0] = pos
        column = 0
        non_ascii = False
        line_end = end
        while pos < end:
            c = classes[buf[pos]]
            if c == 0:  # _ORDINARY
                pos += 1
            elif c == 1:  # _COMMA
                column += 1
                if column == columns:  # a field too many
                    return 1, listed
                pos += 1
                starts[column] = pos
            elif c == 2:  # _NEWLINE
                line_end = pos
                pos += 1
                break
            elif c == 3:  # _RETURN: only as the line's end
                if pos + 1 < end and buf[pos + 1] != 10:
                    return 1, listed
                line_end = pos
                pos += 2
                break
            elif c == 5:  # _NON_ASCII
                non_ascii = True
                pos += 1
            else:
                return 1, listed
        if column + 1 != columns or line_end - line > max_line:
            return 1, listed
        starts[columns] = line_end + 1
        if count_column >= 0 and not _count_ok(buf, starts[count_column], starts[count_column + 1] - 1):
            return 1, listed
        if sighting_column >= 0 and (
            _name_code(buf, starts[sighting_column], starts[sighting_column + 1] - 1, _SIGHTING_TABLE, False)
            == -1
        ):
            return 1, listed
        kind = _type_code(buf, starts[type_column], starts[type_column + 1] - 1) if type_column >= 0 else 0
        time_start, time_end = starts[time_column], starts[time_column + 1] - 1
        value_start, value_end = starts[value_column], starts[value_column + 1] - 1
        verdict = _verdict(
            buf, time_start, time_end, value_start, value_end, non_ascii, kind, latest, bloom, shift, table
        )
        listed = _listing(verdict, out, listed, line, line_end)
        if listed < 0:  # suspect (nothing listed counts) or full
            return -listed, 0 if listed == -1 else out.shape[0]
    return 0, listed


# JSON object keys of up to eight bytes as little-endian words (a key holds no zero byte, so the word
# tells the length too).
_TIME_KEY: Final = _U(int.from_bytes(b"time", "little"))
_VALUE_KEY: Final = _U(int.from_bytes(b"value", "little"))
_TYPE_KEY: Final = _U(int.from_bytes(b"type", "little"))
_COUNT_KEY: Final = _U(int.from_bytes(b"count", "little"))
_SIGHTING_KEY: Final = _U(int.from_bytes(b"sighting", "little"))


@numba.njit(inline="always")
def _json_blanks(buf: Any, pos: int, end: int) -> int:
    while pos < end and (buf[pos] == 32 or buf[pos] == 9):
        pos += 1
    return pos


# Byte classes inside a JSON string: ordinary, its closing quote, what the scan leaves to the slower routes
# (an escape, a control byte), non-ASCII.
_IN_STRING: Final = np.zeros(256, np.uint8)
_IN_STRING[34] = 1
_IN_STRING[[92, *range(32)]] = 2
_IN_STRING[128:] = 3


@numba.njit(inline="always")
def _json_string_end(buf: Any, pos: int, end: int) -> tuple[int, bool]:
    """(the position of the closing quote of the JSON string whose text starts at `pos`, or -1 if it
    holds an escape or a control byte or is not closed; whether it holds a non-ASCII byte)."""
    classes = _IN_STRING
    non_ascii = False
    while pos < end:
        c = classes[buf[pos]]
        if c == 0:
            pos += 1
        elif c == 1:
            return pos, non_ascii
        elif c == 3:
            non_ascii = True
            pos += 1
        else:
            return -1, non_ascii
    return -1, non_ascii


@numba.njit(inline="always")
def _digits(buf: Any, pos: int, end: int) -> int:
    while pos < end and ((buf[pos] - 48) & 0xFF) < 10:
        pos += 1
    return pos


@_compiled
def _json_scalar_end(buf: Any, pos: int, end: int) -> int:
    """The end of the JSON literal or plain number at `pos` (-1 if it is neither): true, false, null, or
    -?(0|[1-9][0-9]{0,17})(.[0-9]{1,17})? (no exponent, at most 18 digits a part: what any JSON parser
    reads the same way)."""
    for word, n in ((0x65757274, 4), (0x6C6C756E, 4)):  # 'true', 'null'
        if pos + n <= end and _load4(buf, pos) == word:
            return pos + n
    if pos + 5 <= end and _load4(buf, pos) == 0x736C6166 and buf[pos + 4] == 101:  # 'false'
        return pos + 5
    if pos < end and buf[pos] == 45:  # '-'
        pos += 1
    first = pos
    pos = _digits(buf, pos, end)
    if pos == first or pos - first > 18 or (buf[first] == 48 and pos - first > 1):
        return -1
    if pos < end and buf[pos] == 46:  # '.'
        first = pos + 1
        pos = _digits(buf, first, end)
        if pos == first or pos - first > 17:
            return -1
    return pos


@_compiled
def _json_count_ok(buf: Any, start: int, end: int) -> bool:
    """Whether the JSON literal or number buf[start:end] is a count the pure core accepts: null, or 1 to
    9 digits without a leading zero (the scan's numbers have no exponent; a sign or a fraction fails)."""
    if buf[start] == 110:  # null
        return True
    return end - start <= 9 and buf[start] != 48 and _digits(buf, start, end) == end


@_compiled
def _json_sighting_ok(buf: Any, start: int, end: int, string: bool) -> bool:
    """Whether the JSON string text (or literal or number) buf[start:end] is a sighting type the pure core
    accepts: null, 0 to 2, or a string naming one (a blank string is the default)."""
    if string:
        return _name_code(buf, start, end, _SIGHTING_TABLE, False) != -1
    return buf[start] == 110 or (end - start == 1 and buf[start] <= 50)  # null, or one digit up to '2'


@_compiled
def _scan_jsonl(
    buf: Any,
    start: int,
    end: int,
    latest: int,
    max_line: int,
    bloom: Any,
    shift: Any,
    table: Any,
    out: Any,
) -> tuple[int, int]:
    """(status, lines listed in `out`) for the JSON lines of buf[start:end]: only flat objects whose string
    keys and values hold no escape or control byte, whose other values are literals or plain numbers, with
    `time` and `value` strings once each, and `type`, `count` and `sighting` at most once each and of the
    JSON types the pure core accepts."""
    listed = 0
    pos = start
    while pos < end:
        line = pos
        pos = _json_blanks(buf, pos, end)
        if pos == end or buf[pos] != 123:  # '{'
            return 1, listed
        pos += 1
        time_start = time_end = value_start = value_end = -1
        kind, typed, counted, sighted = 0, False, False, False
        non_ascii = False
        while True:  # one "key": value pair a turn
            pos = _json_blanks(buf, pos, end)
            if pos == end or buf[pos] != 34:  # '"'
                return 1, listed
            key_start = pos + 1
            key_end, odd = _json_string_end(buf, key_start, end)
            if key_end < 0:
                return 1, listed
            non_ascii |= odd
            pos = _json_blanks(buf, key_end + 1, end)
            if pos == end or buf[pos] != 58:  # ':'
                return 1, listed
            pos = _json_blanks(buf, pos + 1, end)
            if pos == end:
                return 1, listed
            text_start = text_end = -1
            if buf[pos] == 34:
                text_start = pos + 1
                text_end, odd = _json_string_end(buf, text_start, end)
                if text_end < 0:
                    return 1, listed
                non_ascii |= odd
                pos = text_end + 1
            else:
                text_start = -pos  # (negative: where the literal or number starts)
                pos = _json_scalar_end(buf, pos, end)
                if pos < 0:
                    return 1, listed
            key = _U(0)  # (a key longer than eight bytes is none of these)
            if key_end - key_start <= 8:
                for k in range(key_start, key_end):
                    key |= _U(buf[k]) << _U(8 * (k - key_start))
            if key == _TIME_KEY:
                if time_start >= 0 or text_start < 0:
                    return 1, listed
                time_start, time_end = text_start, text_end
            elif key == _VALUE_KEY:
                if value_start >= 0 or text_start < 0:
                    return 1, listed
                value_start, value_end = text_start, text_end
            elif key == _TYPE_KEY:
                if typed or (text_start < 0 and buf[-text_start] != 110):  # a string or null ('n') once
                    return 1, listed
                kind = _type_code(buf, text_start, text_end) if text_start >= 0 else 0
                typed = True
            elif key == _COUNT_KEY:  # (a string count is refused by the core)
                if counted or text_start >= 0 or not _json_count_ok(buf, -text_start, pos):
                    return 1, listed
                counted = True
            elif key == _SIGHTING_KEY:
                string = text_start >= 0
                first, last = (text_start, text_end) if string else (-text_start, pos)
                if sighted or not _json_sighting_ok(buf, first, last, string):
                    return 1, listed
                sighted = True
            pos = _json_blanks(buf, pos, end)
            if pos == end:
                return 1, listed
            if buf[pos] == 44:  # ','
                pos += 1
            elif buf[pos] == 125:  # '}'
                pos += 1
                break
            else:
                return 1, listed
        pos = _json_blanks(buf, pos, end)
        line_end = pos
        if pos < end:
            if buf[pos] == 13 and pos + 1 < end and buf[pos + 1] == 10:
                pos += 2
            elif buf[pos] == 10:
                pos += 1
            else:
                return 1, listed
        if time_start < 0 or value_start < 0 or line_end - line > max_line:
            return 1, listed
        verdict = _verdict(
            buf, time_start, time_end, value_start, value_end, non_ascii, kind, latest, bloom, shift, table
        )
        listed = _listing(verdict, out, listed, line, line_end)
        if listed < 0:  # suspect (nothing listed counts) or full
            return -listed, 0 if listed == -1 else out.shape[0]
    return 0, listed


@_compiled
def _hashes(buf: Any, starts: Any, ends: Any) -> Any:
    found = np.empty(starts.size, np.uint64)
    for j in range(starts.size):
        found[j] = _key_hash(buf, starts[j], ends[j])[0]
    return found


@_compiled
def _build(hashes: Any, bloom_bits: int, table_bits: int) -> tuple[Any, Any, Any]:
    bloom = np.zeros(1 << bloom_bits, np.uint64)
    table = np.zeros(1 << table_bits, np.uint64)
    shift, mask = _U(64 - bloom_bits), _U(table.size - 1)
    for h in hashes:
        bloom[h >> shift] |= _bloom_bits(h)
        slot = h & mask
        while table[slot] != 0 and table[slot] != h:
            slot = (slot + _U(1)) & mask
        table[slot] = h
    return bloom, shift, table


class KeyTable:
    """The join keys of indicator values (normal forms) as hashes: a Bloom filter of ~8 bits a key, small
    enough for a core's cache, in front of an open-addressing table at most half full. Only ASCII values
    are kept: an observed line with a non-ASCII byte goes to Python, and an ASCII value's normal form is
    ASCII. A value ending in a dot is kept with and without it (an observed key loses one trailing dot
    whatever its type, a URL's normal form keeps it)."""

    def __init__(self) -> None:
        self._parts: list[Any] = []
        self._built: tuple[Any, Any, Any] | None = None

    def add(self, values: Sequence[str]) -> None:
        kept = [v.encode() for v in values if v.isascii()]
        if not kept:
            return
        lengths = np.fromiter((len(v) for v in kept), np.int64, len(kept))
        ends = np.cumsum(lengths)
        starts = ends - lengths
        buf = np.frombuffer(b"".join(kept), np.uint8)
        nonempty = np.flatnonzero(lengths > 0)
        dotted = nonempty[buf[ends[nonempty] - 1] == 46]
        self._parts.append(
            _hashes(buf, np.concatenate([starts, starts[dotted]]), np.concatenate([ends, ends[dotted] - 1]))
        )
        self._built = None

    def arrays(self) -> tuple[Any, Any, Any]:
        """(Bloom filter, the shift taking a hash to its Bloom word, table), built on first use after an
        addition."""
        if self._built is None:
            hashes = np.unique(np.concatenate(self._parts)) if self._parts else np.zeros(0, np.uint64)
            table_bits = max(10, int(2 * max(len(hashes), 1) - 1).bit_length())
            # 8 bits a key (~3% false positives with 3 bits set in one word), at most 2^20 words (8 MB).
            bloom_bits = min(20, max(4, (len(hashes) // 8).bit_length()))
            self._built = _build(hashes, bloom_bits, table_bits)
        return self._built


def time_ordinal(text: str) -> int:
    """The scan's ordinal of a `YYYY-MM-DDTHH:MM:SSZ` text (-1 if not one it accepts)."""
    data = np.frombuffer(text.encode(), np.uint8)
    return int(_time_ordinal(data, 0, data.size)) if data.size == 20 else -1


def scan_csv(
    data: Any,
    start: int,
    end: int,
    columns: int,
    at: Sequence[int],
    latest: int,
    max_line: int,
    keys: KeyTable,
    out: Any,
) -> tuple[Status, int]:
    """Scan the CSV lines of data[start:end] (a uint8 array; `start` at a line's start, `end` after a
    newline or at the file's end) of `columns` fields, `at` giving the columns of the time, the value, the
    declared type, the count and the sighting type (-1: none): (status, how many lines are listed in
    `out`, an (n, 2) int64 array of line starts and ends). `latest` is the `time_ordinal` of the latest
    time accepted. Releases the GIL."""
    status, listed = _scan_csv(
        data, start, end, columns, np.array(at, np.int64), latest, max_line, *keys.arrays(), out
    )
    return Status(status), int(listed)


def scan_jsonl(
    data: Any, start: int, end: int, latest: int, max_line: int, keys: KeyTable, out: Any
) -> tuple[Status, int]:
    """As `scan_csv`, for JSON lines."""
    status, listed = _scan_jsonl(data, start, end, latest, max_line, *keys.arrays(), out)
    return Status(status), int(listed)
