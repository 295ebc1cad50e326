"""The app factory: `create_app(settings)` builds the whole HTTP surface of a node."""

from __future__ import annotations

from fastapi import FastAPI

from gesher import __version__
from gesher.api.admin import admin_router
from gesher.api.errors import install_error_handlers
from gesher.api.ledger import ledger_router
from gesher.api.licensing import licensing_router
from gesher.api.taxii import taxii_router
from gesher.api.warning import warning_router
from gesher.api.webhooks import webhooks_router
from gesher.exchange.node import Node
from gesher.settings import Settings
from gesher.warning_service import background


def create_app(settings: Settings, node: Node | None = None) -> FastAPI:
    node = node or Node.open(settings)
    app = FastAPI(
        title="gesher",
        version=__version__,
        description="Sovereign cyber-cooperation exchange: TAXII 2.1 API and admin REST API.",
        docs_url="/docs",
        redoc_url=None,
        lifespan=background.lifespan(node),  # webhooks, the indicator index, escalation (issue 7)
    )
    app.state.node = node
    install_error_handlers(app)
    app.include_router(taxii_router(node))
    app.include_router(ledger_router(node))
    app.include_router(admin_router)
    app.include_router(licensing_router)
    app.include_router(warning_router)
    app.include_router(webhooks_router(node))
    return app


def create_app_from_env() -> FastAPI:
    """Factory for uvicorn workers: each worker process reads the same GESHER_* environment."""
    return create_app(Settings())


__all__ = ["create_app", "create_app_from_env"]
