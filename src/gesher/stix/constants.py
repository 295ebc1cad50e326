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

# TLP 1.0 markings predefined by STIX 2.1 (section 7.2.1.4); accepted as aliases (WHITE = CLEAR).
TLP1_WHITE: Final = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
TLP1_GREEN: Final = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_AMBER: Final = "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"
TLP1_RED: Final = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"

# PAP markings (OASIS cti-stix-common-objects, extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b).
PAP_EXTENSION_ID: Final = "extension-definition--f8d78575-edfd-406e-8e84-6162a8450f5b"
PAP_CLEAR: Final = "marking-definition--ad15a0cd-55b6-4588-a14c-a66105329b92"
PAP_WHITE: Final = "marking-definition--a3bea94c-b469-41dc-9cfe-d6e7daba7730"
PAP_GREEN: Final = "marking-definition--c43594d1-4b11-4c59-93ab-1c9b14d53ce9"
PAP_AMBER: Final = "marking-definition--60f8932b-e51e-4458-b265-a2e8be9a80ab"
PAP_RED: Final = "marking-definition--740d36e5-7714-4c30-961a-3ae632ceee0e"


def stix_media_type(spec_version: str) -> str:
    """The media type of a STIX object of this spec version (TAXII 2.1 manifest records carry it)."""
    return f"application/stix+json;version={spec_version}"
