from __future__ import annotations

import pytest

from gesher.errors import NotAcceptable, UnsupportedMediaType
from gesher.taxii.media import require_taxii_accept, require_taxii_content_type


@pytest.mark.parametrize(
    "accept",
    [
        "application/taxii+json;version=2.1",
        "application/taxii+json; version=2.1",
        "application/taxii+json",
        "APPLICATION/TAXII+JSON;VERSION=2.1",
        "text/html, application/taxii+json;version=2.1;q=0.9",
    ],
)
def test_accepts_taxii_21(accept: str) -> None:
    require_taxii_accept(accept)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "*/*",
        "application/json",
        "application/taxii+json;version=2.0",
        "application/taxii+json;version=2.1;q=0",
        "application/stix+json;version=2.1",
    ],
)
def test_refuses_anything_else(accept: str | None) -> None:
    with pytest.raises(NotAcceptable):
        require_taxii_accept(accept)


def test_content_type_must_be_taxii() -> None:
    require_taxii_content_type("application/taxii+json;version=2.1")
    for bad in (None, "application/json", "application/stix+json;version=2.1", "text/plain"):
        with pytest.raises(UnsupportedMediaType):
            require_taxii_content_type(bad)
