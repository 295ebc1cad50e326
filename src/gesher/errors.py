"""One small error hierarchy. Each error carries its HTTP status as a class attribute (read at run time,
so subclasses really override it); the API maps them to responses in one place (api/errors.py) and the
CLI prints the message and exits non-zero. Expected errors are never 500s."""

from __future__ import annotations


class GesherError(Exception):
    """Base of every expected error."""

    status: int = 400
    title: str = "Bad request"

    def __init__(self, description: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.details = details


class InvalidRequest(GesherError):
    status = 400
    title = "Invalid request"


class InvalidStix(InvalidRequest):
    title = "Invalid STIX content"


class Unauthenticated(GesherError):
    status = 401
    title = "Authentication required"


class Forbidden(GesherError):
    status = 403
    title = "Forbidden"


class NotFound(GesherError):
    status = 404
    title = "Not found"


class NotAcceptable(GesherError):
    status = 406
    title = "Not acceptable"


class Conflict(GesherError):
    status = 409
    title = "Conflict"


class PayloadTooLarge(GesherError):
    status = 413
    title = "Payload too large"


class UnsupportedMediaType(GesherError):
    status = 415
    title = "Unsupported media type"


class ConfigurationError(GesherError):
    status = 500
    title = "Server configuration error"


class Unavailable(GesherError):
    """The exchange cannot do this safely right now (e.g. its ledger cannot be appended): it refuses rather
    than act unrecorded (fail closed)."""

    status = 503
    title = "Service unavailable"
