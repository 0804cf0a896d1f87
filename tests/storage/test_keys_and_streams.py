"""Pure pieces under both backends: key rules and the reader behind unknown-length puts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storage import InvalidKey, ObjectStream, validate_key
from storage.s3 import _ChunkReader

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


@given(
    st.lists(st.binary(max_size=50), max_size=30),
    st.lists(st.integers(min_value=1, max_value=70), min_size=1, max_size=30),
)
def test_the_chunk_reader_returns_exactly_the_bytes_in_reads_of_the_asked_size(
    chunks: list[bytes], sizes: list[int]
) -> None:
    reader = _ChunkReader(chunks)
    expected = b"".join(chunks)
    received = bytearray()
    for size in sizes * (len(expected) // sum(sizes) + 2):
        piece = reader.read(size)
        assert len(piece) == min(size, len(expected) - len(received))
        received += piece
    assert bytes(received) == expected
    assert reader.size == len(expected)


def test_the_chunk_reader_pulls_chunks_only_as_needed() -> None:
    pulled = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield b"x" * 10

    reader = _ChunkReader(chunks())
    assert reader.read(25) == b"x" * 25
    assert pulled == [0, 1, 2]


def test_the_chunk_reader_refuses_an_unbounded_read() -> None:
    with pytest.raises(ValueError, match="whole object"):
        _ChunkReader([b"x"]).read(-1)


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
