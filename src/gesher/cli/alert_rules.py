"""`gesher alert-rules ...`: the early-warning alert rules in force, and checking a rules file before
pointing GESHER_ALERT_RULES at it (issue 7, "Alert rules in settings")."""

from __future__ import annotations

from pathlib import Path

import typer

from gesher.cli.context import state
from gesher.warning.rules import RuleSet
from gesher.warning.rules_file import AlertRulesError, format_duration, load_rules
from gesher.warning_service.rules_file import load_ruleset

app = typer.Typer(help="Early-warning alert rules: show those in force, check a file.", no_args_is_help=True)


@app.command("show")
def show(ctx: typer.Context) -> None:
    """The alert rules in force (GESHER_ALERT_RULES, else issue 7's defaults; GESHER_ALERT_K), in words."""
    settings = state(ctx).settings()
    ruleset = load_ruleset(settings.alert_rules, settings.alert_k)
    source = str(settings.alert_rules) if settings.alert_rules else "the defaults (GESHER_ALERT_RULES unset)"
    typer.echo(f"alert rules from {source}:")
    _describe(ruleset)


@app.command("check")
def check(
    file: Path = typer.Argument(..., help="Alert rules file (YAML or JSON)."),
    k: int = typer.Option(3, "--k", min=1, help="GESHER_ALERT_K, used when the file sets no k."),
) -> None:
    """Validate an alert rules file: every problem with its line and column, exit 1 if any."""
    try:
        ruleset = load_rules(file, k)
    except AlertRulesError as exc:
        for problem in exc.errors:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{file.name}: valid, {len(ruleset.rules)} rule(s):")
    _describe(ruleset)


def _describe(ruleset: RuleSet) -> None:
    # Plain lines, never wrapped: operators grep and diff them.
    for rule in ruleset.rules:
        typer.echo(f"  {rule.describe()}")
    typer.echo(
        f"  every alert needs at least {ruleset.min_reporters} partners; counts are published from "
        f"k = {ruleset.k} partners; a standing false positive suppresses levels met by at most "
        f"{ruleset.false_positive_max_reporters} partners; sighting times may be up to "
        f"{format_duration(ruleset.clock_skew)} ahead"
    )
