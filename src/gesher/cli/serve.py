"""`gesher serve`: the TAXII 2.1 server (uvicorn, one or more worker processes sharing the store)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import typer
import uvicorn

from gesher.cli.context import fail, state
from gesher.exchange.node import Node


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Listen address."),
    port: int = typer.Option(8000, min=1, max=65535, help="Listen port."),
    workers: int = typer.Option(1, min=1, max=64, help="Worker processes (stateless; share the store)."),
    ssl_certfile: Path | None = typer.Option(None, help="TLS certificate (PEM)."),
    ssl_keyfile: Path | None = typer.Option(None, help="TLS private key (PEM)."),
    allow_insecure_http: bool = typer.Option(
        False, help="Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)."
    ),
    access_log: bool = typer.Option(False, help="Log every request."),
) -> None:
    """Serve TAXII 2.1 at /taxii2/ (and the OpenAPI docs at /docs)."""
    cli = state(ctx)
    settings = cli.settings()
    if not _is_loopback(host) and not (ssl_certfile and ssl_keyfile) and not allow_insecure_http:
        fail(
            f"refusing to serve plain HTTP on {host}: give --ssl-certfile and --ssl-keyfile, "
            "or --allow-insecure-http behind a TLS-terminating proxy"
        )
    node = cli.use(Node.open(settings))  # fail here, clearly, if the store is missing or uninitialised
    node.ledger.check_ready()  # and if the ledger could not record what is served (fail closed)
    node.db.dispose()
    # Worker processes build their own app from the environment: hand them the resolved settings.
    for name, value in cli.overrides.items():
        os.environ[f"GESHER_{name.upper()}"] = str(value)
    uvicorn.run(
        "gesher.api.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        access_log=access_log,
        http="httptools",
        loop="uvloop",
        log_level="info",
        server_header=False,
    )
