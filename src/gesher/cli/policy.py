"""`gesher policy ...`: check, load and show the sharing policy; explain and preview its decisions."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from gesher.cli.context import actor, out, print_json, state
from gesher.exchange import labelling, policies
from gesher.exchange.policies import Explanation
from gesher.policy.policy_file import PolicyFileError, dump_example, load_policy
from gesher.store import policies as store

app = typer.Typer(help="The sharing policy: check, load, explain, preview.", no_args_is_help=True)


@app.command("init")
def init() -> None:
    """Print a commented example policy to start from."""
    typer.echo(dump_example(), nl=False)


@app.command("check")
def check(file: Path = typer.Argument(..., help="Policy file (YAML).")) -> None:
    """Validate a policy file without loading it: every problem with its line, exit 1 if any."""
    try:
        policy = load_policy(file)
    except PolicyFileError as exc:
        for problem in exc.errors:
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    out.print(
        f"{file.name}: policy version {policy.version} is valid: {len(policy.rules)} rule(s), "
        f"{len(policy.groups)} group(s), {len(policy.agreements)} agreement(s), "
        f"{len(policy.profiles)} profile(s)",
        highlight=False,
    )


@app.command("load")
def load(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="Policy file (YAML)."),
    reason: str = typer.Option(..., help="Why the policy changes (recorded)."),
) -> None:
    """Validate and put a policy in force; every worker applies it from its next request."""
    load_policy(file)  # size, encoding and every problem with its line, before anything is stored
    text = file.read_text(encoding="utf-8")
    with state(ctx).node().db.write() as conn:
        policy_id, policy = policies.load(conn, actor(), text, file.name, reason)
    out.print(f"policy version {policy.version} in force (#{policy_id}, sha256 {policy.digest[:12]})")


@app.command("show")
def show(
    ctx: typer.Context, history: bool = typer.Option(False, "--history", help="Every version loaded.")
) -> None:
    """Print the policy in force (or the history of loads)."""
    with state(ctx).node().db.read() as conn:
        loaded = store.history(conn)
    if not loaded:
        out.print("no policy loaded: default deny (partners receive only TLP:CLEAR public material)")
        return
    if not history:
        typer.echo(loaded[-1].text, nl=False)
        return
    table = Table("#", "version", "loaded by", "reason", "sha256")
    for p in loaded:
        table.add_row(str(p.id), str(p.version), p.actor, p.reason, p.digest[:12])
    out.print(table)


@app.command("relabel")
def relabel(ctx: typer.Context) -> None:
    """Label stored versions that have no access label yet (until then no partner receives them)."""
    with state(ctx).node().db.write() as conn:
        done, failed = labelling.relabel(conn)
    out.print(f"{done} version(s) labelled")
    for problem in failed:
        out.print(f"[red]not labelled[/] {problem}", highlight=False)


@app.command("explain")
def explain(
    ctx: typer.Context,
    partner: str = typer.Option(..., help="Partner name."),
    object_id: str = typer.Option(..., "--object", help="STIX object id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Whether a partner receives an object, the rule that decided, and the redactions."""
    node = state(ctx).node()
    with node.db.read() as conn:
        found = policies.explain(conn, node.clearance, partner, object_id)
    _print(found, as_json)


@app.command("preview")
def preview(
    ctx: typer.Context,
    object_id: str = typer.Option(..., "--object", help="STIX object id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every partner who would receive an object, and in what form: look before you release."""
    node = state(ctx).node()
    with node.db.read() as conn:
        found = policies.preview(conn, node.clearance, object_id)
    _print(found, as_json)


def _print(found: list[Explanation], as_json: bool) -> None:
    if as_json:
        print_json([policies.as_json(e) for e in found])
        return
    for e in found:
        verdict = "[green]receives[/]" if e.receives else "[red]does not receive[/]"
        out.print(
            f"[bold]{e.partner}[/] {verdict} {e.object_id} {e.version} in {e.collection}", highlight=False
        )
        for line in policies.explanation_lines(e):
            out.print(f"  {escape(line)}", highlight=False)  # "[redacted]" is text, not Rich markup
