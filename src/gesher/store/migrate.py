"""Alembic, driven from code: `gesher init` and the tests upgrade a database to the newest schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gesher.store.db import Database

_SCRIPTS = Path(__file__).with_name("migrations")


def _config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(db: Database) -> None:
    cfg = _config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def is_current(db: Database) -> bool:
    head = ScriptDirectory.from_config(_config(db.url)).get_current_head()
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head
