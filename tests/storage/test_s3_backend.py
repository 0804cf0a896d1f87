"""What only the S3 backend has: presigned URLs, object lock, and what the server enforces.

Object lock is checked against the server itself, not just our refusals: the locked version
cannot be deleted or have its retention shortened even by a client holding the bucket's
keys, while a plain PUT or DELETE on the key only stacks a new version above it.
"""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from storage import (
    ObjectNotFound,
    S3ObjectStore,
    StorageError,
    StorageUnavailable,
    open_object_store,
)
from tests.services import free_port
from tests.storage.conftest import ACCESS_KEY, SECRET_KEY, fresh_bucket, remove_bucket

pytestmark = pytest.mark.integration
MIB = 1024 * 1024


@pytest.fixture
def locked_store(s3_client: Minio) -> S3ObjectStore:
    """A bucket with object lock; retention of one day (the bucket is left to the server)."""
    store = S3ObjectStore(s3_client, fresh_bucket(s3_client, object_lock=True), object_lock=True)
    store.retention_days = 1
    return store


def retention_of(client: Minio, bucket: str, key: str, version_id: str | None = None) -> str:
    retention = client.get_object_retention(bucket, key, version_id=version_id)
    assert retention is not None
    return str(retention.mode)


def test_presigned_get_downloads_the_object_with_plain_http(s3_store: S3ObjectStore) -> None:
    s3_store.put("docs/招标文件.pdf", [b"%PDF tender"])
    url = s3_store.presigned_get_url("docs/招标文件.pdf", timedelta(minutes=5))
    with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback test server
        assert response.read() == b"%PDF tender"


def test_a_presigned_url_is_signed_and_expires_as_asked(s3_store: S3ObjectStore) -> None:
    """The test server has no identities and accepts any signature; MinIO checks them."""
    s3_store.put("docs/a.pdf", [b"a"])
    url = s3_store.presigned_get_url("docs/a.pdf", timedelta(minutes=5))
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    assert query["X-Amz-Signature"][0]


def test_no_url_is_signed_for_a_missing_object(s3_store: S3ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        s3_store.presigned_get_url("docs/missing.pdf", timedelta(minutes=5))


def test_without_object_lock_there_is_no_retention(s3_store: S3ObjectStore) -> None:
    assert s3_store.supports_retention is False


@pytest.mark.parametrize("parts", [[b"sealed"], [b"x" * (5 * MIB), b"tail"]], ids=["one", "two"])
def test_write_once_objects_get_compliance_retention(
    locked_store: S3ObjectStore, s3_client: Minio, parts: list[bytes]
) -> None:
    """Streamed put, single-part copy and multi-part compose: every path ends up locked."""
    assert locked_store.supports_retention
    bucket = locked_store.bucket
    locked_store.put("bids/7/price", [b"sealed"], write_once=True)
    assert retention_of(s3_client, bucket, "bids/7/price") == COMPLIANCE
    upload = locked_store.create_upload("bids/7/file")
    for number, part in enumerate(parts, start=1):
        locked_store.put_part(upload, number, part)
    locked_store.complete_upload(upload, write_once=True)
    assert retention_of(s3_client, bucket, "bids/7/file") == COMPLIANCE


def test_the_server_refuses_to_delete_a_locked_version(
    locked_store: S3ObjectStore, s3_client: Minio
) -> None:
    bucket = locked_store.bucket
    locked_store.put("bids/8/price", [b"sealed"], write_once=True)
    version = s3_client.stat_object(bucket, "bids/8/price").version_id
    with pytest.raises(S3Error) as refused:
        s3_client.remove_object(bucket, "bids/8/price", version_id=version)
    assert refused.value.code == "AccessDenied"
    shorter = Retention(COMPLIANCE, datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(S3Error):
        s3_client.set_object_retention(bucket, "bids/8/price", shorter, version_id=version)


def test_a_foreign_overwrite_stacks_a_version_above_the_locked_one(
    locked_store: S3ObjectStore, s3_client: Minio
) -> None:
    """What the server does not stop: our code refuses, the locked bytes stay readable."""
    bucket = locked_store.bucket
    locked_store.put("bids/9/price", [b"sealed"], write_once=True)
    version = s3_client.stat_object(bucket, "bids/9/price").version_id
    s3_client.put_object(bucket, "bids/9/price", io.BytesIO(b"forged"), 6)
    s3_client.remove_object(bucket, "bids/9/price")
    response = s3_client.get_object(bucket, "bids/9/price", version_id=version)
    try:
        assert response.read() == b"sealed"
    finally:
        response.close()
        response.release_conn()


def test_ensure_bucket_refuses_object_lock_on_a_bucket_created_without_it(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    store = S3ObjectStore(s3_client, s3_store.bucket, object_lock=True)
    with pytest.raises(StorageError, match="without object lock"):
        store.ensure_bucket()


def test_open_object_store_creates_a_locked_bucket(s3_endpoint: str, s3_client: Minio) -> None:
    bucket = f"opened-{datetime.now(UTC):%H%M%S%f}"
    store = open_object_store(
        f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/{bucket}"
        "?secure=false&object_lock=true&retention_days=1"
    )
    assert isinstance(store, S3ObjectStore)
    assert (store.supports_retention, store.retention_days) == (True, 1)
    assert s3_client.get_object_lock_config(bucket) is not None
    store.ensure_bucket()  # idempotent on the bucket it made


def test_open_object_store_uses_an_existing_bucket(s3_endpoint: str, s3_client: Minio) -> None:
    bucket = fresh_bucket(s3_client)
    s3_client.put_object(bucket, "already/there", io.BytesIO(b"x"), 1)
    store = open_object_store(f"s3://{ACCESS_KEY}:{SECRET_KEY}@{s3_endpoint}/{bucket}?secure=false")
    assert store.exists("already/there")
    remove_bucket(s3_client, bucket)


def test_a_completion_retried_after_a_crash_finishes_the_clean_up(
    s3_store: S3ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = s3_store.create_upload("bids/10/file")
    s3_store.put_part(upload, 1, b"sealed bid")
    real_drop = s3_store._drop_upload

    def crash(_: str) -> None:
        raise ConnectionResetError("worker killed after the join")

    monkeypatch.setattr(s3_store, "_drop_upload", crash)
    with pytest.raises(ConnectionResetError):
        s3_store.complete_upload(upload, write_once=True)
    monkeypatch.setattr(s3_store, "_drop_upload", real_drop)
    info = s3_store.complete_upload(upload, write_once=True)
    assert info.size == 10
    with pytest.raises(StorageError):
        s3_store.list_parts(upload)


def test_an_unreachable_server_is_reported_as_unavailable() -> None:
    client = Minio(
        f"127.0.0.1:{free_port()}",
        access_key="k",
        secret_key="s",
        secure=False,
        http_client=urllib3.PoolManager(retries=False),
    )
    store = S3ObjectStore(client, "nowhere")
    with pytest.raises(StorageUnavailable):
        store.stat("doc")

    def chunks() -> Iterator[bytes]:
        yield b"x"

    with pytest.raises(StorageUnavailable):
        store.put("doc", chunks())


def test_part_size_below_the_s3_minimum_is_refused(s3_client: Minio) -> None:
    with pytest.raises(ValueError, match="5 MiB"):
        S3ObjectStore(s3_client, "any", part_size=MIB)
