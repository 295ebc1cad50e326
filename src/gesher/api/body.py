"""Reading a request body without ever holding more than the configured limit (TAXII 413)."""

from __future__ import annotations

from fastapi import Request

from gesher.errors import InvalidRequest, PayloadTooLarge


async def read_limited_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise InvalidRequest("Content-Length is not a number")
        if int(declared) > limit:
            raise PayloadTooLarge(f"the body is {declared} bytes; this API root accepts at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body exceeds the {limit}-byte limit of this API root")
        chunks.append(chunk)
    return b"".join(chunks)
