"""One contract, two object stores: every test here runs on a local directory and on S3.

What the platform relies on: streaming put of unknown length, streaming get, stat,
delete, listing, resumable multipart uploads, write-once objects, key rules, and memory
that does not grow with the object.
"""

from __future__ import annotations

import hashlib
import random
import tracemalloc
import uuid
from collections.abc import Iterator

import pytest

from storage import (
    InvalidKey,
    InvalidPart,
    ObjectNotFound,
    ObjectStore,
    UploadNotFound,
    WriteOnceViolation,
)

MIB = 1024 * 1024


def payload(total: int, seed: int = 7) -> bytes:
    """``total`` deterministic random bytes: any reordering or loss changes them."""
    return random.Random(seed).randbytes(total)


def pieces(data: bytes, piece: int) -> Iterator[bytes]:
    """``data`` as a generator of ``piece``-sized chunks (length unknown to the store)."""
    for start in range(0, len(data), piece):
        yield data[start : start + piece]


def read(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.get(key))


# -- put, get, stat --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "piece"),
    [(0, 1), (1, 1), (1000, 7), (5 * MIB + 123, 65_536), (17 * MIB + 1, MIB + 3)],
    ids=["empty", "one-byte", "odd-pieces", "5MiB-plus", "17MiB-plus"],
)
def test_put_of_unknown_length_streams_back_the_same_bytes(
    store: ObjectStore, total: int, piece: int
) -> None:
    data = payload(total)
    info = store.put("a/b/object.bin", pieces(data, piece))
    assert info.key == "a/b/object.bin"
    assert info.size == total
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    stat = store.stat("a/b/object.bin")
    assert (stat.size, stat.etag) == (total, info.etag)
    assert read(store, "a/b/object.bin") == data


def test_get_streams_in_pieces_no_larger_than_the_chunk_size(store: ObjectStore) -> None:
    data = payload(300_001)
    store.put("doc", [data])
    chunks = list(store.get("doc", chunk_size=65_536))
    assert len(chunks) >= 5
    assert all(len(chunk) <= 65_536 for chunk in chunks)
    assert b"".join(chunks) == data


def test_a_stream_closed_early_yields_nothing_more(store: ObjectStore) -> None:
    store.put("doc", [payload(10_000)])
    with store.get("doc", chunk_size=1000) as stream:
        first = next(stream)
    assert len(first) == 1000
    assert list(stream) == []
    stream.close()  # closing twice is harmless


def test_get_of_a_missing_object_fails_at_the_call(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("nope")


def test_missing_objects_are_reported(store: ObjectStore) -> None:
    assert not store.exists("nope")
    with pytest.raises(ObjectNotFound):
        store.stat("nope")
    with pytest.raises(ObjectNotFound):
        store.delete("nope")


def test_content_type_is_kept(store: ObjectStore) -> None:
    info = store.put("doc.pdf", [b"%PDF-1.7"], content_type="application/pdf")
    assert info.content_type == "application/pdf"
    assert store.stat("doc.pdf").content_type == "application/pdf"


def test_overwrite_replaces_the_object_and_its_etag(store: ObjectStore) -> None:
    first = store.put("doc", [b"first"])
    second = store.put("doc", [b"second!"])
    assert read(store, "doc") == b"second!"
    assert second.etag != first.etag
    assert store.stat("doc").etag == second.etag


def test_a_failed_put_leaves_no_object(store: ObjectStore) -> None:
    def dropped() -> Iterator[bytes]:
        yield payload(6 * MIB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError, match="client went away"):
        store.put("doc", dropped())
    assert not store.exists("doc")
    assert list(store.list_objects("")) == []


def test_a_failed_overwrite_keeps_the_old_object(store: ObjectStore) -> None:
    store.put("doc", [b"old"])

    def dropped() -> Iterator[bytes]:
        yield b"new"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put("doc", dropped())
    assert read(store, "doc") == b"old"


def test_text_chunks_are_refused_as_a_programming_error(store: ObjectStore) -> None:
    with pytest.raises(TypeError, match="bytes"):
        store.put("doc", ["not bytes"])  # type: ignore[list-item]


def test_put_memory_stays_far_below_the_object_size(store: ObjectStore) -> None:
    """96 MiB in 1 MiB chunks: Python allocations peak at a few parts, not the object.

    The S3 store holds ``parallel_uploads + 1`` parts of 8 MiB (24 MiB), the local store a
    chunk or two.
    """
    chunk = payload(MIB)
    tracemalloc.start()
    try:
        store.put("big", (chunk for _ in range(96)))
        with store.get("big") as stream:
            received = sum(len(piece) for piece in stream)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == 96 * MIB
    assert peak < 28 * MIB


# -- delete and list ----------------------------------------------------------------------


def test_delete_removes_the_object(store: ObjectStore) -> None:
    store.put("doc", [b"x"])
    store.delete("doc")
    assert not store.exists("doc")
    with pytest.raises(ObjectNotFound):
        store.get("doc")


def test_list_by_prefix_is_in_key_order_and_leaves_out_uploads(store: ObjectStore) -> None:
    for key in ("p/2", "p/1", "p/sub/3", "p-other", "q/1"):
        store.put(key, [key.encode()])
    upload = store.create_upload("p/pending")
    store.put_part(upload, 1, b"part")
    store.put("p/sealed", [b"bid"], write_once=True)
    listed = list(store.list_objects("p/"))
    assert [i.key for i in listed] == ["p/1", "p/2", "p/sealed", "p/sub/3"]
    assert [i.size for i in listed] == [3, 3, 3, 7]
    assert [i.key for i in store.list_objects("p")] == [
        "p-other",
        "p/1",
        "p/2",
        "p/sealed",
        "p/sub/3",
    ]
    assert [i.key for i in store.list_objects("")][-1] == "q/1"
    assert list(store.list_objects("nothing/")) == []


def test_listed_etags_match_stat(store: ObjectStore) -> None:
    store.put("p/1", [b"one"])
    [listed] = store.list_objects("p/")
    assert listed.etag == store.stat("p/1").etag


# -- write-once ------------------------------------------------------------------------------


def test_write_once_refuses_overwrite_and_delete(store: ObjectStore) -> None:
    store.put("sealed", [b"bid"], write_once=True)
    with pytest.raises(WriteOnceViolation):
        store.put("sealed", [b"tampered"])
    with pytest.raises(WriteOnceViolation):
        store.put("sealed", [b"tampered"], write_once=True)
    with pytest.raises(WriteOnceViolation):
        store.delete("sealed")
    assert read(store, "sealed") == b"bid"


def test_write_once_put_refuses_an_existing_ordinary_object(store: ObjectStore) -> None:
    store.put("doc", [b"ordinary"])
    with pytest.raises(WriteOnceViolation):
        store.put("doc", [b"sealed"], write_once=True)
    assert read(store, "doc") == b"ordinary"


def test_a_failed_write_once_put_does_not_lock_the_key(store: ObjectStore) -> None:
    def dropped() -> Iterator[bytes]:
        yield b"half"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put("sealed", dropped(), write_once=True)
    store.put("sealed", [b"ordinary"])
    store.delete("sealed")
    assert not store.exists("sealed")


# -- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/abs",
        "a/../b",
        "..",
        "a//b",
        "a/./b",
        "trailing/",
        "bad\nkey",
        "tab\tkey",
        "nul\x00key",
        "back\\slash",
        ".uploads/x",
        "a/.hidden",
        "x" * 1025,
        "a/" + "y" * 256,
    ],
)
def test_invalid_keys_are_refused_by_every_operation(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, [b"x"])
    with pytest.raises(InvalidKey):
        store.get(key)
    with pytest.raises(InvalidKey):
        store.stat(key)
    with pytest.raises(InvalidKey):
        store.delete(key)
    with pytest.raises(InvalidKey):
        store.create_upload(key)


def test_keys_with_chinese_and_spaces_are_accepted(store: ObjectStore) -> None:
    key = "招标文件/第 1 包\u3000技术要求 (final).pdf"
    store.put(key, [b"%PDF"])
    assert read(store, key) == b"%PDF"
    assert [i.key for i in store.list_objects("招标文件/")] == [key]


# -- multipart uploads ------------------------------------------------------------------------


def upload_in_parts(store: ObjectStore, key: str, data: bytes, part_size: int) -> str:
    """Upload ``data`` in parts, out of order, with one part retried after a bad attempt."""
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    upload = store.create_upload(key)
    for number in reversed(range(2, len(parts) + 1)):
        store.put_part(upload, number, parts[number - 1])
    store.put_part(upload, 1, b"garbage from a dropped connection")
    store.put_part(upload, 1, parts[0])
    return upload


@pytest.mark.parametrize(
    ("part_size", "tail"),
    [(5 * MIB, 17), (5 * MIB, 0), (6 * MIB, 5 * MIB + 1)],
    ids=["5MiB-parts", "5MiB-exact", "large-tail"],
)
def test_multipart_upload_joins_parts_in_number_order(
    store: ObjectStore, part_size: int, tail: int
) -> None:
    data = payload(2 * part_size + tail)
    upload = upload_in_parts(store, "bids/1/file", data, part_size)
    info = store.complete_upload(upload)
    assert info.size == len(data)
    assert store.stat("bids/1/file").size == len(data)
    assert read(store, "bids/1/file") == data
    assert [i.key for i in store.list_objects("")] == ["bids/1/file"]


def test_a_single_part_upload_completes(store: ObjectStore) -> None:
    upload = store.create_upload("one/part", content_type="text/plain")
    store.put_part(upload, 1, b"just one part")
    info = store.complete_upload(upload)
    assert info.size == 13
    assert read(store, "one/part") == b"just one part"
    assert store.stat("one/part").content_type == "text/plain"


def test_listed_parts_show_what_a_resuming_client_can_skip(store: ObjectStore) -> None:
    upload = store.create_upload("x/y")
    first = store.put_part(upload, 1, b"a" * 100)
    third = store.put_part(upload, 3, b"c" * 50)
    assert (first.number, first.size, third.size) == (1, 100, 50)
    assert store.list_parts(upload) == [first, third]
    again = store.put_part(upload, 1, b"A" * 70)
    assert again.etag != first.etag
    assert store.list_parts(upload) == [again, third]


def test_parts_may_be_streamed_from_an_iterable(store: ObjectStore) -> None:
    data = payload(6 * MIB + 5)
    upload = store.create_upload("streamed")
    part = store.put_part(upload, 1, pieces(data, 100_000))
    assert part.size == len(data)
    store.put_part(upload, 2, iter([b"tail"]))
    store.complete_upload(upload)
    assert read(store, "streamed") == data + b"tail"


def test_parts_with_gaps_in_their_numbers_join_in_order(store: ObjectStore) -> None:
    start = payload(5 * MIB)
    upload = store.create_upload("gaps")
    store.put_part(upload, 9, b"-end")
    store.put_part(upload, 2, start)
    store.complete_upload(upload)
    assert read(store, "gaps") == start + b"-end"


def test_a_short_part_before_the_last_is_refused_until_sent_again(store: ObjectStore) -> None:
    """S3's rule on both stores: every part but the last is at least 5 MiB."""
    first = payload(5 * MIB)
    upload = store.create_upload("short")
    store.put_part(upload, 1, first[:1000])
    store.put_part(upload, 2, b"tail")
    with pytest.raises(InvalidPart, match=r"part 1 .* at least"):
        store.complete_upload(upload)
    assert not store.exists("short")
    assert [(p.number, p.size) for p in store.list_parts(upload)] == [(1, 1000), (2, 4)]
    store.put_part(upload, 1, first)
    store.complete_upload(upload)
    assert read(store, "short") == first + b"tail"


def test_completed_upload_can_be_write_once(store: ObjectStore) -> None:
    upload = upload_in_parts(store, "bids/2/file", payload(10 * MIB + 1000), 5 * MIB)
    store.complete_upload(upload, write_once=True)
    with pytest.raises(WriteOnceViolation):
        store.put("bids/2/file", [b"replacement"])
    with pytest.raises(WriteOnceViolation):
        store.delete("bids/2/file")


def test_completion_onto_a_write_once_object_is_refused(store: ObjectStore) -> None:
    store.put("bids/3/file", [b"sealed"], write_once=True)
    upload = store.create_upload("bids/3/file")
    store.put_part(upload, 1, b"replacement")
    with pytest.raises(WriteOnceViolation):
        store.complete_upload(upload)
    assert read(store, "bids/3/file") == b"sealed"
    assert [p.number for p in store.list_parts(upload)] == [1]  # still there to abort


def test_a_completed_upload_is_gone(store: ObjectStore) -> None:
    upload = store.create_upload("x/y")
    store.put_part(upload, 1, b"part")
    store.complete_upload(upload)
    with pytest.raises(UploadNotFound):
        store.list_parts(upload)
    with pytest.raises(UploadNotFound):
        store.put_part(upload, 2, b"late")
    with pytest.raises(UploadNotFound):
        store.complete_upload(upload)


def test_an_aborted_upload_leaves_nothing(store: ObjectStore) -> None:
    upload = store.create_upload("x/y")
    store.put_part(upload, 1, b"part")
    store.abort_upload(upload)
    with pytest.raises(UploadNotFound):
        store.put_part(upload, 2, b"late")
    with pytest.raises(UploadNotFound):
        store.complete_upload(upload)
    with pytest.raises(UploadNotFound):
        store.abort_upload(upload)
    assert not store.exists("x/y")
    assert list(store.list_objects("")) == []


@pytest.mark.parametrize("upload_id", [uuid.uuid4().hex, "../../etc", "", "ABC"])
def test_unknown_upload_ids_are_reported(store: ObjectStore, upload_id: str) -> None:
    with pytest.raises(UploadNotFound):
        store.complete_upload(upload_id)
    with pytest.raises(UploadNotFound):
        store.list_parts(upload_id)
    with pytest.raises(UploadNotFound):
        store.put_part(upload_id, 1, b"x")


def test_completion_without_parts_is_refused(store: ObjectStore) -> None:
    upload = store.create_upload("empty")
    with pytest.raises(InvalidPart):
        store.complete_upload(upload)


@pytest.mark.parametrize("number", [0, -1, 10_001])
def test_part_numbers_outside_1_to_10000_are_refused(store: ObjectStore, number: int) -> None:
    upload = store.create_upload("x")
    with pytest.raises(InvalidPart):
        store.put_part(upload, number, b"x")


def test_uploads_to_one_key_do_not_mix(store: ObjectStore) -> None:
    first = store.create_upload("same")
    second = store.create_upload("same")
    store.put_part(first, 1, b"first")
    store.put_part(second, 1, b"second")
    store.complete_upload(second)
    assert read(store, "same") == b"second"
    assert [p.size for p in store.list_parts(first)] == [5]
