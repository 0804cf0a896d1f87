"""One contract, two object stores: a local directory and S3 (SeaweedFS).

Every behaviour the platform relies on is checked on both backends: streaming put of
unknown length, streaming get, stat, delete, listing, resumable multipart uploads and
write-once objects; then what only one backend has (presigned URLs, object lock).
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio

from storage import (
    InvalidKey,
    LocalObjectStore,
    NotSupported,
    ObjectNotFound,
    ObjectStore,
    S3ObjectStore,
    UploadNotFound,
    WriteOnceViolation,
    open_object_store,
)
from tests.services import Services

pytestmark = pytest.mark.integration
MIB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalObjectStore(tmp_path / "objects")
    services: Services = request.getfixturevalue("services")
    endpoint = services.ensure_s3()
    return open_object_store(f"s3://k:s@{endpoint}/contract-{uuid.uuid4().hex[:12]}?secure=false")


def pieces(total: int, piece: int, seed: int = 7) -> Iterator[bytes]:
    """``total`` deterministic pseudo-random bytes in pieces of ``piece``."""
    block = hashlib.sha256(str(seed).encode()).digest() * (piece // 32 + 1)
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        yield block[:size]
        sent += size


def whole(total: int, piece: int) -> bytes:
    return b"".join(pieces(total, piece))


@pytest.mark.parametrize(
    ("total", "piece"), [(0, 1), (1, 1), (1000, 7), (5 * MIB + 123, 65_536), (17 * MIB + 1, MIB)]
)
def test_put_of_unknown_length_then_get_returns_the_same_bytes(
    store: ObjectStore, total: int, piece: int
) -> None:
    info = store.put("a/b/object.bin", pieces(total, piece))
    assert info.size == total
    assert store.stat("a/b/object.bin").size == total
    assert b"".join(store.get("a/b/object.bin", chunk_size=100_000)) == whole(total, piece)


def test_overwrite_replaces_unless_write_once(store: ObjectStore) -> None:
    store.put("doc", [b"first"])
    store.put("doc", [b"second"])
    assert b"".join(store.get("doc")) == b"second"
    store.put("sealed", [b"bid"], write_once=True)
    with pytest.raises(WriteOnceViolation):
        store.put("sealed", [b"tampered"])
    with pytest.raises(WriteOnceViolation):
        store.delete("sealed")
    assert b"".join(store.get("sealed")) == b"bid"


def test_missing_objects_are_reported(store: ObjectStore) -> None:
    assert not store.exists("nope")
    with pytest.raises(ObjectNotFound):
        store.stat("nope")
    with pytest.raises(ObjectNotFound):
        list(store.get("nope"))
    with pytest.raises(ObjectNotFound):
        store.delete("nope")


def test_delete_and_list_by_prefix(store: ObjectStore) -> None:
    for key in ("p/1", "p/2", "q/1"):
        store.put(key, [key.encode()])
    assert sorted(i.key for i in store.list_objects("p/")) == ["p/1", "p/2"]
    store.delete("p/1")
    assert [i.key for i in store.list_objects("p/")] == ["p/2"]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", "a/./b", "bad\nkey"])
def test_invalid_keys_are_refused(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, [b"x"])


@pytest.mark.parametrize("part_size", [1000, 5 * MIB])
def test_multipart_upload_resumes_and_joins_parts_in_order(
    store: ObjectStore, part_size: int
) -> None:
    data = whole(3 * part_size + 17, 4096)
    parts = [data[i : i + part_size] for i in range(0, len(data), part_size)]
    upload = store.create_upload("bids/1/file")
    store.put_part(upload, 2, parts[1])
    store.put_part(upload, 1, b"garbage from a dropped connection")
    store.put_part(upload, 1, parts[0])  # the retry replaces it
    listed = store.list_parts(upload)
    assert [(p.number, p.size) for p in listed] == [(1, len(parts[0])), (2, len(parts[1]))]
    for number, part in enumerate(parts[2:], start=3):
        store.put_part(upload, number, iter([part[:10], part[10:]]))
    info = store.complete_upload(upload, write_once=True)
    assert info.size == len(data)
    assert b"".join(store.get("bids/1/file")) == data
    with pytest.raises(WriteOnceViolation):
        store.put("bids/1/file", [b"replacement"])
    with pytest.raises(UploadNotFound):
        store.list_parts(upload)
    assert [i.key for i in store.list_objects("")] == ["bids/1/file"]


def test_aborted_upload_leaves_nothing(store: ObjectStore) -> None:
    upload = store.create_upload("x/y")
    store.put_part(upload, 1, b"part")
    store.abort_upload(upload)
    with pytest.raises(UploadNotFound):
        store.put_part(upload, 2, b"late")
    with pytest.raises(UploadNotFound):
        store.complete_upload(upload)
    assert not store.exists("x/y")
    assert list(store.list_objects("")) == []


def test_unknown_upload_is_reported(store: ObjectStore) -> None:
    with pytest.raises(UploadNotFound):
        store.list_parts(uuid.uuid4().hex)


def test_local_store_has_no_presigned_urls(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put("a", [b"x"])
    with pytest.raises(NotSupported):
        store.presigned_get_url("a", timedelta(minutes=5))
    assert store.supports_retention is False


def test_s3_presigned_get_downloads_the_object(services: Services) -> None:
    store = open_object_store(
        f"s3://k:s@{services.ensure_s3()}/presign-{uuid.uuid4().hex[:8]}?secure=false"
    )
    store.put("docs/招标文件.pdf", [b"%PDF tender"])
    url = store.presigned_get_url("docs/招标文件.pdf", timedelta(minutes=5))
    with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback test server
        assert response.read() == b"%PDF tender"


def test_s3_object_lock_keeps_sealed_objects(services: Services) -> None:
    endpoint = services.ensure_s3()
    bucket = f"locked-{uuid.uuid4().hex[:8]}"
    store = open_object_store(f"s3://k:s@{endpoint}/{bucket}?secure=false&object_lock=true")
    assert isinstance(store, S3ObjectStore)
    assert store.supports_retention
    store.put("bids/7/price", [b"sealed"], write_once=True)
    client = Minio(endpoint, access_key="k", secret_key="s", secure=False)
    retention = client.get_object_retention(bucket, "bids/7/price")
    assert retention is not None
    assert retention.mode == "COMPLIANCE"
    with pytest.raises(WriteOnceViolation):
        store.put("bids/7/price", [b"replaced"], write_once=True)


@pytest.mark.parametrize("url", ["ftp://x/y", "s3://host:9000", "s3://k:s@host/a/b", "file://"])
def test_bad_store_urls_fail_at_start_up(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        open_object_store(url)


def test_local_writes_are_atomic(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise OSError("connection dropped")

    with pytest.raises(OSError, match="connection dropped"):
        store.put("doc", failing())
    assert not store.exists("doc")
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == []
    assert os.listdir(tmp_path) == []
