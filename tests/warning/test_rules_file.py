"""The alert rules file (issue 7, "Alert rules in settings"): YAML or JSON read into a `RuleSet`, every
mistake reported at its line and column, all at once; dumping any valid rule set reads back equal; random
bytes raise nothing but the file's error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gesher.errors import InvalidRequest
from gesher.warning.rules import DEFAULT_RULESET, AlertRule, Level, RuleSet
from gesher.warning.rules_file import (
    MAX_WINDOW,
    AlertRulesError,
    dump_rules,
    format_duration,
    load_rules,
    parse_rules,
)

# Issue 7's defaults, written out: the error cases below change one thing in it. Keep the lines as they are.
BASE = """\
k: 3
min_reporters: 2
false_positive_max_reporters: 2
clock_skew: 5m
rules:
  - {level: 1, name: fast spread, window: 1h, partners: 2}
  - {level: 2, name: campaign, window: 24h, partners: 3, sectors: 2}
  - {level: 3, name: national, window: 72h, partners: 5, sectors: 3, critical_infrastructure: true}
"""


def errors(text: str) -> list[str]:
    with pytest.raises(AlertRulesError) as info:
        parse_rules(text)
    return info.value.errors


def only_error(text: str) -> str:
    found = errors(text)
    assert len(found) == 1, found
    return found[0]


def test_issue_7s_defaults_written_out_are_the_defaults() -> None:
    assert parse_rules(BASE) == DEFAULT_RULESET
    assert parse_rules(dump_rules(DEFAULT_RULESET)) == DEFAULT_RULESET


def test_json_is_read_too() -> None:
    text = '{"rules": [{"level": 1, "window": "90m", "partners": 3}], "clock_skew": "0s"}'
    ruleset = parse_rules(text, k=4)
    rule = AlertRule(Level.FAST_SPREAD, "fast spread", timedelta(minutes=90), min_reporters=3)
    assert ruleset == RuleSet(rules=(rule,), k=4, clock_skew=timedelta(0))


def test_k_comes_from_the_file_when_it_sets_one_else_from_the_setting() -> None:
    assert parse_rules(BASE, k=7).k == 3  # the file is the whole truth
    assert parse_rules(BASE.replace("k: 3\n", ""), k=7).k == 7
    assert parse_rules(BASE.replace("k: 3\n", "")).k == 3


def test_rules_are_kept_in_level_order_whatever_the_file_order() -> None:
    text = (
        "rules:\n  - {level: 3, window: 3d, critical_infrastructure: true}\n"
        "  - {level: 1, window: 2h, partners: 4}\n"
    )
    ruleset = parse_rules(text)
    assert [r.level for r in ruleset.rules] == [Level.FAST_SPREAD, Level.NATIONAL]
    assert [r.describe() for r in ruleset.rules] == [
        "L1 fast spread: 4 partners within 2 h",
        "L3 national: any critical-infrastructure operator within 72 h",
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("k: 3", "k: 0", "1:4: k: must be at least 1, not 0"),
        ("k: 3", "k: three", "1:4: k: must be a whole number from 1 to 100000 (got 'three')"),
        ("k: 3", "k: 3.0", "1:4: k: must be a whole number"),
        ("k: 3", "k: 0x3", "1:4: k: must be a whole number"),
        ("k: 3", "k: [3]", "1:4: k: must be a single value, not a list"),
        (
            "min_reporters: 2",
            "min_reporters: 1",
            "2:16: min_reporters: must be at least 2: one partner alone",
        ),
        ("false_positive_max_reporters: 2", "false_positive_max_reporters: -1", "3:31: false_positive_"),
        ("clock_skew: 5m", "clock_skew: 1:30", "4:13: clock_skew: '1:30' is not a duration like 90m"),
        ("clock_skew: 5m", "clock_skew: 2d", "4:13: clock_skew: must be at most 1d, not 2d"),
        ("clock_skew: 5m", "clock_skew: 5 m", "4:13: clock_skew: '5 m' is not a duration"),
        ("level: 1,", "level: 4,", "6:13: rules[0].level: '4' is not a level (1 fast spread"),
        ("level: 1,", "level: one,", "6:13: rules[0].level: 'one' is not a level"),
        ("window: 1h", "window: 0h", "6:43: rules[0].window: must be at least 1s, not 0h"),
        ("window: 1h", "window: 1w", "6:43: rules[0].window: '1w' is not a duration"),
        ("window: 72h", "window: 31d", "8:40: rules[2].window: must be at most 30d, not 31d"),
        ("partners: 2}", "partners: 1}", "6:57: rules[0].partners: must be at least 2, not 1 (min_reporters"),
        ("sectors: 2}", "sectors: 0}", "7:67: rules[1].sectors: must be at least 1, not 0"),
        (
            "critical_infrastructure: true",
            "critical_infrastructure: yes",
            "8:95: rules[2].critical_infrastructure: must be true or false",
        ),
        ("name: campaign", "name: '#1'", "7:22: rules[1].name: '#1' is not a rule name"),
        ("name: campaign", "nmae: campaign", "7:16: rules[1]: unknown key 'nmae'; did you mean 'name'?"),
        ("k: 3", "kk: 3", "1:1: unknown key 'kk'; did you mean 'k'?"),
        ("clock_skew: 5m", "clockskew: 5m", "4:1: unknown key 'clockskew'; did you mean 'clock_skew'?"),
        ("level: 3, ", "", "8:5: rules[2]: missing required key 'level'"),
        ("window: 24h, ", "", "7:5: rules[1]: missing required key 'window'"),
        ("level: 2,", "level: 1,", "7:13: rules[1].level: level 1 is given twice (first as rules[0])"),
        ("window: 24h", "window: 30m", "7:40: rules[1].window: L2's window (30m) is shorter than L1's (1h)"),
        ("k: 3", "k: 3\nk: 4", "2:1: k: duplicate key 'k' (first on line 1)"),
        ("k: 3", "k: !!int 3", "1:4: tags (tag:yaml.org,2002:int) are not allowed in a rules file"),
    ],
)
def test_each_mistake_is_reported_at_its_line_and_column(old: str, new: str, expected: str) -> None:
    assert old in BASE
    error = only_error(BASE.replace(old, new, 1))
    assert error.startswith(f"alert-rules.yaml:{expected}"), error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "1:1: the rules file is empty"),
        ("# nothing\n", "1:1: the rules file is empty"),
        ("- level: 1\n", "1:1: the top level must be a mapping of k, min_reporters"),
        ("k: 3\n", "1:1: missing required key 'rules'"),
        ("rules: []\n", "1:8: rules: is an empty list"),
        ("rules: {level: 1}\n", "1:8: rules: must be a list, not a mapping"),
        ("rules:\n  - 1\n", "2:5: rules[0]: must be a mapping, not '1'"),
        ("rules:\n  - {level: 1, window: 1h}\n", "2:5: rules[0]: has no branch"),
        (
            "rules:\n  - {level: 1, window: 1h, critical_infrastructure: false}\n",
            "2:5: rules[0]: has no branch",
        ),
        ("rules:\n  - &a {level: 1, window: 1h, partners: 2}\n", "2:5: anchors (&a) are not allowed"),
        ("rules: [\n", "2:1: YAML syntax error"),
        ("rules: x\x07\n", "1:9: character U+0007"),
        ("k: 1\n---\nk: 2\n", "2:1: a rules file holds one YAML document"),
        ("rules: " + "[" * 50 + "\n", "1:"),
    ],
)
def test_structural_mistakes(text: str, expected: str) -> None:
    assert errors(text)[0].startswith(f"alert-rules.yaml:{expected}")


def test_every_problem_is_reported_at_once_in_file_order() -> None:
    text = BASE.replace("k: 3", "k: 0").replace("level: 3", "level: 9").replace("partners: 3", "partners: x")
    found = errors(text)
    assert [e.split(": ")[0] for e in found] == [
        "alert-rules.yaml:1:4",
        "alert-rules.yaml:7:55",
        "alert-rules.yaml:8:13",
    ]


def test_merge_keys_and_aliases_are_refused() -> None:
    text = "rules:\n  - {<<: {level: 1}, window: 1h, partners: 2}\n"
    assert any("2:6: rules[0]: merge keys (<<) are not allowed in a rules file" in e for e in errors(text))
    text = "x: &w 1h\nrules:\n  - {level: 1, window: *w, partners: 2}\n"
    found = errors(text)
    assert any("anchors" in e for e in found) and any("aliases" in e for e in found)


def test_the_error_is_an_invalid_request_carrying_every_problem() -> None:
    with pytest.raises(AlertRulesError) as info:
        parse_rules("k: 0\nrules: []\n", source="ops.yaml")
    exc = info.value
    assert isinstance(exc, InvalidRequest) and exc.title == "Invalid alert rules file"
    assert exc.errors == [
        "ops.yaml:1:4: k: must be at least 1, not 0",
        "ops.yaml:2:8: rules: is an empty list: remove it or add entries",
    ]
    assert (exc.line, exc.column, exc.path) == (1, 4, "k")


def test_load_rules_reads_a_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(BASE)
    assert load_rules(path, 5) == DEFAULT_RULESET
    path.write_text(BASE.replace("k: 3", "k: none"))
    with pytest.raises(AlertRulesError, match=r"^rules\.yaml:1:4: k: "):
        load_rules(path)
    with pytest.raises(AlertRulesError, match=r"^absent\.yaml: cannot read"):
        load_rules(tmp_path / "absent.yaml")
    path.write_bytes(b"k: 3\n#" + b"x" * (1 << 20))
    with pytest.raises(AlertRulesError, match="larger than 1 MiB, which no rules file needs"):
        load_rules(path)
    path.write_bytes("rules:\n  - {level: 1, name: caf\u00e9}\n".encode("latin-1"))
    with pytest.raises(AlertRulesError, match=r"^rules\.yaml:2:25: not UTF-8 \(byte 0xe9\)"):
        load_rules(path)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (90 * 60, "90m"), (3600, "1h"), (86400, "1d"), (0, "0s"), (3601, "3601s")],
)
def test_durations_are_written_in_their_largest_exact_unit(seconds: int, text: str) -> None:
    assert format_duration(timedelta(seconds=seconds)) == text


# -- properties --------------------------------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ._+-]{0,20}", fullmatch=True).map(str.rstrip).filter(bool)
WINDOWS = st.integers(min_value=1, max_value=int(MAX_WINDOW.total_seconds())).map(
    lambda s: timedelta(seconds=s)
)


@st.composite
def rulesets(draw: st.DrawFn) -> RuleSet:
    floor = draw(st.integers(min_value=2, max_value=6))
    levels = sorted(draw(st.sets(st.sampled_from(list(Level)[1:]), min_size=1)))
    windows = sorted(draw(st.lists(WINDOWS, min_size=len(levels), max_size=len(levels))))
    rules = []
    for level, window in zip(levels, windows, strict=True):
        partners = draw(st.none() | st.integers(min_value=floor, max_value=50))
        sectors = draw(st.none() | st.integers(min_value=1, max_value=20))
        critical = draw(st.booleans()) or (partners is None and sectors is None)
        rules.append(AlertRule(level, draw(NAMES), window, partners, sectors, critical))
    return RuleSet(
        rules=tuple(rules),
        k=draw(st.integers(min_value=1, max_value=20)),
        min_reporters=floor,
        false_positive_max_reporters=draw(st.integers(min_value=0, max_value=10)),
        clock_skew=timedelta(seconds=draw(st.integers(min_value=0, max_value=86400))),
    )


@settings(max_examples=300, deadline=None)
@given(rulesets())
def test_any_valid_rule_set_dumped_reads_back_equal(ruleset: RuleSet) -> None:
    assert parse_rules(dump_rules(ruleset)) == ruleset


LINES = BASE.splitlines()
YAMLISH = st.text(
    alphabet=st.sampled_from(list("aZ09 :-,[]{}&*!|>'\"#%@`?<=.~\t\\\n\x00\x85\u2028é")), max_size=12
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300) | YAMLISH.map(str.encode))
def test_random_bytes_raise_only_the_file_error(
    data: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("rules") / "random.yaml"
    path.write_bytes(data)
    try:
        load_rules(path)
    except AlertRulesError as exc:
        assert exc.errors and all(e.startswith("random.yaml") for e in exc.errors)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_splices_of_a_valid_file_raise_only_the_file_error(data: st.DataObject) -> None:
    position = data.draw(st.integers(min_value=0, max_value=len(BASE)))
    cut = data.draw(st.integers(min_value=0, max_value=8))
    junk = data.draw(YAMLISH | st.sampled_from(["<<: {}", "&a x", "*a", "!!str ", "---\n", "\n  - "]))
    try:
        parse_rules(BASE[:position] + junk + BASE[position + cut :])
    except AlertRulesError as exc:
        assert exc.errors
