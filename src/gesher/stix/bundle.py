"""Reading STIX content without holding it in memory: the objects of a bundle or TAXII envelope, one at
a time, from a file or request body of any size.

Accepted top levels (decided here, once, for every way in: CLI import, TAXII POST, federation pull):
- a STIX bundle, `{"type": "bundle", "id": ..., "objects": [...]}` (STIX 2.1 section 8);
- a TAXII envelope, `{"more": ..., "next": ..., "objects": [...]}` (TAXII 2.1 section 3.7), or an
  empty one, `{}` or `{"more": false}`;
- a single STIX object, `{"type": "indicator", ...}`.
A bare JSON array is refused: it says nothing about what it is, and wrapping it in a bundle is easy.
The objects are yielded as parsed, unvalidated (`validate.object_error` is the next step).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import ijson
from ijson.common import ObjectBuilder

from gesher.errors import InvalidStix

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_ENVELOPE_KEYS = frozenset({"more", "next"})
# ijson names every event by its path ("objects.item.external_references.item.url"): the work of
# building those names grows with depth times key length, quadratically for hostile input (a 100,000
# deep nest takes gigabytes). No STIX content comes near this bound; refuse past it.
MAX_PATH = 4096
# ijson names all the events of a chunk before handing any over, so the chunk bounds the work done
# before MAX_PATH is seen to be exceeded: 64 KiB of '[' costs ~20 s, 8 KiB ~0.06 s; normal
# parsing is as fast with either.
_CHUNK = 8192


def open_stix_file(path: Path) -> BinaryIO:
    """`path` opened for reading bytes, decompressed on the fly if it is gzip (by content, not name)."""
    with path.open("rb") as probe:
        compressed = _is_gzip(probe)
    return cast(BinaryIO, gzip.open(path, "rb")) if compressed else path.open("rb")


def decompressed(raw: BinaryIO) -> BinaryIO:
    """The bytes of an open, seekable file that the caller keeps (and closes), gunzipped on the fly if it is
    gzip (by content, not name). `raw` keeps its own position, so a caller can show progress through it."""
    return cast(BinaryIO, gzip.GzipFile(fileobj=raw, mode="rb")) if _is_gzip(raw) else raw


def _is_gzip(raw: BinaryIO) -> bool:
    compressed = raw.read(2) == _GZIP_MAGIC
    raw.seek(0)
    return compressed


def iter_bundle_objects(fp: BinaryIO) -> Iterator[object]:
    """The elements of the `objects` array of the bundle or envelope in `fp`, or the single object it
    holds, streamed (ijson, C backend when available, floats as `float`).

    Raises `InvalidStix` on malformed JSON (with the byte offset where the parser stopped, in the
    message and as `details["byte"]`), on nesting deeper than STIX content goes (`MAX_PATH`), or on an
    unexpected top level. The whole document is checked, so an error can come after some objects were
    yielded: consume inside the transaction that stores them."""
    reader = _Reader(fp)
    top = _TopLevel(reader)
    try:
        events = ijson.parse(reader, buf_size=_CHUNK, use_float=True)
        yield from ijson.items(top.watch(events), "objects.item")
    except ijson.JSONError as exc:
        raise InvalidStix(reader.describe(exc), details={"byte": reader.error_offset(exc)}) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InvalidStix(f"could not decompress the input: {exc}") from None
    single = top.finish()
    if single is not None:
        yield single


class _TopLevel:
    """Watches the parse events: passes those inside the top-level `objects` array on to ijson's item
    builder, builds every other top-level value itself (few and small for bundles and envelopes; the
    whole object when the input is a single object)."""

    def __init__(self, reader: _Reader) -> None:
        self._reader = reader
        self.values: dict[str, object] = {}
        self.objects_array = False
        self._key: str | None = None
        self._builder: ObjectBuilder | None = None

    def watch(self, events: Iterator[tuple[str, str, object]]) -> Iterator[tuple[str, str, object]]:
        in_array = False
        for prefix, event, value in events:
            if len(prefix) > MAX_PATH:
                raise InvalidStix(
                    f"JSON nested too deeply (a path longer than {MAX_PATH} characters) before byte "
                    f"{self._reader.position}"
                )
            if in_array:
                if prefix == "objects" and event == "end_array":
                    in_array = False
                else:
                    yield prefix, event, value
            elif self._builder is not None:
                self._build(event, value)
            elif self._key is not None:  # the first event of a top-level value
                if self._key == "objects" and event == "start_array":
                    if self.objects_array:
                        raise InvalidStix("the top-level object has two 'objects' arrays")
                    self.objects_array = in_array = True
                    self._key = None
                else:
                    self._builder = ObjectBuilder()
                    self._build(event, value)
            elif event == "map_key":
                self._key = str(value)
            elif event != "start_map" and event != "end_map":
                raise InvalidStix(
                    "expected a STIX bundle, a TAXII envelope or a single STIX object, "
                    f"but the top level is a JSON {'array' if event == 'start_array' else 'scalar'}"
                )

    def _build(self, event: str, value: object) -> None:
        assert self._builder is not None and self._key is not None
        self._builder.event(event, value)
        if not self._builder.containers:
            self.values[self._key] = self._builder.value
            self._builder = self._key = None

    def finish(self) -> dict[str, object] | None:
        """After the last event: the single object, if that is what the input was."""
        t = self.values.get("type")
        if self.objects_array:
            if t is not None and t != "bundle":
                raise InvalidStix(f"an 'objects' array belongs in a bundle or an envelope, not in a {t!r}")
            return None
        if "objects" in self.values and t in (None, "bundle"):
            raise InvalidStix("'objects' must be an array")
        if t == "bundle" or (t is None and self.values.keys() <= _ENVELOPE_KEYS):
            return None  # a bundle or an envelope without objects
        if t is None:
            raise InvalidStix(
                "expected a STIX bundle, a TAXII envelope or a single STIX object: "
                "the top level has neither an 'objects' array nor a 'type'"
            )
        return self.values


class _Reader:
    """Hands `fp` to the parser chunk by chunk, skipping a UTF-8 byte order mark (RFC 8259 allows
    ignoring it) and remembering where the current chunk starts, to place a parse error exactly."""

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp
        self._start = 0  # offset in `fp` of the current chunk
        self._chunk = b""
        self._first = True

    def read(self, size: int = -1) -> bytes:
        data = self._fp.read(size)
        self._start += len(self._chunk)
        if self._first and data:  # (ijson first reads zero bytes, to tell bytes from text)
            self._first = False
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
                self._start += len(_BOM)
        self._chunk = data
        return data

    @property
    def position(self) -> int:
        """Bytes of `fp` read so far."""
        return self._start + len(self._chunk)

    def describe(self, exc: ijson.JSONError) -> str:
        reason = _message(exc).split(b"\n", 1)[0].decode("utf-8", "replace")
        return f"invalid JSON near byte {self.error_offset(exc)}: {reason}"

    def error_offset(self, exc: ijson.JSONError) -> int:
        """yajl reports where it stopped inside the chunk it was given, only as a rendered snippet:
        40 - offset spaces then the chunk's start when offset < 30, else 10 spaces then
        chunk[offset - 30 : offset + 30]; CR and LF shown as spaces (yajl_render_error_string)."""
        if not self._chunk:  # end of input
            return self._start
        lines = _message(exc).split(b"\n")
        if len(lines) < 2:
            return self._start
        shown, chunk = lines[1], self._chunk.replace(b"\r", b" ").replace(b"\n", b" ")
        for offset in range(min(30, len(chunk) + 1)):
            if shown == b" " * (40 - offset) + chunk[: offset + 30]:
                return self._start + offset
        found = chunk.find(shown[10:]) if shown.startswith(b" " * 10) and len(shown) > 10 else -1
        return self._start + (found + 30 if found >= 0 else 0)


def _message(exc: ijson.JSONError) -> bytes:
    raw = exc.args[0] if exc.args else b""
    return raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogateescape")
