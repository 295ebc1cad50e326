"""Streaming the objects of bundles, envelopes and single objects; exact byte offsets for bad JSON."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from gesher.errors import InvalidStix
from gesher.stix.bundle import MAX_PATH, iter_bundle_objects, open_stix_file

STIX_DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "stix"
DATA_FILES = (
    sorted(p for p in STIX_DATA.glob("*/*") if p.suffix in {".json", ".stix2"}) if STIX_DATA.is_dir() else []
)

INDICATOR = {"type": "indicator", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "x_score": 1.5}
OBSERVED = {"type": "observed-data", "objects": {"item": {"type": "file"}}}


def objects_of(data: bytes) -> list[object]:
    return list(iter_bundle_objects(io.BytesIO(data)))


def error_of(data: bytes) -> InvalidStix:
    with pytest.raises(InvalidStix) as caught:
        objects_of(data)
    return caught.value


@pytest.mark.skipif(not DATA_FILES, reason=f"real STIX data not found in {STIX_DATA}")
@pytest.mark.parametrize("path", DATA_FILES, ids=lambda p: p.name)
def test_real_bundles_stream_the_same_objects_json_loads_sees(path: Path) -> None:
    with open_stix_file(path) as fp:
        streamed = list(iter_bundle_objects(fp))
    assert streamed == json.loads(path.read_bytes())["objects"]


def test_gzip_is_recognised_by_content_whatever_the_name(tmp_path: Path) -> None:
    bundle = json.dumps({"type": "bundle", "id": "bundle--1", "objects": [INDICATOR]}).encode()
    for name, data in [
        ("a.json.gz", gzip.compress(bundle)),
        ("b.json", gzip.compress(bundle)),
        ("c.gz", bundle),
    ]:
        path = tmp_path / name
        path.write_bytes(data)
        with open_stix_file(path) as fp:
            assert list(iter_bundle_objects(fp)) == [INDICATOR]


def test_corrupt_or_truncated_gzip_is_invalid_stix(tmp_path: Path) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(b"\x1f\x8b" + b"junk" * 10)
    with open_stix_file(path) as fp, pytest.raises(InvalidStix, match="could not decompress"):
        list(iter_bundle_objects(fp))
    path.write_bytes(gzip.compress(json.dumps({"objects": [INDICATOR] * 50}).encode())[:-30])
    with open_stix_file(path) as fp, pytest.raises(InvalidStix, match="could not decompress"):
        list(iter_bundle_objects(fp))


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"type": "bundle", "id": "bundle--1", "objects": [INDICATOR, INDICATOR]}, [INDICATOR, INDICATOR]),
        ({"objects": [INDICATOR], "type": "bundle"}, [INDICATOR]),  # keys in any order
        ({"more": True, "next": "abc", "objects": [INDICATOR]}, [INDICATOR]),  # TAXII envelope
        ({"type": "bundle", "id": "bundle--1"}, []),  # STIX 2.1: a bundle's objects are optional
        ({"type": "bundle", "id": "bundle--1", "objects": []}, []),
        ({}, []),  # an empty envelope
        ({"more": False}, []),
        (INDICATOR, [INDICATOR]),  # a single object
        # a single observed-data with the deprecated `objects` dictionary is an object, not a bundle
        (OBSERVED, [OBSERVED]),
        ({"objects": ["not an object", 7, None]}, ["not an object", 7, None]),  # validation comes next
    ],
)  # fmt: skip
def test_accepted_top_levels(document: object, expected: list[object]) -> None:
    assert objects_of(json.dumps(document).encode()) == expected


def test_numbers_are_floats_and_ints_not_decimals() -> None:
    [obj] = objects_of(b'{"objects": [{"a": 1.5, "b": 2, "c": 1e3}]}')
    assert obj == {"a": 1.5, "b": 2, "c": 1000.0}
    assert isinstance(obj, dict)
    assert [type(v) for v in obj.values()] == [float, int, float]


def test_a_utf8_byte_order_mark_is_ignored_and_offsets_still_count_it() -> None:
    assert objects_of(b'\xef\xbb\xbf{"objects": [{"x": 1}]}') == [{"x": 1}]
    assert "near byte 25:" in str(error_of(b'\xef\xbb\xbf{"objects": [{"x": 1}]] '))


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"[1, 2]", "the top level is a JSON array"),
        (b'"bundle"', "the top level is a JSON scalar"),
        (b'{"foo": 1}', "neither an 'objects' array nor a 'type'"),
        (b'{"type": "bundle", "objects": {}}', "'objects' must be an array"),
        (b'{"objects": {"a": 1}}', "'objects' must be an array"),
        (b'{"objects": [1], "objects": [2]}', "two 'objects' arrays"),
        (
            b'{"type": "indicator", "objects": [1]}',
            "belongs in a bundle or an envelope, not in a 'indicator'",
        ),
    ],
)
def test_unexpected_top_levels_are_invalid_stix(data: bytes, fragment: str) -> None:
    assert fragment in str(error_of(data))


@pytest.mark.parametrize(
    ("data", "offset", "reason"),
    [
        (b"", 0, "premature EOF"),
        (b'{"objects": [1, 2', 17, "premature EOF"),
        (b'{"objects": [1, 2]} x', 21, "trailing garbage"),
        (b'{"objects": [{"type": "x"}, {"type": tru}]}', 40, "invalid string"),
        (b'{"objects": ["\xff"]}', 15, "invalid bytes in UTF8 string"),
        (b'{"objects": [1,\n\n 2,, 3]}', 21, "unallowed token"),
    ],
)
def test_malformed_json_reports_the_byte_offset(data: bytes, offset: int, reason: str) -> None:
    error = error_of(data)
    assert f"invalid JSON near byte {offset}: " in str(error)
    assert reason in str(error)
    assert error.details == {"byte": offset}
    assert "\n" not in str(error)


def test_offsets_are_exact_deep_into_large_documents() -> None:
    """Past the first parser buffer and more than 30 bytes into a chunk: yajl shows a snippet from
    which the offset is recovered."""
    head = b'{"type": "bundle", "objects": [' + b", ".join([json.dumps(INDICATOR).encode()] * 3000)
    data = head + b', {"type": nul}]}'
    error = error_of(data)
    assert error.details == {"byte": data.index(b"nul}") + 3}
    assert len(data) > 200_000


def test_objects_are_yielded_before_the_input_is_read_to_the_end() -> None:
    class Spy(io.BytesIO):
        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.consumed = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            self.consumed += len(chunk)
            return chunk

    data = json.dumps({"type": "bundle", "objects": [INDICATOR] * 20_000}).encode()
    spy = Spy(data)
    first = next(iter(iter_bundle_objects(spy)))
    assert first == INDICATOR
    assert spy.consumed < len(data) // 10


def test_errors_after_the_objects_surface_after_they_were_yielded() -> None:
    """Documented behaviour: the whole document is checked, so consume inside one transaction."""
    seen: list[object] = []
    with pytest.raises(InvalidStix, match="trailing garbage"):
        for obj in iter_bundle_objects(io.BytesIO(b'{"objects": [{"a": 1}, {"b": 2}]} junk')):
            seen.append(obj)
    assert seen == [{"a": 1}, {"b": 2}]


@pytest.mark.parametrize(
    "data",
    [
        b'{"objects": [' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"]}",
        b'{"objects": [{"a": ' + b'{"b": ' * 100_000 + b"1" + b"}" * 100_001 + b"]}",
        b'{"type": "x-deep", "v": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # a single object too
        b'{"objects": [{"' + b"k" * (MAX_PATH + 1) + b'": [1, 2, 3]}]}',
    ],
    ids=["deep arrays", "deep objects", "deep single object", "long key"],
)
def test_hostile_nesting_is_refused_early(data: bytes) -> None:
    """ijson's work per event grows with the path's length; hostile nesting would take minutes and
    gigabytes. Refused within the first few kilobytes instead."""
    error = error_of(data)
    assert "nested too deeply" in str(error)


def test_realistic_nesting_is_fine() -> None:
    nested: dict[str, object] = {"type": "x-nested", "leaf": 1}
    for i in range(40):
        nested = {"type": "x-nested", f"level_{i:02d}": nested}
    assert objects_of(json.dumps({"objects": [nested]}).encode()) == [nested]
