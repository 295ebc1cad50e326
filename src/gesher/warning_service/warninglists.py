"""Warninglists (issue 7, "Alert rules": suppression by warninglists): values everyone sees and nobody
should be warned about (popular domains, public resolvers, hashes of common software), as MISP keeps them.

`WarningConfig.warninglists` names files; each is either a MISP warninglist (`list.json`, its `list` of
values: the format of github.com/MISP/misp-warninglists) or plain text, one value per line, `#` for
comments. Values are normalised like everything else, so `Google.COM.` on a list suppresses the token
`domain-name:google.com`. A token that is a listed value raises no alert (its sightings are still
stored and counted). CIDR and substring lists are not interpreted: exact values only.

Files are read once per process and again when they change (their size and modification time)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import orjson

from gesher.errors import ConfigurationError
from gesher.warning.values import normalise


def listed(paths: Sequence[Path], token: str) -> bool:
    """Whether the value token `token` (`type:value`) is on one of the warninglists at `paths`."""
    return any(token in _tokens(str(p), *_stamp(p)) for p in paths)


def _stamp(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigurationError(f"warninglist {path} cannot be read: {exc.strerror}") from None
    return info.st_size, info.st_mtime_ns


@functools.lru_cache(maxsize=64)
def _tokens(path: str, size: int, mtime: int) -> frozenset[str]:
    data = Path(path).read_bytes()
    if path.endswith(".json"):
        try:
            values = orjson.loads(data).get("list", [])
        except (orjson.JSONDecodeError, AttributeError):
            raise ConfigurationError(
                f"warninglist {path} is not a MISP warninglist (JSON with a list)"
            ) from None
    else:
        lines = data.decode("utf-8", errors="replace").splitlines()
        values = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    found = set()
    for value in values:
        if not isinstance(value, str):
            continue
        try:
            normal = normalise(value)
        except ValueError:
            continue  # CIDR ranges, wildcards and the like: not exact values
        found.add(f"{normal.type.value}:{normal.value}")
    return frozenset(found)
