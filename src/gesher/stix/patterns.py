"""STIX 2.1 patterning language (STIX 2.1 part 9) validation.

The reference is the OASIS validator, `stix2patterns.validator.validate` (an ANTLR parser plus a few
semantic checks). It manages a few thousand patterns a second, too slow for bulk ingest, so
`pattern_error` first tries a conservative fast path: one precompiled regular expression for the
overwhelmingly common shape, a single observation expression

    [ object-path comparator literal ( AND|OR object-path comparator literal )* ]

(over a million real patterns a second). What the fast path recognises, the reference accepts;
anything else, valid or not, goes to the reference, so the answers are the reference's (the tests
check this with generated and mutated patterns). The regular expression copies the v21 grammar's lexer
rules (`STIXPattern.g4` in oasis-open/cti-stix2-json-schemas, generated into
`stix2patterns/v21/grammars`), restricted where the lexer's longest-match rule could tokenise
differently:

- object type: `[a-zA-Z_][a-zA-Z0-9_-]*` (IdentifierWithHyphen); property names and unquoted path steps:
  `[a-zA-Z_][a-zA-Z0-9_]*` (IdentifierWithoutHyphen); neither may be a keyword (`AND`, `true`, ...),
  which the lexer would emit as the keyword instead;
- quoted path steps and string literals: `'` ( any character but `'` and `\\` | `\\'` | `\\\\` )* `'`;
- index steps `[*]` and `[n]` with n >= 0 (a negative index crashes the reference's inspector);
- literals: string, integer, float, `true`/`false` (with `=`/`!=` only: booleans are not orderable);
  hex, binary and timestamp literals go to the reference;
- whitespace only ` \\t\\r\\n`, and it is required around `AND`, `OR`, `LIKE`, `MATCHES`, where the lexer
  would otherwise glue an identifier or boolean to the keyword; comments go to the reference.

Beyond syntax the v21 reference checks duplicated qualifiers (none on the fast path) and that a value
compared with `...hashes.<algorithm>` looks like that algorithm's hash (`object_validator.verify_object`);
the fast path applies that very check, with the reference's own table and its exact quirks. Nothing is
cached.
"""

from __future__ import annotations

import re
from typing import Final

from stix2patterns.v21.object_validator import HASHES_REGEX

_KEYWORDS: Final = (
    "AND|OR|NOT|FOLLOWEDBY|LIKE|MATCHES|ISSUPERSET|ISSUBSET|EXISTS|LAST|IN|START|STOP|SECONDS|true|false"
    "|WITHIN|REPEATS|TIMES"
)
_WS: Final = r"[ \t\r\n]"
_STRING: Final = r"'[^'\\]*(?:\\['\\][^'\\]*)*'"  # ( ~['\\] | \\' | \\\\ )*, loop unrolled
_TYPE: Final = rf"(?!(?:{_KEYWORDS})(?![A-Za-z0-9_-]))[A-Za-z_][A-Za-z0-9_-]*"
# The same, narrowed to STIX type names (STIX 2.1 section 3.1): a-z, 0-9, single inner hyphens, 3-250.
_STIX_TYPE: Final = r"(?!(?:true|false):)(?=[a-z0-9-]{3,250}:)[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
_NAME: Final = rf"(?!(?:{_KEYWORDS})(?![A-Za-z0-9_]))[A-Za-z_][A-Za-z0-9_]*"
_STEP: Final = rf"\.(?:{_NAME}|{_STRING})|\[(?:\*|\+?(?:0|[1-9][0-9]*))\]"
_NUMBER: Final = r"[+-]?[0-9]*\.[0-9]+|[+-]?(?:0|[1-9][0-9]*)"


def _comparison(type_: str) -> str:
    """One comparison. Groups: type, first path component, further steps, the literal's raw text."""
    return (
        rf"({type_}):({_NAME}|{_STRING})((?:{_STEP})*)"
        rf"(?:{_WS}*(?:==?|!=|<>){_WS}*({_STRING}|{_NUMBER}|true|false)"
        rf"|{_WS}*[<>]=?{_WS}*({_STRING}|{_NUMBER})"
        rf"|{_WS}+(?:LIKE|MATCHES){_WS}*({_STRING}))"
    )


def _observation(type_: str) -> re.Pattern[str]:
    one = _comparison(type_)
    return re.compile(rf"{_WS}*\[{_WS}*{one}(?:{_WS}+(?:AND|OR){_WS}+{one})*{_WS}*\]{_WS}*")


_FAST = _observation(_TYPE)
_FAST_STIX_TYPES = _observation(_STIX_TYPE)  # matches a subset of what _FAST matches
# In a pattern _FAST matched, successive searches find exactly its comparisons: nothing between them
# (whitespace, AND, OR, brackets) can start one, and each match is the one made inside _FAST.
_ANY_COMPARISON = re.compile(_comparison(_TYPE))
_PATH_STEP = re.compile(rf"\.({_NAME}|{_STRING})|\[(\*|\+?[0-9]+)\]")
_STIX_TYPE_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")

_HASH_REGEXES: Final = {name: re.compile(spec[0]) for name, spec in HASHES_REGEX.items()}
_MAX_REASON = 300
_STAR: Final = object()  # an `[*]` index step, as in stix2patterns.inspector.INDEX_STAR


def pattern_error(pattern: str) -> str | None:
    """None if `pattern` is a valid STIX 2.1 pattern, else the reason (the reference validator's first
    error, on one line). Agrees with `stix2patterns.validator.validate(pattern, '2.1')`; a pattern that
    makes the reference raise is reported invalid."""
    if _fast_ok(_FAST, pattern):
        return None
    return _reference_error(pattern)


def pattern_object_types_error(pattern: str) -> str | None:
    """`pattern_error`, plus: every object type the pattern names must be a valid STIX type name
    (STIX 2.1 section 3.1, the rule for `type` values). The grammar allows `File:name` or `x_y:z`; the
    OASIS `stix2-validator` rejects them, and so does a strict exchange."""
    if _fast_ok(_FAST_STIX_TYPES, pattern):
        return None
    reason = pattern_error(pattern)
    if reason is not None:
        return reason
    if _FAST.fullmatch(pattern):
        types = [m.group(1) for m in _ANY_COMPARISON.finditer(pattern)]
    else:
        types = _reference_object_types(pattern)
    for t in types:
        if not (3 <= len(t) <= 250 and _STIX_TYPE_NAME.fullmatch(t)):
            return f"pattern object type {t!r} is not a valid STIX type name"
    return None


def _fast_ok(observation: re.Pattern[str], pattern: str) -> bool:
    """True if the fast path recognises `pattern` (then the reference accepts it too)."""
    if observation.fullmatch(pattern) is None:
        return False
    if "hashes" not in pattern:
        return True
    return all(_hashes_ok(m) for m in _ANY_COMPARISON.finditer(pattern))


def _hashes_ok(m: re.Match[str]) -> bool:
    """The reference's hash check (`stix2patterns.v21.object_validator.verify_object`) on one comparison:
    when a path component is `hashes` and the last one a name found (after `.upper()`, dropping `-` and
    `'`) in its table, the literal's raw text without `'` must `re.match` that algorithm's regex."""
    if "hashes" not in m.group(2) + m.group(3):
        return True
    path: list[object] = [_unquote(m.group(2))]
    for step in _PATH_STEP.finditer(m.group(3)):
        name, index = step.groups()
        path.append(_unquote(name) if name is not None else _STAR if index == "*" else int(index))
    if "hashes" not in path:
        return True
    selector = path[-1]
    if selector is _STAR:
        return True
    if not isinstance(selector, str):  # an integer index: the reference crashes on `.upper()`
        return False
    algorithm = selector.upper().replace("-", "").replace("'", "")
    regex = _HASH_REGEXES.get(algorithm)
    if regex is None:
        return True
    literal = m.group(4) or m.group(5) or m.group(6) or ""
    return regex.match(literal.replace("'", "")) is not None


def _unquote(text: str) -> str:
    """As `stix2patterns.inspector._string_literal_to_string`, quirks included."""
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return text


def _reference_error(pattern: str) -> str | None:
    from stix2patterns.validator import validate  # imported late: ANTLR start-up is not free

    try:
        ok, errors = validate(pattern, stix_version="2.1", ret_errs=True, print_errs=False)
    except Exception as exc:  # the reference crashes on a few inputs, e.g. '' and `file:hashes[0]`
        return _one_line(f"pattern could not be parsed ({type(exc).__name__}: {exc})")
    if ok:
        return None
    return _one_line(str(errors[0]).removeprefix("FAIL: ")) if errors else "invalid pattern"


def _reference_object_types(pattern: str) -> list[str]:
    from stix2patterns.v21.pattern import Pattern

    try:
        return list(Pattern(pattern).inspect().comparisons)
    except Exception:  # the validator accepted it; should the inspector disagree, name no type
        return []


def _one_line(text: str) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."
