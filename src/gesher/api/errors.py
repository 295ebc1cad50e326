"""Every error becomes a TAXII error resource (TAXII 2.1 section 3.6.1), mapped here and only here.
Expected errors keep their status; anything unexpected is logged and answered 500 without internals.
Outside the TAXII routes (the admin REST API) the same resource is served as `application/json`, and a
body or query that fails its schema is 422, as FastAPI clients expect."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from gesher.errors import GesherError
from gesher.stix.constants import TAXII_MEDIA_TYPE
from gesher.taxii import resources

log = logging.getLogger("gesher.api")


def _is_taxii(request: Request) -> bool:
    return request.url.path.startswith("/taxii2/") or request.url.path == "/taxii2"


def error_response(
    title: str,
    status: int,
    description: str,
    details: dict[str, object] | None = None,
    media_type: str = TAXII_MEDIA_TYPE,
) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="gesher", charset="UTF-8"'} if status == 401 else None
    return Response(
        resources.error(title, status, description, details),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )


def _respond(
    request: Request, title: str, status: int, description: str, details: dict[str, object] | None = None
) -> Response:
    media_type = TAXII_MEDIA_TYPE if _is_taxii(request) else "application/json"
    return error_response(title, status, description, details, media_type)


async def _gesher_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GesherError)
    return _respond(request, exc.title, exc.status, exc.description, exc.details)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    return _respond(request, titles.get(exc.status_code, "HTTP error"), exc.status_code, str(exc.detail))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    status = 400 if _is_taxii(request) else 422  # TAXII 2.1 section 3.6.1 names 400 for a bad request
    return _respond(request, "Invalid request", status, f"{where}: {first.get('msg', 'invalid')}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("request.failed", extra={"path": request.url.path, "method": request.method})
    return _respond(request, "Internal error", 500, "the server failed to handle this request; it was logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GesherError, _gesher_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
