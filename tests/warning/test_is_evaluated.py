"""`is_evaluated` (issue 7, the pattern index): whether a pattern must be evaluated rather than matched by
value, decided without parsing it, agrees with `match_keys` on every valid pattern."""

from __future__ import annotations

from hypothesis import event, given, settings
from hypothesis import strategies as st

from gesher.stix.patterns import pattern_error
from gesher.warning.indicators import is_evaluated, match_keys

LITERALS = st.one_of(
    st.sampled_from(
        ["evil.example", "EVIL.example.", "198.51.100.7", "203.0.113.0/24", "2001:db8::1", "x y"]
    ),
    st.text(alphabet="abcdef0123456789ABCDEF.:/%-_", max_size=70),
)
VALUE_PATHS = ["domain-name:value", "ipv4-addr:value", "ipv6-addr:value", "url:value", "email-addr:value"]
PATHS = st.sampled_from(
    [*VALUE_PATHS, "file:hashes.MD5", "file:hashes.'SHA-256'", "file:hashes.'SHA-1'", "file:name", "x:value"]
)
OPERATORS = st.sampled_from(["=", "=", "=", "!=", "LIKE", "MATCHES", ">", "ISSUBSET"])


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """Patterns of 1-3 observations of 1-3 comparisons; half of them ORs of equalities on values (the
    shape `match_keys` matches by value), so both answers are drawn often."""
    plain = draw(st.booleans())
    paths = st.sampled_from([*VALUE_PATHS, "file:hashes.MD5"]) if plain else PATHS
    operators = st.just("=") if plain else OPERATORS
    joins = st.just("OR") if plain else st.sampled_from(["OR", "AND"])

    def comparison() -> str:
        literal = draw(LITERALS).replace("\\", "\\\\").replace("'", "\\'")
        return f"{draw(paths)} {draw(operators)} '{literal}'"

    def observation() -> str:
        return "[" + f" {draw(joins)} ".join(comparison() for _ in range(draw(st.integers(1, 3)))) + "]"

    between = st.just("OR") if plain else st.sampled_from(["OR", "AND", "FOLLOWEDBY"])
    return f" {draw(between)} ".join(observation() for _ in range(draw(st.integers(1, 3))))


@settings(max_examples=400, deadline=None)
@given(patterns())
def test_is_evaluated_agrees_with_match_keys_on_valid_patterns(pattern: str) -> None:
    if pattern_error(pattern) is None:
        evaluated = is_evaluated(pattern)
        event(f"evaluated: {evaluated}")
        assert evaluated == match_keys(pattern).evaluate, pattern


def test_examples() -> None:
    assert not is_evaluated("[domain-name:value = 'EVIL.example.'] OR [ipv4-addr:value = '198.51.100.7']")
    assert is_evaluated("[ipv4-addr:value = '203.0.113.0/24']")  # a network: evaluated, not a value
    assert is_evaluated("[domain-name:value LIKE '%.evil.example']")
    assert is_evaluated("[file:hashes.MD5 = 'not a hash']")
