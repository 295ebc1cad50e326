"""The fast path of `pattern_error` must never accept what the OASIS reference validator rejects, and
`pattern_error` as a whole must agree with it exactly. Patterns are generated from a small grammar that
leans on the lexer's corners (keywords as names, quotes and backslashes, hyphens, odd whitespace,
number shapes, hash lengths), then mutated a character at a time."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from stix2patterns.v21.pattern import Pattern
from stix2patterns.validator import validate

from gesher.stix.patterns import _ANY_COMPARISON, _FAST, _fast_ok, pattern_error, pattern_object_types_error


def reference_ok(pattern: str) -> bool:
    try:
        ok, _ = validate(pattern, stix_version="2.1", ret_errs=True, print_errs=False)
    except Exception:  # the reference crashes on a few inputs; a crash is a rejection
        return False
    return bool(ok)


def reference_types_ok(pattern: str) -> bool:
    """The object types the reference inspector finds are all STIX type names."""
    return all(
        3 <= len(t) <= 250 and re.fullmatch(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*", t)
        for t in Pattern(pattern).inspect().comparisons
    )


def check(pattern: str) -> None:
    fast = _fast_ok(_FAST, pattern)
    ref = reference_ok(pattern)
    if fast:
        assert ref, f"fast path accepted what the reference rejects: {pattern!r}"
        found = {m.group(1) for m in _ANY_COMPARISON.finditer(pattern)}
        assert found == set(Pattern(pattern).inspect().comparisons)
    assert (pattern_error(pattern) is None) == ref, pattern
    assert (pattern_object_types_error(pattern) is None) == (ref and reference_types_ok(pattern)), pattern


# --- a small grammar ---------------------------------------------------------------------------------


@st.composite
def _mostly(draw: st.DrawFn, good: st.SearchStrategy[str], odd: st.SearchStrategy[str]) -> str:
    """Nine draws in ten from `good`, so that many generated patterns reach the fast path's edges."""
    return draw(odd) if draw(st.integers(0, 9)) == 0 else draw(good)


_TYPES = _mostly(
    st.sampled_from(["file", "domain-name", "network-traffic", "x-foo", "app", "android-property", "url"]),
    st.one_of(
        st.sampled_from(
            [
                "File",
                "x_y",
                "x-",
                "_",
                "t",
                "h",
                "b",
                "AND",
                "OR",
                "IN",
                "INx",
                "IN-x",
                "true",
                "LIKE",
                "a1",
                "1a",
                "x--y",
                "-x",
                "x.y",
            ]
        ),
        st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True),
    ),
)
_NAMES = _mostly(
    st.sampled_from(
        ["name", "value", "hashes", "id", "cert", "extensions", "MD5", "sha256", "request_method"]
    ),
    st.one_of(
        st.sampled_from(
            ["SHA256", "true", "false", "AND", "NOT", "EXISTS", "LAST", "in", "x-y", "_", "9a", "TIMES"]
        ),
        st.from_regex(r"[A-Za-z0-9_-]{1,5}", fullmatch=True),
    ),
)
_STRING_BODY = st.text(alphabet=st.sampled_from(list("aA0 '\\\"-.:/\n\t\u00e9\u2028\U0001f600")), max_size=8)
_QUOTED = _mostly(
    _STRING_BODY.map(lambda s: "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"),
    _STRING_BODY.map(lambda s: "'" + s + "'"),
)
_HEX = st.integers(0, 130).flatmap(
    lambda n: st.text(alphabet="0123456789abcdefABCDEFg", min_size=n, max_size=n)
)
_LITERALS = _mostly(
    st.one_of(
        _QUOTED, st.sampled_from(["0", "1", "-1", "+1", "1.5", ".5", "-.5", "+0.0", "10", "-0", "true"])
    ),
    st.one_of(
        _HEX.map(lambda h: f"'{h}'"),
        st.sampled_from(
            [
                "01",
                "1.",
                "1e5",
                "1_0",
                "false",
                "TRUE",
                "True",
                "h'ab'",
                "h'a'",
                "b'YWJj'",
                "b''",
                "t'2020-01-01T00:00:00Z'",
                "t'2020-13-01T00:00:00Z'",
                "('a', 'b')",
                "()",
                "''",
                "'\\\\'",
                "'\\''",
            ]
        ),
    ),
)
_WS = _mostly(
    st.sampled_from(["", " ", "  "]),
    st.sampled_from(["\t", "\n", "\r\n", "\u00a0", "\x0b", "/* c */", "\x1c"]),
)
_WS_REQUIRED = _mostly(st.just(" "), st.sampled_from(["\t", "\n", " /* c */ ", ""]))
_STEPS = st.lists(
    _mostly(
        st.one_of(
            _NAMES.map(lambda n: "." + n), _QUOTED.map(lambda q: "." + q), st.sampled_from(["[*]", "[0]"])
        ),
        st.sampled_from(
            ["[1]", "[+1]", "[-1]", "[01]", ".'SHA-256'", ".'MD5'", ".'\u017fha1'", ". x", "[ * ]"]
        ),
    ),
    max_size=3,
)
_OPERATORS = _mostly(
    st.sampled_from(["=", "==", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "MATCHES"]),
    st.sampled_from(["IN", "NOT =", "NOT LIKE", "ISSUBSET", "like", "= =", "=>", "=<"]),
)


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    type_ = draw(_TYPES)
    first = draw(st.one_of(_NAMES, _NAMES, _QUOTED))
    steps = "".join(draw(_STEPS))
    if draw(st.integers(0, 3)) == 0:  # the shape the reference checks: a hash of a known algorithm
        type_, first = "file", "hashes"
        steps = draw(
            st.sampled_from([".MD5", ".'SHA-256'", ".sha1", ".SSDEEP", ".'MD6'", ".x", "[*]", "[0]"])
        )
    operator = draw(_OPERATORS)
    sep = draw(_WS_REQUIRED) if operator[0].isalpha() else draw(_WS)
    return f"{type_}:{first}{steps}{sep}{operator}{draw(_WS)}{draw(_LITERALS)}"


@st.composite
def observations(draw: st.DrawFn, qualifiers: bool = True) -> str:
    parts = draw(st.lists(comparisons(), min_size=1, max_size=3))
    body = parts[0]
    for part in parts[1:]:
        joiner = draw(
            _mostly(st.sampled_from(["AND", "OR"]), st.sampled_from(["and", "FOLLOWEDBY", "ANDOR"]))
        )
        body += draw(_WS_REQUIRED) + joiner + draw(_WS_REQUIRED) + part
    text = draw(_WS) + "[" + draw(_WS) + body + draw(_WS) + "]" + draw(_WS)
    if not qualifiers:
        return text
    qualifier = draw(
        st.sampled_from(
            [
                "",
                "",
                "",
                " WITHIN 5 SECONDS",
                " REPEATS 2 TIMES",
                " WITHIN 5 SECONDS WITHIN 6 SECONDS",
                " START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'",
                " WITHIN -1 SECONDS",
            ]
        )
    )
    return text + qualifier


@st.composite
def patterns(draw: st.DrawFn) -> str:
    items = draw(st.lists(observations(), min_size=1, max_size=2))
    joiner = draw(st.sampled_from([" AND ", " OR ", " FOLLOWEDBY "]))
    text = joiner.join(items)
    return "(" + text + ")" if draw(st.booleans()) and len(items) > 1 else text


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A single observation (the fast path's shape) with one or two characters inserted or deleted."""
    pattern = draw(observations(qualifiers=False))
    for _ in range(draw(st.integers(1, 2))):
        i = draw(st.integers(0, len(pattern)))
        if draw(st.booleans()) and i < len(pattern):
            pattern = pattern[:i] + pattern[i + 1 :]
        else:
            pattern = pattern[:i] + draw(st.sampled_from(list("'\\[]:.=<>!- aA0_\n(*"))) + pattern[i:]
    return pattern


_SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(patterns())
def test_generated_patterns_agree_with_reference(pattern: str) -> None:
    check(pattern)


@_SETTINGS
@given(mutated())
def test_mutated_patterns_agree_with_reference(pattern: str) -> None:
    check(pattern)


@_SETTINGS
@given(comparisons())
@example("file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e'")
@example("file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427'")
def test_single_comparisons_agree_with_reference(comparison: str) -> None:
    check("[" + comparison + "]")


# --- fixed cases ---------------------------------------------------------------------------------------

REAL_SHAPES = [
    "[domain-name:value='weather4free.com']",
    "[process:name='fservernetd']",
    "[email-addr:value='bogaardlisa803@gmail.com']",
    "[file:path='/data/local/tmp/wd/fs.db']",
    "[app:id='com.gu.activity']",
    "[file:hashes.sha256='d55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af']",
    "[android-property:name='sys.brand.note']",
    "[app:cert.sha256='3ac97735164824657b683e805133b1274b2dedabf9fdd6aa9aca31089d501e64']",
    "[configuration-profile:id='76DAB334-7E17-475D-A5D6-0794EB5818A5']",
    "[file:hashes.'SHA-256' = 'd55e492d5fce87898e065572a5553d1ac1389cd12bf3d28cabc1218cb29780af']",
    "[network-traffic:extensions.'http-request-ext'.request_method = 'get']",
    "[email-message:to_refs[*].value = 'a@b.c' AND email-message:subject LIKE 'Invoice%']",
    "[url:value MATCHES '^https?://x\\\\.y/' OR url:value = 'http://it\\'s.example/']",
    "[x-acme-widget:size >= -1.5]",
    "[file:size > 10 AND file:name != 'a']",
]


@pytest.mark.parametrize("pattern", REAL_SHAPES)
def test_common_shapes_take_the_fast_path_and_are_valid(pattern: str) -> None:
    assert _fast_ok(_FAST, pattern)
    check(pattern)


INVALID = [
    ("", "could not be parsed"),
    ("file:name = 'x'", "missing square brackets"),
    ("[file:name = 'x'", "missing ']'"),
    ("[file:name = 'x'] #", "extraneous input"),
    ("[file:hashes.MD5 = 'x']", "not a valid MD5 hash"),
    ("[file:hashes.'SHA-256' = 'abc']", "not a valid SHA-256 hash"),
    ("[file:hashes[0] = 'x']", "could not be parsed"),
    ("[x:y = 'a\\x']", "mismatched input"),
    ("[x:true = 1]", "no viable alternative"),
    ("[x:y < true]", "mismatched input"),
    ("[x:y = 01]", "extraneous input"),
    ("[x:y = 'a'] WITHIN 1 SECONDS WITHIN 2 SECONDS", "Duplicate qualifier type"),
]


@pytest.mark.parametrize(("pattern", "fragment"), INVALID)
def test_invalid_patterns_report_the_reference_reason(pattern: str, fragment: str) -> None:
    reason = pattern_error(pattern)
    assert reason is not None
    assert fragment in reason
    assert "\n" not in reason
    assert not reference_ok(pattern)


def test_reasons_are_one_line_and_bounded() -> None:
    reason = pattern_error("[x:y = 'a'\n\n" + "x" * 5000)
    assert reason is not None
    assert "\n" not in reason
    assert len(reason) <= 300


def test_object_type_names_must_be_stix_type_names() -> None:
    assert pattern_object_types_error("[file:name = 'x']") is None
    assert pattern_object_types_error("[x-acme-widget:name = 'x' AND app:id = 'y']") is None
    assert pattern_object_types_error("[file:name = 'x'] FOLLOWEDBY [url:value = 'y']") is None
    for bad in ("[File:name = 'x']", "[x_y:name = 'x']", "[x-:name = 'x']", "[fi:name = 'x']"):
        reason = pattern_object_types_error(bad)
        assert reason is not None
        assert "not a valid STIX type name" in reason
    # the slow path inspects the pattern for its types too
    reason = pattern_object_types_error("[file:name = 'x'] FOLLOWEDBY [File:name = 'y']")
    assert reason is not None
    assert "'File'" in reason
    assert pattern_object_types_error("[file:name = ") is not None
