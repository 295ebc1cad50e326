"""The ledger core stays pure (DESIGN.md 3; issue 6 brief): no web, database or service imports, and every
module and public function explains itself."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import gesher.ledger
from gesher.errors import GesherError
from gesher.ledger import canary, checkpoint, entries, errors, merkle, receipt
from gesher.ledger.errors import LedgerError

PACKAGE = Path(gesher.ledger.__file__).parent
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "uvicorn",
    "gesher.store",
    "gesher.api",
    "gesher.cli",
    "gesher.exchange",
    "gesher.partners",
)
MODULES = (canary, checkpoint, entries, errors, merkle, receipt)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_no_web_database_or_service_imports_and_no_clock(path: Path) -> None:
    found = imports(path)
    bad = {name for name in found if name.startswith(FORBIDDEN)}
    assert not bad, f"{path.name} imports {bad}"
    assert "time" not in found and ".now(" not in path.read_text()


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_function_explains_itself(module: ModuleType) -> None:
    assert inspect.getdoc(module)
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ == module.__name__ and not name.startswith("_"):
            assert inspect.getdoc(function), f"{module.__name__}.{name} has no docstring"


def test_the_package_documents_its_modules() -> None:
    doc = inspect.getdoc(gesher.ledger) or ""
    for module in MODULES:
        assert f"`{module.__name__.rsplit('.', 1)[1]}`" in doc


def test_a_ledger_error_is_a_gesher_error_with_reason_and_index() -> None:
    error = LedgerError("root-mismatch", "bad", index=4)
    assert isinstance(error, GesherError) and error.status == 400
    assert error.details == {"reason": "root-mismatch", "index": 4} and str(error) == "entry 4: bad"
