"""TAXII 2.1 resources as bytes. Envelopes splice the stored JSON of each object between fixed bytes:
objects are never parsed or re-serialised on the way out unless the policy redacts them."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from gesher.stix.constants import STIX_MEDIA_TYPE


def envelope(bodies: Sequence[bytes], more: bool, next_token: str | None) -> bytes:
    head: dict[str, object] = {"more": more}
    if next_token:
        head["next"] = next_token
    if not bodies:
        return orjson.dumps(head)
    return orjson.dumps(head)[:-1] + b',"objects":[' + b",".join(bodies) + b"]}"


def manifest(records: Sequence[dict[str, object]], more: bool, next_token: str | None) -> bytes:
    resource: dict[str, object] = {"more": more}
    if next_token:
        resource["next"] = next_token
    if records:
        resource["objects"] = list(records)
    return orjson.dumps(resource)


def versions(values: Sequence[str], more: bool, next_token: str | None) -> bytes:
    resource: dict[str, object] = {"more": more}
    if next_token:
        resource["next"] = next_token
    if values:
        resource["versions"] = list(values)
    return orjson.dumps(resource)


def error(title: str, status: int, description: str, details: dict[str, object] | None = None) -> bytes:
    resource: dict[str, object] = {"title": title, "http_status": str(status), "description": description}
    if details:
        resource["details"] = details
    return orjson.dumps(resource)


def collection(
    collection_id: str, title: str, description: str | None, can_read: bool, can_write: bool
) -> dict[str, object]:
    resource: dict[str, object] = {"id": collection_id, "title": title}
    if description:
        resource["description"] = description
    resource.update(can_read=can_read, can_write=can_write, media_types=[STIX_MEDIA_TYPE])
    return resource
