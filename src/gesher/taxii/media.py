"""Content negotiation (TAXII 2.1 section 1.6.8): the TAXII media type, version 2.1 or unversioned."""

from __future__ import annotations

from gesher.errors import NotAcceptable, UnsupportedMediaType
from gesher.stix.constants import TAXII_MEDIA_TYPE


def _is_taxii_21(media_range: str) -> bool:
    parts = [p.strip().lower() for p in media_range.split(";")]
    if parts[0] != "application/taxii+json":
        return False
    params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    if params.get("q", "1").strip() in {"0", "0.0", "0.00", "0.000"}:
        return False
    return params.get("version", "2.1").strip() == "2.1"


def require_taxii_accept(accept: str | None) -> None:
    """A TAXII 2.1 server answers only clients that accept `application/taxii+json;version=2.1`."""
    if accept and any(_is_taxii_21(r) for r in accept.split(",")):
        return
    raise NotAcceptable(f"the Accept header must include {TAXII_MEDIA_TYPE} (got {accept or 'nothing'!r})")


def require_taxii_content_type(content_type: str | None) -> None:
    if content_type and _is_taxii_21(content_type):
        return
    raise UnsupportedMediaType(
        f"the Content-Type must be {TAXII_MEDIA_TYPE} (got {content_type or 'nothing'!r})"
    )
