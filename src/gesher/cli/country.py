"""`gesher country ...`: the country profiles partner vetting uses. Country data ships with gesher (and an
operator may replace any file of it from an override directory), so these commands need no data directory
and no database."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gesher.cli.context import fail, out, print_json
from gesher.vetting.countries import (
    TIERS,
    WGI_SCALE_NOTE,
    CountryProfile,
    CountryProfiles,
    ExportTier,
    load_country_profiles,
    profile_as_json,
    profile_facts,
)
from gesher.vetting.datafile import CountryDataError

app = typer.Typer(
    help="Country profiles for partner vetting: governance indicators, commitments, export tier.",
    no_args_is_help=True,
)

_OVERRIDE_HELP = "Directory of operator files replacing shipped country data (e.g. cyber_export_tiers.csv)."


@app.command("show")
def show(
    code: str = typer.Argument(..., help="ISO 3166-1 alpha-2 or alpha-3 code, any case (IL, isr)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    override_dir: Path | None = typer.Option(None, "--override-dir", help=_OVERRIDE_HELP),
) -> None:
    """One country's profile: each value with its source and as-of date."""
    profile = _profiles(override_dir).get(code)
    if as_json:
        print_json(profile_as_json(profile))
        return
    table = Table(
        "", "value", "source", "as of", title=f"{profile.name} ({profile.alpha2} / {profile.alpha3})"
    )
    for fact in profile_facts(profile):
        table.add_row(
            escape(fact.label), escape(fact.value), escape(fact.source.name), str(fact.source.as_of)
        )
    out.print(table)
    if profile.wgi is not None:
        out.print(WGI_SCALE_NOTE, highlight=False)
    out.print(f"profile as of {profile.as_of} (the oldest of its sources); sources:", highlight=False)
    for source in profile.sources:
        out.print(f"  {escape(source.name)}: {escape(source.url_or_citation)}", highlight=False)


@app.command("list")
def list_countries(
    tier: ExportTier | None = typer.Option(
        None, "--tier", case_sensitive=False, help="Only this export tier."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    override_dir: Path | None = typer.Option(None, "--override-dir", help=_OVERRIDE_HELP),
) -> None:
    """Every country (or those of one cyber-export tier) with its tier, commitments and WGI rule of law."""
    profiles = _profiles(override_dir)
    chosen = profiles.with_tier(tier) if tier is not None else list(profiles)
    if as_json:
        print_json([profile_as_json(p) for p in chosen])
        return
    table = Table("code", "iso3", "name", "export tier", "joint statement", "Budapest", "WGI rule of law")
    for p in chosen:
        table.add_row(*_row(p))
    out.print(table)
    tiers = profiles.dataset(TIERS)
    out.print(
        f"{len(chosen)} countr{'y' if len(chosen) == 1 else 'ies'}; export tiers from "
        f"{escape(tiers.url_or_citation)} (as of {tiers.as_of})",
        highlight=False,
    )


def _row(p: CountryProfile) -> tuple[str, ...]:
    joined = p.joint_statement_joined
    rule_of_law = p.wgi.rule_of_law if p.wgi else None
    return (
        p.alpha2,
        p.alpha3,
        escape(p.name),
        p.cyber_export_tier.value if p.cyber_export_tier else "-",
        joined.isoformat() if joined else ("pending" if p.joint_statement_pending else "-"),
        "party" if p.budapest_party else "-",
        "-" if rule_of_law is None else f"{rule_of_law:+.2f}",
    )


def _profiles(override_dir: Path | None) -> CountryProfiles:
    try:
        return load_country_profiles(override_dir)
    except CountryDataError as exc:  # every problem on its own line, like `gesher policy check`
        for problem in exc.problems:
            typer.echo(problem, err=True)
        fail(f"country data not loaded: {len(exc.problems)} problem(s)")
