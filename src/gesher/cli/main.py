"""`gesher`: the command-line entry point."""

from __future__ import annotations

from pathlib import Path

import click
import typer
from typer.core import TyperGroup

from gesher.cli import (
    alert_rules,
    alerts,
    collection,
    country,
    demo,
    export,
    incidents,
    ingest,
    leak,
    ledger,
    licensing,
    licensing_licences,
    licensing_misuse,
    partner,
    policy,
    release,
    report,
    serve,
    vetting,
    warning,
    webhook,
)
from gesher.cli.context import fail, out, state
from gesher.errors import GesherError
from gesher.exchange.node import Node


class _Commands(TyperGroup):
    """Turns every expected error of any command into its message and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except GesherError as exc:
            fail(exc)


app = typer.Typer(
    cls=_Commands,
    name="gesher",
    help="gesher: a sovereign cyber-cooperation exchange (STIX 2.1 over TAXII 2.1).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(collection.app, name="collection")
app.add_typer(country.app, name="country")
app.add_typer(partner.app, name="partner")
app.add_typer(policy.app, name="policy")
app.add_typer(release.app, name="release")
app.add_typer(vetting.watchlist_app, name="watchlist")
app.add_typer(ledger.app, name="ledger")
app.add_typer(leak.app, name="leak")
app.add_typer(report.app, name="report")
app.add_typer(licensing.item_app, name="item")
app.add_typer(licensing.project_app, name="project")
app.add_typer(licensing_licences.app, name="licence")
app.add_typer(licensing_misuse.app, name="misuse")
app.add_typer(warning.app, name="sighting")
app.add_typer(incidents.app, name="incidents")
app.add_typer(webhook.app, name="webhook")
app.add_typer(alert_rules.app, name="alert-rules")
app.add_typer(alerts.app, name="alerts")
app.command("screen")(vetting.screen)
app.command("vet")(vetting.vet)
app.command("ingest")(ingest.ingest)
app.command("export")(export.export)
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)


@app.callback()
def _global(
    ctx: typer.Context,
    data_dir: Path | None = typer.Option(None, help="Data directory (env GESHER_DATA_DIR)."),
    database_url: str | None = typer.Option(None, help="Store URL (env GESHER_DATABASE_URL)."),
) -> None:
    overrides = state(ctx).overrides
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url is not None:
        overrides["database_url"] = database_url


@app.command("init")
def init(ctx: typer.Context) -> None:
    """Create or upgrade the store (idempotent) and its cursor-signing key."""
    cli = state(ctx)
    node = cli.use(Node.init(cli.settings()))
    out.print(f"store ready at {node.db.engine.url.render_as_string(hide_password=True)}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
