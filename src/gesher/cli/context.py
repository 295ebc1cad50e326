"""What every command shares: settings from the environment (overridable by global options), the node,
the acting principal, and how results and errors are printed."""

from __future__ import annotations

import getpass
import sys
from dataclasses import dataclass, field
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console

from gesher.errors import GesherError
from gesher.exchange.node import Node
from gesher.settings import Settings

out = Console()
# Messages are never hard-wrapped: a path or a command in one breaks mid-word at the terminal's width (80
# columns when stderr is not a terminal), and cannot then be copied or searched for.
err = Console(stderr=True, soft_wrap=True)


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)
    _node: Node | None = None

    def settings(self) -> Settings:
        return Settings(**self.overrides)

    def node(self) -> Node:
        if self._node is None:
            self._node = Node.open(self.settings())
        return self._node

    def use(self, node: Node) -> Node:
        self.close()
        self._node = node
        return node

    def close(self) -> None:
        if self._node is not None:
            self._node.db.dispose()
            self._node = None


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
        root.call_on_close(root.obj.close)
    return root.obj


def actor() -> str:
    """The operator behind a CLI action, recorded in every audit event."""
    return f"cli:{getpass.getuser()}"


def print_json(value: object) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def fail(error: GesherError | str, code: int = 1) -> NoReturn:
    message = error.description if isinstance(error, GesherError) else error
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)
