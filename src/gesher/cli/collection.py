"""`gesher collection ...`"""

from __future__ import annotations

import typer
from rich.table import Table

from gesher.cli.context import actor, out, print_json, state
from gesher.exchange.collections import create_collection
from gesher.store import collections as store

app = typer.Typer(help="Manage TAXII collections.", no_args_is_help=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Collection name (also its TAXII title)."),
    description: str | None = typer.Option(None, help="Shown to partners in TAXII."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a collection and print its id."""
    with state(ctx).node().db.write() as conn:
        created = create_collection(conn, actor(), name, description)
    if as_json:
        print_json({"id": created.id, "name": created.name})
    else:
        out.print(created.id)


@app.command("list")
def list_(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every collection."""
    with state(ctx).node().db.read() as conn:
        found = store.all_collections(conn)
    if as_json:
        print_json([{"id": c.id, "name": c.name, "description": c.description} for c in found])
        return
    table = Table("id", "name", "description")
    for c in found:
        table.add_row(c.id, c.name, c.description or "")
    out.print(table)
