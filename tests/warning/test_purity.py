"""The early-warning core stays pure (DESIGN.md 3; issue 7 brief): no web, database or service imports, no
clock, and every module and public function explains itself."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import gesher.warning
from gesher.warning import (
    correlate,
    correlator,
    decay,
    errors,
    indicators,
    observations,
    rules,
    rules_file,
    values,
)

PACKAGE = Path(gesher.warning.__file__).parent
FORBIDDEN = (
    *("fastapi", "starlette", "sqlalchemy", "uvicorn", "duckdb", "pyarrow"),
    *("gesher.store", "gesher.api", "gesher.cli", "gesher.exchange", "gesher.partners"),
    *("gesher.licensing_service", "gesher.warning_service"),
)
MODULES = (correlate, correlator, decay, errors, indicators, observations, rules, rules_file, values)


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
    assert not {name for name in found if name.startswith(FORBIDDEN)}
    text = path.read_text()
    assert "time" not in found and ".now(" not in text and ".today(" not in text and "utcnow" not in text


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_function_explains_itself(module: ModuleType) -> None:
    assert inspect.getdoc(module)
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ == module.__name__ and not name.startswith("_"):
            assert inspect.getdoc(function), f"{module.__name__}.{name} has no docstring"


def test_the_package_documents_its_modules() -> None:
    doc = inspect.getdoc(gesher.warning) or ""
    for module in MODULES:
        assert f"`{module.__name__.rsplit('.', 1)[1]}`" in doc
