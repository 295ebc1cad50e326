"""TAXII 2.1 endpoints (OASIS TAXII 2.1 OS, sections 4 and 5). Thin: parse, authenticate, call the
exchange services, render. Every read goes through exchange.outbound.Outbound."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ParamSpec

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from gesher.api.auth import principal_from_header
from gesher.api.body import read_limited_body
from gesher.errors import Forbidden, InvalidRequest, NotFound, PayloadTooLarge
from gesher.exchange import removal
from gesher.exchange.ingest import add_objects, prepare
from gesher.exchange.node import Node
from gesher.exchange.outbound import Outbound, Page
from gesher.ledger.entries import Entry, Served
from gesher.ledger_service.served import objects_served
from gesher.policy.principal import Principal
from gesher.stix.constants import TAXII_MEDIA_TYPE, stix_media_type
from gesher.stix.timestamps import format_micros, now_micros
from gesher.store import audit, statuses
from gesher.store.statuses import StatusRow
from gesher.taxii import resources
from gesher.taxii.cursor import CursorScope
from gesher.taxii.media import require_taxii_accept, require_taxii_content_type
from gesher.taxii.query import TaxiiQuery, Versions, is_stix_id, is_uuid, parse_query
from gesher.warning_service import taxii as warning

# Digits to "0", all else to " ": a run of 19 digits (-2**63 - 1 already has 19) is then a plain substring
# search, 17x faster than a regex over a 1,000-object body (3.4 ms, 5% of ingest, measured).
P = ParamSpec("P")
# An Outbound read: (outbound, collection id, query, cursor position, limit) -> page
Fetch = Callable[[Outbound, str, TaxiiQuery, int | None, int], Page]
# What a page discloses, object by object, with the hash of the exact bytes each takes in the response
Disclosed = Callable[[Page], list[Served]]
LEDGER_HEADER = "X-Gesher-Ledger-Index"


@dataclass(frozen=True)
class Disclosing:
    """A response that discloses data, to send once its ledger entry is committed."""

    body: bytes
    headers: dict[str, str]
    entry: Entry
    encoded: bytes


_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_DIGITS = b"0" * 19
_NUMBER_OF_19_DIGITS = re.compile(rb"[\[:,\s-][0-9]{19}")


def _json(
    body: bytes | dict[str, object], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(content, status_code=status, media_type=TAXII_MEDIA_TYPE, headers=headers)


def _params(request: Request) -> dict[str, str]:
    """Query parameters; a repeated parameter is read as one comma-separated list (TAXII ORs values)."""
    merged: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    return merged


def taxii_router(node: Node) -> APIRouter:
    settings = node.settings
    router = APIRouter(prefix="/taxii2")
    root = f"/{settings.api_root}"

    def reads(handler: Callable[P, Response | Disclosing]) -> Callable[P, Awaitable[Response]]:
        """Run a read handler inline (SQLite) or in the threadpool (PostgreSQL); see Database.inline_reads.
        A response that discloses data is sent only once its ledger entry is committed; the event loop
        serves other requests meanwhile (their entries are committed in the same batch)."""

        @functools.wraps(handler)
        async def run(*args: P.args, **kwargs: P.kwargs) -> Response:
            if node.db.inline_reads:
                result = handler(*args, **kwargs)
            else:
                result = await run_in_threadpool(handler, *args, **kwargs)
            if isinstance(result, Disclosing):
                recorded = await node.ledger.disclose_async(result.entry, result.encoded)
                return _json(result.body, headers={**result.headers, LEDGER_HEADER: str(recorded.index)})
            return result

        # FastAPI reads the signature: it answers with a Response, whatever the handler hands over.
        run.__signature__ = inspect.signature(handler).replace(return_annotation=Response)  # type: ignore[attr-defined]
        return run

    @contextmanager
    def caller(request: Request, write: bool = False) -> Iterator[tuple[Connection, Principal]]:
        require_taxii_accept(request.headers.get("accept"))
        with node.db.write() if write else node.db.read() as conn:
            yield conn, principal_from_header(conn, request.headers.get("authorization"))

    def paged(
        request: Request,
        endpoint: str,
        collection_id: str,
        q: TaxiiQuery,
        fetch: Fetch,
        render: Callable[[Page, str | None], bytes],
        disclosed: Disclosed,
        must_exist: str | None = None,
    ) -> Response | Disclosing:
        limit = min(q.limit or settings.default_page_size, settings.max_page_size)
        with caller(request) as (conn, principal):
            scope = CursorScope(collection_id, endpoint, principal.partner_id, q.filter_digest_source())
            now = now_micros()
            after = node.cursors.decode(q.next, scope, now) if q.next else None
            out = Outbound(conn, principal, node.clearance)
            page = fetch(out, collection_id, q, after, limit)
            if (
                must_exist
                and not page.rows
                and after is None
                and not out.object_exists(collection_id, must_exist)
            ):
                raise NotFound(f"no object {must_exist!r} in this collection")
            policy_version = out.policy_version()
        next_token = (
            node.cursors.encode(scope, page.last_added, now) if page.more and page.last_added else None
        )
        body = render(page, next_token)
        if not page.rows:
            return _json(body)
        headers = {
            "X-TAXII-Date-Added-First": format_micros(page.first_added or 0),
            "X-TAXII-Date-Added-Last": format_micros(page.last_added or 0),
        }
        # Sent once recorded; if the ledger cannot take it, nothing is (503, fail closed). See `reads`.
        entry, encoded = node.ledger.disclosure(
            principal.name, request.url.path, policy_version, disclosed(page)
        )
        return Disclosing(body, headers, entry, encoded)

    @router.get("/", summary="Server discovery (TAXII 2.1 section 4.1)")
    @reads
    def discovery(request: Request) -> Response:
        with caller(request):
            pass
        resource: dict[str, object] = {
            "title": settings.title,
            "description": "gesher sovereign cyber-cooperation exchange",
            "default": f"{request.base_url}taxii2{root}/",
            "api_roots": [f"{request.base_url}taxii2{root}/"],
        }
        if settings.contact:
            resource["contact"] = settings.contact
        return _json(resource)

    @router.get(f"{root}/", summary="API root information (section 4.2)")
    @reads
    def api_root(request: Request) -> Response:
        with caller(request):
            pass
        return _json(
            {
                "title": settings.title,
                "versions": [TAXII_MEDIA_TYPE],
                "max_content_length": settings.max_content_length,
            }
        )

    @router.get(f"{root}/status/{{status_id}}/", summary="Status of an object POST (section 4.3)")
    @reads
    def get_status(request: Request, status_id: str) -> Response:
        with caller(request) as (conn, principal):
            found = statuses.by_id(conn, status_id) if is_uuid(status_id) else None
        if found is None or not (principal.is_admin or found.partner_id == principal.partner_id):
            raise NotFound(f"no status {status_id[:64]!r}")
        return _json(_status_resource(found))

    @router.get(f"{root}/collections/", summary="Collections the caller may see (section 5.1)")
    @reads
    def list_collections(request: Request) -> Response:
        with caller(request) as (conn, principal):
            listed = Outbound(conn, principal, node.clearance).collections()
        found = [
            resources.collection(c.id, c.name, c.description, a.can_read, a.can_write) for c, a in listed
        ]
        return _json({"collections": found} if found else {})

    @router.get(f"{root}/collections/{{collection_id}}/", summary="One collection (section 5.2)")
    @reads
    def get_collection(request: Request, collection_id: str) -> Response:
        with caller(request) as (conn, principal):
            c, a = Outbound(conn, principal, node.clearance).access(collection_id)
        return _json(resources.collection(c.id, c.name, c.description, a.can_read, a.can_write))

    @router.get(f"{root}/collections/{{collection_id}}/manifest/", summary="Object manifests (section 5.3)")
    @reads
    def get_manifest(request: Request, collection_id: str) -> Response | Disclosing:
        records: list[list[dict[str, object]]] = []  # built once, for the body and for the ledger

        def render(page: Page, next_token: str | None) -> bytes:
            records.append(_manifest_records(page))
            return resources.manifest(records[0], page.more, next_token)

        def disclosed(page: Page) -> list[Served]:
            return _manifest_disclosed(page, records[0])

        q = parse_query(_params(request))
        return paged(request, "manifest", collection_id, q, Outbound.manifest, render, disclosed)

    @router.get(f"{root}/collections/{{collection_id}}/objects/", summary="Objects (section 5.4)")
    @reads
    def get_objects(request: Request, collection_id: str) -> Response | Disclosing:
        q = parse_query(_params(request))
        return paged(request, "objects", collection_id, q, Outbound.objects, _objects_render, objects_served)

    @router.post(
        f"{root}/collections/{{collection_id}}/objects/", status_code=202, summary="Add objects (5.5)"
    )
    async def add(request: Request, collection_id: str) -> Response:
        # Identify the caller before reading a byte of the body: strangers get 401, not a buffered upload.
        await reads(writable)(request, collection_id)
        require_taxii_content_type(request.headers.get("content-type"))
        body = await read_limited_body(request, settings.max_content_length)
        return await run_in_threadpool(_add_objects, request, collection_id, body)

    def writable(request: Request, collection_id: str) -> None:
        with caller(request) as (conn, principal):
            _writable_access(conn, principal, collection_id)

    def _add_objects(request: Request, collection_id: str, body: bytes) -> Response:
        requested = now_micros()
        # Validated before the write transaction: the write lock is held only for the store work.
        prepared = prepare(_envelope_objects(body, settings.max_objects_per_request))
        with caller(request, write=True) as (conn, principal):
            can_read = _writable_access(conn, principal, collection_id)
            result = add_objects(
                conn,
                collection_id,
                prepared,
                principal.partner_id,
                reveal_existing=can_read,
                source=f"partner:{principal.name}",
            )
            # Early warning (issue 7): the partner's sightings are correlated in this same transaction.
            warning.sightings_posted(node, conn, principal, prepared, result.successes)
            status = StatusRow(
                id=str(uuid.uuid4()),
                collection_id=collection_id,
                partner_id=principal.partner_id,
                request_timestamp=requested,
                total_count=result.total_count,
                success_count=result.success_count,
                failure_count=len(result.failures),
                pending_count=0,
                details={"successes": result.successes, "failures": result.failures},  # type: ignore[dict-item]
            )
            statuses.insert(conn, status)
            if result.withheld:
                audit.record(
                    conn,
                    f"partner:{principal.name}",
                    "ingest.conflict_withheld",
                    f"collection:{collection_id}",
                    objects=result.withheld,
                )
        return _json(_status_resource(status), status=202)

    @router.get(f"{root}/collections/{{collection_id}}/objects/{{object_id}}/", summary="An object (5.6)")
    @reads
    def get_object(request: Request, collection_id: str, object_id: str) -> Response | Disclosing:
        q = dataclasses.replace(parse_query(_params(request)), ids=(_object_id(object_id),), types=())
        endpoint = f"object:{object_id}"
        return paged(
            request,
            endpoint,
            collection_id,
            q,
            Outbound.objects,
            _objects_render,
            objects_served,
            must_exist=object_id,
        )

    @router.delete(f"{root}/collections/{{collection_id}}/objects/{{object_id}}/", summary="Delete (5.7)")
    def delete_object(request: Request, collection_id: str, object_id: str) -> Response:
        q = dataclasses.replace(parse_query(_params(request)), ids=(_object_id(object_id),), types=())
        with caller(request, write=True) as (conn, principal):
            removal.delete_object(conn, principal, collection_id, object_id, q, node.clearance)
        return Response(status_code=200)

    @router.get(
        f"{root}/collections/{{collection_id}}/objects/{{object_id}}/versions/", summary="Versions (5.8)"
    )
    @reads
    def get_versions(request: Request, collection_id: str, object_id: str) -> Response | Disclosing:
        q = dataclasses.replace(
            parse_query(_params(request)),
            ids=(_object_id(object_id),),
            types=(),
            versions=Versions(latest=False, every=True),
        )

        def render(page: Page, next_token: str | None) -> bytes:
            return resources.versions([str(v) for _, v in page.rows], page.more, next_token)

        def disclosed(page: Page) -> list[Served]:
            return [
                Served(object_id, str(v), _sha256(orjson.dumps(v)), page.rule(i))
                for i, (_, v) in enumerate(page.rows)
            ]

        endpoint = f"versions:{object_id}"
        return paged(
            request, endpoint, collection_id, q, Outbound.versions, render, disclosed, must_exist=object_id
        )

    return router


def _object_id(value: str) -> str:
    """A path's object id; a malformed one cannot exist (404, the same whatever the collection)."""
    if not is_stix_id(value):
        raise NotFound(f"no object {value[:300]!r} in this collection")
    return value


def _objects_render(page: Page, next_token: str | None) -> bytes:
    return resources.envelope([bytes(body) for _, body, *_ in page.rows], page.more, next_token)  # type: ignore[call-overload]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _manifest_records(page: Page) -> list[dict[str, object]]:
    return [
        {"id": oid, "date_added": format_micros(d), "version": v, "media_type": stix_media_type(sv)}  # type: ignore[arg-type]
        for d, oid, v, sv in page.rows
    ]


def _manifest_disclosed(page: Page, records: list[dict[str, object]]) -> list[Served]:
    """Each manifest record served, with the SHA-256 of its bytes in the response (orjson writes a list as
    its items' own serialisations joined by commas)."""
    return [
        Served(str(record["id"]), str(record["version"]), _sha256(orjson.dumps(record)), page.rule(i))
        for i, record in enumerate(records)
    ]


def _writable_access(conn: Connection, principal: Principal, collection_id: str) -> bool:
    """Refuse callers that may not write; return whether the caller may also read the collection."""
    _, access = Outbound(conn, principal).access(collection_id)
    if not access.can_write:
        raise Forbidden("this collection is read-only for you")
    return access.can_read


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(body: bytes) -> object:
    """orjson, except for bodies with integers of 19+ digits: orjson turns those beyond 64 bits into floats,
    silently changing the data, so such bodies go through the exact (slower) standard parser instead."""
    if may_hold_long_integer(body):
        return json.loads(body, parse_constant=_reject_constant)
    return orjson.loads(body)


def may_hold_long_integer(body: bytes) -> bool:
    """Whether JSON text may hold an integer of 19 or more digits. A quick scan for any such digit run
    first; then only runs where a JSON number can start count (after `[`, `:`, `,`, `-` or blank space), so
    digits inside strings, like the many in a SHA-256 written in hex, do not force the slow parser. A run
    inside a string after such a character gives a needless slow parse, never a wrong one."""
    return _LONG_DIGITS in body.translate(_DIGITS_ONLY) and _NUMBER_OF_19_DIGITS.search(body) is not None


def _envelope_objects(body: bytes, max_objects: int) -> list[object]:
    try:
        envelope = _parse_json(body)
    except (orjson.JSONDecodeError, ValueError, RecursionError) as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("objects"), list):
        raise InvalidRequest("the body must be a TAXII envelope: an object with an `objects` list")
    if not envelope["objects"]:
        raise InvalidRequest("the envelope's `objects` list is empty")
    if len(envelope["objects"]) > max_objects:
        count = len(envelope["objects"])
        raise PayloadTooLarge(
            f"the envelope holds {count} objects; this API root takes at most {max_objects}"
        )
    return list(envelope["objects"])


def _status_resource(s: StatusRow) -> dict[str, object]:
    resource: dict[str, object] = {
        "id": s.id,
        "status": "complete" if s.pending_count == 0 else "pending",
        "request_timestamp": format_micros(s.request_timestamp),
        "total_count": s.total_count,
        "success_count": s.success_count,
        "failure_count": s.failure_count,
        "pending_count": s.pending_count,
    }
    for key in ("successes", "failures"):
        if s.details.get(key):
            resource[key] = s.details[key]
    return resource
