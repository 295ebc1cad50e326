"""Media types and marking-definition identifiers (STIX 2.1 section 7.2.1, TLP 2.0 extension)."""

from __future__ import annotations

from typing import Final

TAXII_MEDIA_TYPE: Final = "application/taxii+json;version=2.1"
STIX_MEDIA_TYPE: Final = "application/stix+json;version=2.1"
SPEC_VERSION: Final = "2.1"

# TLP 2.0 marking definitions as published by the OASIS CTI TC (extension-definition based).
TLP2_EXTENSION_ID: Final = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CLEAR: Final = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
TLP2_GREEN: Final = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
TLP2_AMBER: Final = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_AMBER_STRICT: Final = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
TLP2_RED: Final = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"


def stix_media_type(spec_version: str) -> str:
    """The media type of a STIX object of this spec version (TAXII 2.1 manifest records carry it)."""
    return f"application/stix+json;version={spec_version}"
