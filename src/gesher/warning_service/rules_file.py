"""The operator's alert rules (GESHER_ALERT_RULES, GESHER_ALERT_K): issue 7's defaults unless a file says
otherwise. (The rules file's reader is being written; until then only k is configurable.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gesher.errors import ConfigurationError
from gesher.warning.rules import DEFAULT_RULESET, RuleSet


def load_ruleset(path: Path | None, k: int) -> RuleSet:
    """The rules in force: the defaults with k-anonymity threshold `k`."""
    if path is not None:
        raise ConfigurationError("GESHER_ALERT_RULES is not supported yet")
    return replace(DEFAULT_RULESET, k=k)
