"""Pure STIX 2.1 code: constants, timestamps, validation of objects and patterns, bundle reading."""
