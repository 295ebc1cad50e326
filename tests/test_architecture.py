"""Structural rules of DESIGN.md section 3, checked on the source so they cannot silently erode."""

from __future__ import annotations

import ast
from pathlib import Path

import gesher

SRC = Path(gesher.__file__).parent
PURE = ("stix", "policy", "taxii", "screening", "vetting", "licensing", "ledger", "warning")
FORBIDDEN_IN_PURE = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "uvicorn",
    "gesher.store",
    "gesher.api",
    "gesher.cli",
    "gesher.exchange",
    "gesher.partners",
    "gesher.licensing_service",
)
# Only these modules may read stored objects; everything else goes through exchange.outbound.
# Besides outbound (which serves), these read the store for operators and never hand bodies to a partner:
# ingest and labelling (marking definitions, to compute labels), the version flags, removal, the release
# gate and the policy service (where versions are stored; what a partner would receive it asks Outbound for).
OBJECT_READERS = {
    "exchange/outbound.py",
    "exchange/ingest.py",
    "exchange/labelling.py",
    "exchange/removal.py",
    "exchange/versioning.py",
    "exchange/release.py",
    "exchange/policies.py",
    # Impact reports read each disclosed version's label and date_added (never a body) for oversight.
    "ledger_service/reports.py",
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def test_pure_cores_import_no_web_or_database_code() -> None:
    for path in _modules():
        if path.relative_to(SRC).parts[0] in PURE:
            bad = {i for i in _imports(path) if i.startswith(FORBIDDEN_IN_PURE)}
            assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_only_the_exchange_services_touch_stored_objects() -> None:
    """Every way out reads through exchange.outbound (the one policy enforcement point)."""
    for path in _modules():
        rel = path.relative_to(SRC).as_posix()
        if rel in OBJECT_READERS or rel.startswith("store/"):
            continue
        touched = {i for i in _imports(path) if i in {"gesher.store.objects", "gesher.store.tables.objects"}}
        assert not touched, f"{rel} reads stored objects directly ({touched}); go through exchange.outbound"
