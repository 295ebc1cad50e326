"""The operator's alert rules (GESHER_ALERT_RULES, GESHER_ALERT_K): issue 7's defaults with k from
GESHER_ALERT_K, or the rules file (`gesher.warning.rules_file`), which is the whole truth when given: its
`k`, if it sets one, wins over GESHER_ALERT_K. A file with any mistake stops the node from starting."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gesher.errors import ConfigurationError
from gesher.warning.rules import DEFAULT_RULESET, RuleSet
from gesher.warning.rules_file import AlertRulesError, load_rules


def load_ruleset(path: Path | None, k: int) -> RuleSet:
    """The rules in force: the file's at `path` (k-anonymity threshold `k` unless it sets one), or the
    defaults with threshold `k`. ConfigurationError listing every problem of a bad file."""
    if path is None:
        return replace(DEFAULT_RULESET, k=k)
    try:
        return load_rules(path, k)
    except AlertRulesError as exc:
        listed = "\n".join(exc.errors)
        raise ConfigurationError(
            f"GESHER_ALERT_RULES={path} is not a valid alert rules file:\n{listed}",
            details={"errors": exc.errors},
        ) from None
