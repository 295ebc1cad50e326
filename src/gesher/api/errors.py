"""Every error becomes a TAXII error resource (TAXII 2.1 section 3.6.1), mapped here and only here.
Expected errors keep their status; anything unexpected is logged and answered 500 without internals."""

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


def error_response(
    title: str, status: int, description: str, details: dict[str, object] | None = None
) -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="gesher", charset="UTF-8"'} if status == 401 else None
    return Response(
        resources.error(title, status, description, details),
        status_code=status,
        media_type=TAXII_MEDIA_TYPE,
        headers=headers,
    )


async def _gesher_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GesherError)
    return error_response(exc.title, exc.status, exc.description, exc.details)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    return error_response(titles.get(exc.status_code, "HTTP error"), exc.status_code, str(exc.detail))


async def _validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response("Invalid request", 400, f"{where}: {first.get('msg', 'invalid')}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("request.failed", extra={"path": request.url.path, "method": request.method})
    return error_response("Internal error", 500, "the server failed to handle this request; it was logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GesherError, _gesher_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
