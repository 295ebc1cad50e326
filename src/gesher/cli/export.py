"""`gesher export --collection C [--partner P]`: a STIX 2.1 bundle on stdout, exactly as that partner
would receive it (through the same policy enforcement point as TAXII). Every page is a disclosure entry of
the ledger, recorded before its bytes are written: a bundle made for a partner leaves like a TAXII page."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import typer

from gesher.cli.context import actor, state
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound, Page
from gesher.ledger_service.served import objects_served
from gesher.partners.service import principal_by_name, require_collection
from gesher.policy.principal import Principal
from gesher.taxii.query import TaxiiQuery, Versions

PAGE = 1000
OPERATOR = Principal(partner_id=0, name="operator", country="", kind="government", is_admin=True)


def export(
    ctx: typer.Context,
    collection: str = typer.Option(..., "--collection", "-c", help="Collection name or id."),
    partner: str | None = typer.Option(None, help="Export as this partner would receive it."),
    all_versions: bool = typer.Option(False, "--all-versions", help="Every version, not only the latest."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to a file instead of stdout."),
) -> None:
    """Write a STIX 2.1 bundle of a collection."""
    node = state(ctx).node()
    query = TaxiiQuery(versions=Versions(latest=not all_versions, every=all_versions))
    with node.db.read() as conn:
        principal = principal_by_name(conn, partner) if partner else OPERATOR
        target = require_collection(conn, collection)
        record = _recorder(node, principal.name, f"gesher export --collection {target.id}")
        chunks = bundle_chunks(Outbound(conn, principal, node.clearance), target.id, query, record)
        if output is None:
            _write(chunks, sys.stdout.buffer)
        else:
            with output.open("wb") as fp:
                _write(chunks, fp)


Record = Callable[[Outbound, Page], None]


def _recorder(node: Node, partner: str, endpoint: str) -> Record:
    def record(out: Outbound, page: Page) -> None:
        if page.rows:
            node.ledger.disclose(partner, endpoint, out.policy_version(), objects_served(page), actor=actor())

    return record


def bundle_chunks(
    out: Outbound, collection_id: str, query: TaxiiQuery, record: Record | None = None
) -> Iterator[bytes]:
    """The bundle in pieces, each page recorded (`record`) before it is produced. The first page is read
    (and access decided) before anything is produced, so a refused export writes nothing."""
    page = out.objects(collection_id, query, None, PAGE)
    return _chunks(out, collection_id, query, page, record or (lambda out, page: None))


def _chunks(
    out: Outbound, collection_id: str, query: TaxiiQuery, page: Page, record: Record
) -> Iterator[bytes]:
    yield b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":['
    first = True
    while True:
        record(out, page)
        for _, body, *_ in page.rows:
            yield (b"" if first else b",") + bytes(body)  # type: ignore[call-overload]
            first = False
        if not page.more:
            break
        page = out.objects(collection_id, query, page.last_added, PAGE)
    yield b"]}\n"


def _write(chunks: Iterator[bytes], fp: BinaryIO) -> None:
    for chunk in chunks:
        fp.write(chunk)
    fp.flush()
