"""What a JSON REST API of the exchange needs (the licensing API uses it; the admin API has the same shapes):
bodies parsed by a dependency, so a route's authentication runs before a byte of the body is read, and
checked against their schema (422 when they fail it, with where and why); JSON responses; text types that
both stores can hold (PostgreSQL text cannot hold a NUL)."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from gesher.api.body import read_limited_body
from gesher.errors import InvalidRequest, NotFound, UnsupportedMediaType
from gesher.exchange.node import Node

JSON = "application/json"
M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


class Unprocessable(InvalidRequest):
    """Well-formed JSON that does not describe a valid request: 422, like a body that fails its schema."""

    status = 422


def built(make: Callable[[], T]) -> T:
    """A domain value made from a body's fields: its own validation failing is the body's fault (422)."""
    try:
        return make()
    except InvalidRequest as exc:
        if exc.status != InvalidRequest.status:
            raise
        raise Unprocessable(exc.description, details=exc.details) from None


def _printable(value: str) -> str:
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("control characters are not allowed")
    return value


def text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


Printable = AfterValidator(_printable)
Name = Annotated[str, text(300), Printable]  # names and ids: items, organisations, parties, licences
Reason = Annotated[str, text(2000), Printable]
LongText = Annotated[str, text(4000), Printable]  # descriptions, notes, allegations


class Body(BaseModel):
    """A request body: unknown fields are refused (a misspelt field is an error, not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


def node_of(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]


NodeDep = Annotated[Node, Depends(node_of)]


def json_body(model: type[M]) -> Callable[[Request, Node], Awaitable[M]]:
    """A dependency parsing the body as `model`: 415 for another media type, 413 over the node's limit,
    422 when it fails the schema. An empty body reads as `{}` (for actions whose every field is optional)."""

    async def parse(request: Request, node: NodeDep) -> M:
        kind = request.headers.get("content-type", JSON).partition(";")[0].strip().lower()
        raw = await read_limited_body(request, node.settings.max_content_length)
        if not raw.strip():
            raw = b"{}"
        elif kind != JSON:
            raise UnsupportedMediaType(f"send the body as {JSON}, not {kind[:80]!r}")
        try:
            return model.model_validate_json(raw)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False)
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None

    return parse


def json_response(content: object, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type=JSON)


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """The body's schema for /docs (bodies are parsed by a dependency, after authentication)."""
    schema = model.model_json_schema(by_alias=True)
    return {"requestBody": {"required": True, "content": {JSON: {"schema": schema}}}}


def known(value: str, what: str) -> str:
    """An id or name from a path: one that no record can have (too long, or unprintable, which PostgreSQL
    could not even compare) is as unknown as a missing one: 404, never a 500."""
    if not (0 < len(value) <= 300 and value.isprintable()):
        raise NotFound(f"no {what} {value[:100]!r}")
    return value
