"""The errors of early warning's pure core.

`ObservationError` refuses a whole observation file (issue 7, "Bad input": line-precise errors, nothing
half-loaded): it carries every problem found, each as `line N: reason`, up to a cap, and how many there
were in all. `SightingError` refuses one sighting the correlator cannot take (a time too far in the
future: clock skew)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gesher.errors import InvalidRequest


@dataclass(frozen=True)
class LineError:
    """One problem in an observation file: the 1-based line number and the reason."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}" if self.line else self.reason


class ObservationError(InvalidRequest):
    """An observation file was refused as a whole; `errors` lists the problems (at most the cap),
    `total` counts them all."""

    title = "Invalid observation file"

    def __init__(self, errors: Sequence[LineError], total: int | None = None) -> None:
        self.errors = tuple(errors)
        self.total = len(self.errors) if total is None else total
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {self.total - min(5, len(self.errors))} more)" if self.total > 5 else ""
        noun = "error" if self.total == 1 else "errors"
        super().__init__(
            f"observation file refused, {self.total} {noun}: {shown}{more}",
            details={"errors": [str(e) for e in self.errors], "total": self.total},
        )


class SightingError(InvalidRequest):
    """A sighting the correlator refuses (its time is beyond the clock-skew tolerance)."""

    title = "Invalid sighting"
