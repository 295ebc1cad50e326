"""`gesher ingest PATH... --collection C`: load STIX 2.1 bundles (files or folders, .gz too), streamed.

Each file is one transaction: valid objects are stored, invalid ones reported with id and reason, and an
interrupt or crash rolls the current file back, so nothing is ever half-written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from gesher.cli.context import actor, err, fail, out, print_json, state
from gesher.exchange.ingest import IngestResult, add_objects
from gesher.exchange.node import Node
from gesher.partners.service import require_collection
from gesher.stix.bundle import decompressed, iter_bundle_objects
from gesher.store import audit

SUFFIXES = (".json", ".stix2", ".stix", ".json.gz", ".stix2.gz")
SHOWN_FAILURES = 20


def stix_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES)))
        elif path.is_file():
            found.append(path)
        else:
            fail(f"{path}: no such file or folder")
    return found


def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Bundle files or folders of them."),
    collection: str = typer.Option(..., "--collection", "-c", help="Collection name or id."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON report (every rejected object)."),
) -> None:
    """Validate and store STIX 2.1 bundles; every version is kept, re-ingesting changes nothing."""
    node = state(ctx).node()
    files = stix_files(paths)
    if not files:
        fail("no STIX files (.json, .stix2, .json.gz) found")
    report = []
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=as_json,
    ) as progress:
        for done, path in enumerate(files):
            try:
                result = _ingest_file(node, path, collection, progress)
            except KeyboardInterrupt:
                fail(f"interrupted: {path} was rolled back; {done} earlier file(s) are stored", code=130)
            report.append(_file_report(path, result))
    _print(report, as_json)


def _ingest_file(node: Node, path: Path, collection: str, progress: Progress) -> IngestResult:
    task = progress.add_task(path.name, total=path.stat().st_size)
    with path.open("rb") as raw, decompressed(raw) as fp, node.db.write() as conn:
        target = require_collection(conn, collection)
        result = add_objects(
            conn,
            target.id,
            _tracked(iter_bundle_objects(fp), raw, progress, task),
            None,
            keep_successes=False,
            source=actor(),
        )
        audit.record(
            conn,
            actor(),
            "ingest.file",
            f"collection:{target.id}",
            file=str(path),
            stored=result.stored_count,
            rejected=len(result.failures),
        )
    progress.update(task, completed=path.stat().st_size)
    return result


def _tracked(items: Iterator[object], raw: BinaryIO, progress: Progress, task: TaskID) -> Iterator[object]:
    for n, item in enumerate(items, 1):
        if n % 1000 == 0:
            progress.update(task, completed=raw.tell())
        yield item


def _file_report(path: Path, result: IngestResult) -> dict[str, object]:
    return {
        "file": str(path),
        "objects": result.total_count,
        "stored": result.stored_count,
        "unchanged": result.success_count - result.stored_count,
        "rejected": len(result.failures),
        "failures": result.failures,
    }


def _print(report: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    for r in report:
        out.print(
            f"{r['file']}: {r['objects']} objects, {r['stored']} new versions stored, "
            f"{r['unchanged']} already present, {r['rejected']} rejected",
            highlight=False,
        )
        failures = r["failures"]
        assert isinstance(failures, list)
        for f in failures[:SHOWN_FAILURES]:
            out.print(f"  rejected {f.get('id', '(no id)')}: {f['message']}", highlight=False)
        if len(failures) > SHOWN_FAILURES:
            out.print(f"  ... and {len(failures) - SHOWN_FAILURES} more (use --json for all)")
