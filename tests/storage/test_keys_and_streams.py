"""Pure pieces under both backends: key rules and the part reader behind streaming puts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import InvalidKey, ObjectStream, validate_key
from storage.s3 import _PartReader

segment = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "Zs"]).filter(str.isprintable)
    | st.sampled_from("-_()!"),
    min_size=1,
    max_size=20,
).filter(lambda s: not s.startswith("."))


@given(st.lists(segment, min_size=1, max_size=6))
def test_keys_of_printable_segments_are_accepted_unchanged(segments: list[str]) -> None:
    key = "/".join(segments)
    assert validate_key(key) == key


@given(st.lists(segment, min_size=1, max_size=4), st.sampled_from(["..", ".", "", ".x"]))
def test_a_dot_or_empty_segment_anywhere_is_refused(segments: list[str], bad: str) -> None:
    for position in range(len(segments) + 1):
        with pytest.raises(InvalidKey):
            validate_key("/".join([*segments[:position], bad, *segments[position:]]))


@given(st.lists(st.binary(max_size=50), max_size=30), st.integers(min_value=1, max_value=70))
def test_the_part_reader_cuts_exactly_the_bytes_into_full_parts_and_a_shorter_last(
    chunks: list[bytes], part_size: int
) -> None:
    reader = _PartReader(chunks, part_size)
    expected = b"".join(chunks)
    parts = [reader.next_part()]
    while not reader.at_end():
        parts.append(reader.next_part())
    assert b"".join(parts) == expected
    assert all(len(part) == part_size for part in parts[:-1])
    assert 0 < len(parts[-1]) <= part_size or expected == b""
    assert reader.next_part() == b""
    assert reader.size == len(expected)
    assert reader.sha256 == hashlib.sha256(expected).hexdigest()


def test_the_part_reader_pulls_chunks_only_as_needed() -> None:
    pulled = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield b"x" * 10

    reader = _PartReader(chunks(), 25)
    assert reader.next_part() == b"x" * 25
    assert pulled == [0, 1, 2]
    assert not reader.at_end()
    assert pulled == [0, 1, 2]  # the rest of chunk 2 answers without pulling


def test_the_part_reader_closes_its_source() -> None:
    closed = []

    def chunks() -> Iterator[bytes]:
        try:
            yield b"x"
            yield b"y"
        finally:
            closed.append(True)

    reader = _PartReader(chunks(), 1)
    assert reader.next_part() == b"x"
    assert closed == []
    reader.close()
    assert closed == [True]


def test_a_stream_releases_its_source_once_when_exhausted() -> None:
    released = []
    stream = ObjectStream(iter([b"a", b"b"]), lambda: released.append(True))
    assert list(stream) == [b"a", b"b"]
    stream.close()
    assert released == [True]


def test_a_stream_releases_its_source_when_reading_fails() -> None:
    released = []

    def failing() -> Iterator[bytes]:
        yield b"a"
        raise ConnectionResetError("dropped")

    stream = ObjectStream(failing(), lambda: released.append(True))
    assert next(stream) == b"a"
    with pytest.raises(ConnectionResetError):
        next(stream)
    assert released == [True]
