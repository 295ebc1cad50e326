"""`gesher release ...`: the release gate. Sensitive, offensive, AMBER+STRICT and RED items reach no
partner until a second analyst approves the release of that version."""

from __future__ import annotations

from collections.abc import Callable

import typer

from gesher.cli.context import actor, out, state
from gesher.exchange import release
from gesher.exchange.release import StoredLocation

app = typer.Typer(help="Request, approve and revoke releases of gated items.", no_args_is_help=True)

_ANALYST = typer.Option(None, "--analyst", help="Acting analyst (default: the operating-system user).")
_REASON = typer.Option(..., help="Why (recorded).")
_VERSION = typer.Option(None, help="Version (modified timestamp); default: the latest.")
_COLLECTION = typer.Option(None, help="Collection name or id; default: every collection holding it.")


def _analyst(name: str | None) -> str:
    return f"analyst:{name}" if name else actor()


def _run(
    ctx: typer.Context,
    action: Callable[..., list[StoredLocation]],
    verb: str,
    object_id: str,
    analyst: str | None,
    reason: str,
    version: str | None,
    collection: str | None,
) -> None:
    with state(ctx).node().db.write() as conn:
        done = action(conn, _analyst(analyst), object_id, reason, version=version, collection=collection)
    for loc in done:
        out.print(f"{verb} {loc.object_id} {loc.version_text} in {loc.collection_name}", highlight=False)


def _command(name: str, action: Callable[..., list[StoredLocation]], verb: str, doc: str) -> None:
    def command(
        ctx: typer.Context,
        object_id: str = typer.Argument(..., help="STIX object id."),
        analyst: str | None = _ANALYST,
        reason: str = _REASON,
        version: str | None = _VERSION,
        collection: str | None = _COLLECTION,
    ) -> None:
        _run(ctx, action, verb, object_id, analyst, reason, version, collection)

    command.__doc__ = doc
    app.command(name)(command)


_command("request", release.request, "release requested:", "Ask a second analyst to approve the release.")
_command(
    "approve",
    release.approve,
    "released:",
    "Approve a requested release (not by the analyst who requested it).",
)
_command(
    "revoke",
    release.revoke,
    "release revoked:",
    "Withdraw a release; partners stop receiving the version at their next request.",
)
