"""The licensing core's frozen dataclasses to and from JSON, driven by their type hints (so a field added to
the core needs no change here). Dataclass values carry their class name under "type", which is how a union
(a licence `Condition`, a misuse `Action`) is decoded back; enums are stored by value, dates and times in ISO
8601, tuples and frozensets as lists (frozensets sorted, so equal states serialise identically)."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin

import orjson

T = TypeVar("T")
_TAG = "type"


def dumps(value: object) -> str:
    """A state (or any value the core uses) as JSON text."""
    return orjson.dumps(encode(value)).decode()


def loads(cls: type[T], text: str) -> T:
    """The value of type `cls` that `dumps` wrote."""
    return typing.cast(T, decode(cls, orjson.loads(text)))


def encode(value: object) -> object:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        body = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TAG: type(value).__name__, **body}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return sorted((encode(v) for v in value), key=lambda v: orjson.dumps(v))
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(encode(k)): encode(v) for k, v in value.items()}
    return value


def decode(hint: Any, data: object) -> object:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _decode_union(get_args(hint), data)
    if origin is tuple:
        args = get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in _list(data))
        return tuple(decode(a, v) for a, v in zip(args, _list(data), strict=True))
    if origin in (frozenset, set):
        return frozenset(decode(get_args(hint)[0], v) for v in _list(data))
    if origin is dict:
        key, value = get_args(hint)
        return {decode(key, k): decode(value, v) for k, v in typing.cast(dict[str, object], data).items()}
    if dataclasses.is_dataclass(hint):
        return _decode_dataclass(typing.cast(type, hint), data)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(data)
    if hint is datetime:
        return datetime.fromisoformat(str(data))
    if hint is date:
        return date.fromisoformat(str(data))
    return data


def _decode_union(args: tuple[Any, ...], data: object) -> object:
    if data is None and type(None) in args:
        return None
    options = [a for a in args if a is not type(None)]
    if len(options) == 1:
        return decode(options[0], data)
    if isinstance(data, dict) and _TAG in data:
        chosen = next((a for a in options if getattr(a, "__name__", "") == data[_TAG]), None)
        if chosen is not None:
            return decode(chosen, data)
    raise ValueError(f"cannot decode {data!r} as one of {options}")


def _decode_dataclass(cls: type, data: object) -> object:
    values = typing.cast(dict[str, object], data)
    if values.get(_TAG, cls.__name__) != cls.__name__:
        raise ValueError(f"stored {values.get(_TAG)}, expected {cls.__name__}")
    hints = _hints(cls)
    fields = [f.name for f in dataclasses.fields(cls) if f.name in values]
    kwargs = {name: decode(hints[name], values[name]) for name in fields}
    return cls(**kwargs)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _list(data: object) -> list[object]:
    if not isinstance(data, list):
        raise ValueError(f"expected a list, got {data!r}")
    return data
