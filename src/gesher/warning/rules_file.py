"""The alert rules file (GESHER_ALERT_RULES; issue 7, "Alert rules in settings"): YAML (or JSON, which is
YAML) read into a `RuleSet`, with every mistake reported as `file:line:col: path: message`, all at once.

    k: 3                            # k-anonymity: counts are published from this many partners
    min_reporters: 2                # every alert needs this many partners (at least 2)
    false_positive_max_reporters: 2 # a standing false positive suppresses levels with this many or fewer
    clock_skew: 5m                  # how far in the future a sighting's time may be
    rules:                          # one per level, each level at most once
      - {level: 1, name: fast spread, window: 1h, partners: 2}
      - {level: 2, name: campaign, window: 24h, partners: 3, sectors: 2}
      - {level: 3, name: national, window: 72h, partners: 5, sectors: 3, critical_infrastructure: true}

The file is the whole truth: `rules` is required, and the top-level numbers it leaves out take issue 7's
defaults, except `k`, which then comes from GESHER_ALERT_K (the simple case needs no file at all).

Read with the sharing policy's reader (`gesher.policy.yaml_reader`): no YAML 1.1 implicit typing (`on` is
not true, `1:30` is not a number), no anchors, aliases, merge keys or tags, unknown keys refused with the
closest allowed one, at most 1 MiB. Meaning is checked too: levels 1 to 3, each at most once; windows
above zero and not shrinking as the level rises (a higher level is a wider view of the same activity, and
the longest window is how long a token must stay quiet to end its spell); every rule has a branch; a rule's
partner threshold is not below `min_reporters` (it could never fire below it); k at least 1."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Final

import yaml

from gesher.policy.yaml_reader import (
    MAX_FILE_BYTES,
    Bad,
    Entries,
    Node,
    Problem,
    YamlFileError,
    YamlReader,
    boolean,
    found,
    or_default,
    read_text,
)
from gesher.stix.properties import show
from gesher.warning.rules import DEFAULT_RULESET, AlertRule, Level, RuleSet

_TOP_KEYS: Final = ("k", "min_reporters", "false_positive_max_reporters", "clock_skew", "rules")
_RULE_KEYS: Final = ("level", "name", "window", "partners", "sectors", "critical_infrastructure")
_DEFAULT_NAMES: Final = {rule.level: rule.name for rule in DEFAULT_RULESET.rules}
# A window longer than this is refused: correlation reads a token's sightings over the longest window at
# every sighting of it, and a month is already far beyond any rule issue 7 describes.
MAX_WINDOW: Final = timedelta(days=30)
MAX_CLOCK_SKEW: Final = timedelta(hours=24)
_MAX_COUNT: Final = 100_000
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"([0-9]{1,9})([smhd])")
_COUNT = re.compile(r"[0-9]{1,9}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+-]{0,59}")
_BELOW_FLOOR: Final = " (min_reporters: every alert needs that many partners, so the rule could never fire)"


class AlertRulesError(YamlFileError):
    """The alert rules file is not valid. `errors` lists every problem found, in file order, each as
    `source:line:col: path: message`; the message is the first of them."""

    title = "Invalid alert rules file"


def parse_rules(text: str, k: int = DEFAULT_RULESET.k, source: str = "alert-rules.yaml") -> RuleSet:
    """The rule set an alert rules file's text describes (k-anonymity threshold `k` unless the file sets
    one); AlertRulesError listing every problem otherwise."""
    reader = _Reader(source)
    root = reader.document(text)
    ruleset = reader.ruleset(root, k) if root is not None else None
    if reader.problems or ruleset is None:
        raise AlertRulesError(reader.problems or [Problem(source, 1, 1, "", "not an alert rules file")])
    return ruleset


def load_rules(path: Path, k: int = DEFAULT_RULESET.k) -> RuleSet:
    """Read and parse an alert rules file: at most 1 MiB of UTF-8, errors named by the file's name."""
    return parse_rules(read_text(path, AlertRulesError, "rules file", MAX_FILE_BYTES), k, path.name)


def dump_rules(ruleset: RuleSet) -> str:
    """An alert rules file (YAML) that `parse_rules` reads back into `ruleset`, k included."""
    lines = [
        f"k: {ruleset.k}",
        f"min_reporters: {ruleset.min_reporters}",
        f"false_positive_max_reporters: {ruleset.false_positive_max_reporters}",
        f"clock_skew: {format_duration(ruleset.clock_skew)}",
        "rules:",
    ]
    for rule in sorted(ruleset.rules, key=lambda r: r.level):
        lines += [f"  - level: {int(rule.level)}", f"    name: '{rule.name}'"]
        lines.append(f"    window: {format_duration(rule.window)}")
        if rule.min_reporters is not None:
            lines.append(f"    partners: {rule.min_reporters}")
        if rule.min_sectors is not None:
            lines.append(f"    sectors: {rule.min_sectors}")
        if rule.critical_infrastructure:
            lines.append("    critical_infrastructure: true")
    return "\n".join(lines) + "\n"


def format_duration(value: timedelta) -> str:
    """A duration in the file's notation, in its largest exact unit: `3d`, `24h`... `90m`, `45s`."""
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


class _Reader(YamlReader):
    what = "rules file"
    max_depth = 4  # the document, the rules list, a rule: nothing nests deeper

    def ruleset(self, root: Node, k: int) -> RuleSet | None:
        if not isinstance(root, yaml.MappingNode):
            self.error(root, "", f"the top level must be a mapping of {', '.join(_TOP_KEYS)}{found(root)}")
            return None
        top = self.mapping(root, "", _TOP_KEYS, required=("rules",))
        if top is None:
            return None
        file_k = self.field(top, "", "k", _Count(1))
        floor = self.field(top, "", "min_reporters", _min_reporters)
        fp_max = self.field(top, "", "false_positive_max_reporters", _Count(0))
        skew = self.field(top, "", "clock_skew", _Duration(timedelta(0), MAX_CLOCK_SKEW))
        min_reporters = or_default(floor, DEFAULT_RULESET.min_reporters)
        rules = self.sequence(top, "rules", lambda node, path: self.rule(node, path, min_reporters))
        self.check_levels(rules)
        if self.problems or "rules" not in top or not rules:
            return None
        return RuleSet(
            rules=tuple(rule for rule, _ in sorted(rules, key=lambda found: found[0].level)),
            k=or_default(file_k, k),
            min_reporters=min_reporters,
            false_positive_max_reporters=or_default(fp_max, DEFAULT_RULESET.false_positive_max_reporters),
            clock_skew=or_default(skew, DEFAULT_RULESET.clock_skew),
        )

    def rule(self, node: Node, path: str, min_reporters: int) -> tuple[AlertRule, Entries] | None:
        entries = self.mapping(node, path, _RULE_KEYS, required=("level", "window"))
        if entries is None:
            return None
        level = self.field(entries, path, "level", _level)
        window = self.field(entries, path, "window", _Duration(timedelta(seconds=1), MAX_WINDOW))
        name = self.field(entries, path, "name", _name)
        partners = self.field(entries, path, "partners", _Count(min_reporters, _BELOW_FLOOR))
        sectors = self.field(entries, path, "sectors", _Count(1))
        critical = self.field(entries, path, "critical_infrastructure", boolean)
        if not any(key in entries for key in ("partners", "sectors")) and critical is not True:
            self.error(
                node,
                path,
                "has no branch: give partners, sectors or critical_infrastructure: true "
                "(a rule that nothing can meet never alerts)",
            )
        if level is None or window is None:
            return None
        rule = AlertRule(
            level=level,
            name=name or _DEFAULT_NAMES[level],
            window=window,
            min_reporters=partners,
            min_sectors=sectors,
            critical_infrastructure=bool(critical),
        )
        return rule, entries

    def check_levels(self, rules: Sequence[tuple[AlertRule, Entries]]) -> None:
        """Each level at most once; a higher level's window at least as long as a lower level's."""
        first: dict[Level, int] = {}
        for i, (rule, entries) in enumerate(rules):
            if rule.level in first:
                self.error(
                    entries["level"][1],
                    f"rules[{i}].level",
                    f"level {int(rule.level)} is given twice (first as rules[{first[rule.level]}])",
                )
            else:
                first[rule.level] = i
        for i, (rule, entries) in enumerate(rules):
            for lower, _ in rules:
                if lower.level < rule.level and lower.window > rule.window:
                    self.error(
                        entries["window"][1],
                        f"rules[{i}].window",
                        f"L{int(rule.level)}'s window ({format_duration(rule.window)}) is shorter than "
                        f"L{int(lower.level)}'s ({format_duration(lower.window)}): a higher level looks at "
                        "least as far back as a lower one",
                    )
                    break


# -- field types: raw scalar text -> value, or Bad -------------------------------------------------------


def _level(raw: str) -> Level:
    if raw in ("1", "2", "3"):
        return Level(int(raw))
    raise Bad(f"{show(raw)} is not a level (1 fast spread, 2 campaign, 3 national)")


def _name(raw: str) -> str:
    if _NAME.fullmatch(raw):
        return raw
    raise Bad(f"{show(raw)} is not a rule name (letters, digits, spaces and ._+-, at most 60)")


def _min_reporters(raw: str) -> int:
    value = _Count(1)(raw)
    if value < 2:
        raise Bad("must be at least 2: one partner alone must never raise an alert")
    return value


class _Count:
    """A whole number from `least` (`why` says why, when it is another setting's value)."""

    def __init__(self, least: int, why: str = "") -> None:
        self.least, self.why = least, why

    def __call__(self, raw: str) -> int:
        if not _COUNT.fullmatch(raw) or int(raw) > _MAX_COUNT:
            raise Bad(f"must be a whole number from {self.least} to {_MAX_COUNT} (got {show(raw)})")
        value = int(raw)
        if value < self.least:
            raise Bad(f"must be at least {self.least}, not {value}{self.why}")
        return value


class _Duration:
    """A duration written `<whole number><unit>`, the unit s, m, h or d: `90m`, `24h`, `3d`."""

    def __init__(self, least: timedelta, most: timedelta) -> None:
        self.least, self.most = least, most

    def __call__(self, raw: str) -> timedelta:
        match = _DURATION.fullmatch(raw)
        if match is None:
            raise Bad(f"{show(raw)} is not a duration like 90m, 24h or 3d (units s, m, h, d)")
        value = timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
        if value < self.least:
            raise Bad(f"must be at least {format_duration(self.least)}, not {raw}")
        if value > self.most:
            raise Bad(f"must be at most {format_duration(self.most)}, not {raw}")
        return value
