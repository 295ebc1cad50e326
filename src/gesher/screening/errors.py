"""The two expected errors of screening; both are 422 (the request was understood, its content is not
usable) and both say exactly what to fix."""

from __future__ import annotations

from gesher.errors import GesherError


class WatchlistFileError(GesherError):
    """A watchlist file that cannot be loaded. The message names the file, the record number or line and
    the field; `details` carries them as `file`, `position` and `field`. Nothing of the file is loaded."""

    status = 422
    title = "Invalid watchlist file"

    def __init__(self, filename: str, position: str, field: str | None, problem: str) -> None:
        where = f"{filename}: {position}" if position else filename
        super().__init__(
            f"{where}: {f'field {field!r}: ' if field else ''}{problem}",
            details={"file": filename, "position": position, "field": field},
        )


class ScreeningInputError(GesherError):
    """A name (or country, or schema) that cannot be screened: empty once normalised, longer than 300
    characters, control characters only, an unknown schema or a country that is not an ISO code."""

    status = 422
    title = "Invalid screening input"
