"""The licensing core stays pure (DESIGN.md 3; issue 5 brief): no web, database or service imports, every
module and public function explains itself, and every event carries a timezone-aware time and a reason."""

from __future__ import annotations

import ast
import inspect
from datetime import datetime
from pathlib import Path

import pytest

import gesher.licensing
from gesher.errors import Conflict, GesherError, InvalidRequest
from gesher.licensing import (
    applications,
    catalog,
    conditions,
    config,
    gates,
    history,
    licences,
    misuse,
    recommend,
)
from gesher.licensing.history import Actor, Role, TransitionRefused
from tests.licensing.helpers import AT, OFFICER, VENDOR, project_at, refused

PACKAGE = Path(gesher.licensing.__file__).parent
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
MODULES = (applications, catalog, conditions, config, gates, history, licences, misuse, recommend)


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_no_web_database_or_service_imports(path: Path) -> None:
    bad = {name for name in imports(path) if name.startswith(FORBIDDEN)}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_function_explains_itself(module: object) -> None:
    assert inspect.getdoc(module)
    for name, function in inspect.getmembers(module, inspect.isfunction):
        if function.__module__ == module.__name__ and not name.startswith("_"):  # type: ignore[attr-defined]
            assert inspect.getdoc(function), f"{module.__name__}.{name} has no docstring"  # type: ignore[attr-defined]


def test_the_package_documents_its_public_api() -> None:
    doc = inspect.getdoc(gesher.licensing) or ""
    for module in MODULES:
        short = module.__name__.rsplit(".", 1)[1]
        assert f"`{short}`" in doc
    for name in (
        "classify",
        "review_gate",
        "recommend",
        "approve",
        "reports_due",
        "cascade",
        "TransitionRefused",
    ):
        assert name in doc


def test_a_refusal_is_a_409_conflict() -> None:
    error = refused(lambda: gates.advance(project_at(gates.Stage.CONCEPT), VENDOR, AT), "GATE_NOT_PASSED")
    assert isinstance(error, Conflict) and isinstance(error, GesherError)
    assert TransitionRefused.status == 409 and error.details == {"code": "GATE_NOT_PASSED"}


def test_events_need_an_aware_time_and_a_reason() -> None:
    project = project_at(gates.Stage.DEVELOPMENT)
    with pytest.raises(InvalidRequest):
        gates.suspend(project, OFFICER, datetime(2025, 6, 1, 9, 0), "naive time")
    refused(lambda: gates.suspend(project, OFFICER, AT, ""), "REASON_REQUIRED")
    with pytest.raises(InvalidRequest):
        Actor(" ", Role.OFFICER)
    assert history.SYSTEM.role == Role.SYSTEM and not history.SYSTEM.is_officer
