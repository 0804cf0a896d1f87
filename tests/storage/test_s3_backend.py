"""What only the S3 backend has: presigned URLs, object lock, S3 multipart uploads, and
what the server enforces.

Object lock is checked against the server itself, not just our refusals: the locked version
cannot be deleted or have its retention shortened even by a client holding the bucket's
keys, while a plain PUT or DELETE on the key only stacks a new version above it.
"""

from __future__ import annotations

import io
import json
import logging
import random
import re
import threading
import time
import tracemalloc
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from storage import (
    InvalidPart,
    ObjectNotFound,
    S3ObjectStore,
    StorageError,
    StorageUnavailable,
    UploadNotFound,
    WriteOnceViolation,
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
    """Streamed put and multipart completion of one or more parts: every path ends up locked."""
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


@pytest.mark.parametrize("write_once", [True, False], ids=["write-once", "ordinary"])
def test_a_completion_retried_after_a_crash_finishes_the_clean_up(
    s3_store: S3ObjectStore, monkeypatch: pytest.MonkeyPatch, write_once: bool
) -> None:
    """S3 has joined the parts and forgotten the upload; the marker or record tells us."""
    upload = s3_store.create_upload("bids/10/file")
    s3_store.put_part(upload, 1, b"sealed bid")
    real_drop = s3_store._drop_upload

    def crash(_: str) -> None:
        raise ConnectionResetError("worker killed after the join")

    monkeypatch.setattr(s3_store, "_drop_upload", crash)
    with pytest.raises(ConnectionResetError):
        s3_store.complete_upload(upload, write_once=write_once)
    monkeypatch.setattr(s3_store, "_drop_upload", real_drop)
    info = s3_store.complete_upload(upload, write_once=write_once)
    assert info.size == 10
    with pytest.raises(UploadNotFound):
        s3_store.list_parts(upload)


def test_an_upload_s3_has_forgotten_is_not_mistaken_for_a_finished_one(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    """An object already at the key does not make an aborted upload look completed."""
    s3_store.put("bids/11/file", [b"older object"])
    upload = s3_store.create_upload("bids/11/file")
    s3_store.put_part(upload, 1, b"part")
    abort_behind_the_store(s3_store, s3_client, upload)
    with pytest.raises(UploadNotFound):
        s3_store.put_part(upload, 2, b"late")
    with pytest.raises(UploadNotFound):
        s3_store.list_parts(upload)
    with pytest.raises(UploadNotFound):
        s3_store.complete_upload(upload)
    with pytest.raises(UploadNotFound):  # completion found it gone and dropped the manifest
        s3_store.abort_upload(upload)
    assert b"".join(s3_store.get("bids/11/file")) == b"older object"


def test_another_store_sees_an_upload_completed_elsewhere_as_gone(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    """Manifests are cached, but S3 decides whether the upload is still open."""
    other = S3ObjectStore(s3_client, s3_store.bucket)
    upload = s3_store.create_upload("x/y")
    s3_store.put_part(upload, 1, b"part")
    assert [p.number for p in other.list_parts(upload)] == [1]  # its cache now holds it
    s3_store.complete_upload(upload)
    with pytest.raises(UploadNotFound):
        other.put_part(upload, 2, b"late")
    with pytest.raises(UploadNotFound):
        other.list_parts(upload)


def test_parts_given_as_chunks_are_spooled_with_bounded_memory(s3_store: S3ObjectStore) -> None:
    """Past ``part_size`` (8 MiB) the spool moves to disk: 32 MiB costs about 10 MiB."""
    chunk = random.Random(3).randbytes(MIB)
    upload = s3_store.create_upload("spooled")
    tracemalloc.start()
    try:
        big = s3_store.put_part(upload, 1, (chunk for _ in range(32)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    small = s3_store.put_part(upload, 2, iter([chunk[:1000], b"tail"]))
    assert (big.size, small.size) == (32 * MIB, 1004)
    assert peak < 16 * MIB
    assert s3_store.list_parts(upload) == [big, small]
    s3_store.complete_upload(upload)
    assert b"".join(s3_store.get("spooled")) == chunk * 32 + chunk[:1000] + b"tail"


def test_parts_of_one_upload_go_to_s3_two_at_a_time_and_others_are_not_held_back(
    s3_store: S3ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parts that arrive together would finish together and leave the store idle while
    the next ones cross the web hop; the rest wait, received, for a sending slot."""
    sending: dict[str, int] = {}
    most: dict[str, int] = {}
    most_overall = 0
    lock = threading.Lock()
    send_part = s3_store._send_part

    def counted(upload: Any, number: int, body: Any, size: int | None = None) -> Any:
        nonlocal most_overall
        with lock:
            sending[upload.upload_id] = sending.get(upload.upload_id, 0) + 1
            most[upload.upload_id] = max(most.get(upload.upload_id, 0), sending[upload.upload_id])
            most_overall = max(most_overall, sum(sending.values()))
        try:
            time.sleep(0.2)  # long enough for every waiting part to try its luck
            return send_part(upload, number, body, size)
        finally:
            with lock:
                sending[upload.upload_id] -= 1

    monkeypatch.setattr(s3_store, "_send_part", counted)
    first, second = s3_store.create_upload("first"), s3_store.create_upload("second")
    sends = [(first, n) for n in range(1, 6)] + [(second, n) for n in range(1, 3)]
    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        parts = list(pool.map(lambda s: s3_store.put_part(s[0], s[1], f"{s}".encode()), sends))
    assert [p.number for p in parts] == [n for _, n in sends]
    assert most == {first: 2, second: 2}
    assert most_overall == 4
    assert [p.number for p in s3_store.list_parts(first)] == [1, 2, 3, 4, 5]
    assert [p.number for p in s3_store.list_parts(second)] == [1, 2]
    s3_store.abort_upload(first)
    s3_store.abort_upload(second)


def test_a_completion_on_a_locked_bucket_is_kept_under_compliance(
    locked_store: S3ObjectStore, s3_client: Minio
) -> None:
    data = random.Random(4).randbytes(5 * MIB) + b"tail"
    upload = locked_store.create_upload("bids/12/file")
    locked_store.put_part(upload, 1, data[: 5 * MIB])
    locked_store.put_part(upload, 2, data[5 * MIB :])
    info = locked_store.complete_upload(upload, write_once=True)
    bucket = locked_store.bucket
    version = s3_client.stat_object(bucket, "bids/12/file").version_id
    retention = s3_client.get_object_retention(bucket, "bids/12/file", version_id=version)
    assert retention is not None
    assert retention.mode == COMPLIANCE
    assert retention.retain_until_date > datetime.now(UTC) + timedelta(hours=23)
    assert info.size == len(data)
    assert b"".join(locked_store.get("bids/12/file")) == data
    with pytest.raises(WriteOnceViolation):
        locked_store.delete("bids/12/file")
    with pytest.raises(S3Error):
        s3_client.remove_object(bucket, "bids/12/file", version_id=version)


def test_a_part_sent_twice_within_a_second_by_two_stores_must_be_sent_again(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    """SeaweedFS keeps both attempts and dates them to the second: neither is trusted."""
    other = S3ObjectStore(s3_client, s3_store.bucket)
    upload = s3_store.create_upload("resent")
    s3_store.put_part(upload, 2, b"tail")
    while time.time() % 1 > 0.3:  # both attempts well inside one second
        time.sleep(0.05)
    s3_store.put_part(upload, 1, b"first attempt")
    other.put_part(upload, 1, b"second attempt")
    assert [p.number for p in s3_store.list_parts(upload)] == [2]
    with pytest.raises(InvalidPart, match="send it again"):
        s3_store.complete_upload(upload)
    final = random.Random(5).randbytes(5 * MIB)
    s3_store.put_part(upload, 1, final)
    assert [p.size for p in s3_store.list_parts(upload)] == [5 * MIB, 4]
    s3_store.complete_upload(upload)
    assert b"".join(s3_store.get("resent")) == final + b"tail"


def test_parts_are_listed_across_pages(
    s3_store: S3ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.s3.PARTS_PER_PAGE", 2)
    upload = s3_store.create_upload("paged")
    for number in (1, 2, 3, 5, 8):
        s3_store.put_part(upload, number, str(number).encode())
    assert [p.number for p in s3_store.list_parts(upload)] == [1, 2, 3, 5, 8]


def test_a_completion_answered_200_with_an_error_body_fails(
    s3_client: Minio, s3_store: S3ObjectStore
) -> None:
    """S3 may start a 200 answer before the join ends, then report the failure in the body."""
    store = S3ObjectStore(s3_client, s3_store.bucket, http=_FailingCompletions())
    upload = store.create_upload("x/y")
    store.put_part(upload, 1, b"part")
    with pytest.raises(StorageError, match="InternalError"):
        store.complete_upload(upload)
    assert not store.exists("x/y")
    assert [p.number for p in store.list_parts(upload)] == [1]


def test_an_upload_from_the_one_object_per_part_layout_is_dropped(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    upload = uuid.uuid4().hex
    for name, body in (("upload.json", b'{"key": "old/file"}'), ("part-000001", b"part")):
        s3_client.put_object(
            s3_store.bucket, f".uploads/{upload}/{name}", io.BytesIO(body), len(body)
        )
    with pytest.raises(UploadNotFound, match="start again"):
        s3_store.put_part(upload, 2, b"more")
    left = s3_client.list_objects(s3_store.bucket, prefix=f".uploads/{upload}/", recursive=True)
    assert list(left) == []


def test_a_manifest_in_the_shared_uploads_folder_is_moved_and_the_upload_goes_on(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    """Earlier versions kept manifests in ``.uploads/``, next to SeaweedFS's own uploads."""
    bucket = s3_store.bucket
    upload = s3_store.create_upload("moved/file")
    first = random.randbytes(5 * MIB)
    s3_store.put_part(upload, 1, first)
    ours = f".upload-manifests/{upload}/upload.json"
    response = s3_client.get_object(bucket, ours)
    try:
        body = response.read()
    finally:
        response.close()
        response.release_conn()
    s3_client.put_object(bucket, f".uploads/{upload}/upload.json", io.BytesIO(body), len(body))
    s3_client.remove_object(bucket, ours)

    restarted = S3ObjectStore(s3_client, bucket)  # nothing cached: reads the bucket
    restarted.put_part(upload, 2, b"tail")
    assert restarted.complete_upload(upload).size == len(first) + 4
    with restarted.get("moved/file") as stream:
        assert b"".join(stream) == first + b"tail"
    for folder in (f".uploads/{upload}/", f".upload-manifests/{upload}/"):
        assert list(s3_client.list_objects(bucket, prefix=folder, recursive=True)) == []


def test_manifests_are_kept_apart_from_the_servers_own_uploads_folder(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    upload = s3_store.create_upload("apart/file")
    names = [
        str(item.object_name)
        for item in s3_client.list_objects(s3_store.bucket, prefix=".", recursive=True)
    ]
    assert f".upload-manifests/{upload}/upload.json" in names
    assert not any(name.startswith(".uploads/") for name in names)


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


def test_an_unreachable_server_is_reported_as_unavailable_for_uploads(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The store's own pool (a region is given, so nothing goes through the SDK first).

    Its connection attempts are retried; neither the error nor urllib3's log of the retries
    repeats the signed URL's signature.
    """
    client = Minio(
        f"127.0.0.1:{free_port()}",
        access_key="k",
        secret_key="s",
        secure=False,
        region="us-east-1",
        http_client=urllib3.PoolManager(retries=False),
    )
    store = S3ObjectStore(client, "nowhere")
    with (
        caplog.at_level(logging.DEBUG, logger="urllib3"),
        pytest.raises(StorageUnavailable) as unavailable,
    ):
        store.create_upload("doc")
    assert "Signature" not in str(unavailable.value)
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert retries, "urllib3 retried the refused connection and said so"
    assert all("X-Amz-Signature=REDACTED" in message for message in retries)
    assert not re.search(r"X-Amz-(Signature|Credential)=(?!REDACTED)", caplog.text)
    with pytest.raises(StorageUnavailable):
        store.list_parts(uuid.uuid4().hex)


def test_part_size_below_the_s3_minimum_is_refused(s3_client: Minio) -> None:
    with pytest.raises(ValueError, match="5 MiB"):
        S3ObjectStore(s3_client, "any", part_size=MIB)


def abort_behind_the_store(store: S3ObjectStore, client: Minio, upload: str) -> None:
    """Abort the S3 upload directly, as a lifecycle rule or another tool would."""
    response = client.get_object(store.bucket, f".upload-manifests/{upload}/upload.json")
    try:
        manifest = json.loads(response.read())
    finally:
        response.close()
        response.release_conn()
    url = client.get_presigned_url(
        "DELETE",
        store.bucket,
        manifest["key"],
        expires=timedelta(minutes=5),
        extra_query_params={"uploadId": manifest["s3_upload_id"]},
    )
    assert urllib3.request("DELETE", url).status == 204


class _FailingCompletions(urllib3.PoolManager):
    """Passes requests through, but answers CompleteMultipartUpload 200 with an error."""

    def urlopen(  # type: ignore[override]  # the signature of PoolManager's own override
        self, method: str, url: str, redirect: bool = True, **kw: Any
    ) -> urllib3.BaseHTTPResponse:
        if method == "POST" and "uploadId=" in url:
            body = (
                b"\n  <?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>InternalError</Code>"
                b"<Message>We encountered an internal error. Please try again.</Message></Error>"
            )
            return urllib3.HTTPResponse(body=body, status=200, preload_content=True)
        return super().urlopen(method, url, redirect=redirect, **kw)


def open_uploads(client: Minio, bucket: str, key: str) -> list[str]:
    """S3's own list of unfinished multipart uploads to ``key`` (the SDK keeps it private)."""
    listing = client._list_multipart_uploads(bucket, prefix=key)
    return [str(upload.upload_id) for upload in listing.uploads if upload.object_name == key]


def test_a_streaming_put_of_several_parts_on_a_locked_bucket_is_kept_under_compliance(
    locked_store: S3ObjectStore, s3_client: Minio
) -> None:
    data = random.randbytes(2 * locked_store.part_size + 123)
    info = locked_store.put("bids/8/file", [data], write_once=True)
    assert info.size == len(data)
    assert retention_of(s3_client, locked_store.bucket, "bids/8/file") == COMPLIANCE
    with locked_store.get("bids/8/file") as stream:
        assert b"".join(stream) == data


def test_a_streaming_put_cut_short_after_some_parts_aborts_its_s3_upload(
    s3_store: S3ObjectStore, s3_client: Minio
) -> None:
    s3_store.put("doc", [b"old"])

    def dropped() -> Iterator[bytes]:
        for _ in range(3 * s3_store.part_size // MIB):
            yield random.randbytes(MIB)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        s3_store.put("doc", dropped())
    assert open_uploads(s3_client, s3_store.bucket, "doc") == []
    with s3_store.get("doc") as stream:
        assert b"".join(stream) == b"old"


def test_a_streaming_put_the_server_refuses_mid_way_fails_cleanly(
    s3_store: S3ObjectStore, s3_client: Minio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A part refused by S3 stops the reading of further parts and aborts the upload."""
    pulled = []
    real_send = s3_store._send_part

    def refuse_part_two(upload: Any, number: int, body: Any, size: int | None = None) -> Any:
        if number == 2:
            raise StorageError("S3 refused part 2")
        return real_send(upload, number, body, size)

    monkeypatch.setattr(s3_store, "_send_part", refuse_part_two)

    def chunks() -> Iterator[bytes]:
        for number in range(40 * s3_store.part_size // MIB):
            pulled.append(number)
            yield bytes(MIB)

    with pytest.raises(StorageError, match="part 2"):
        s3_store.put("big", chunks())
    assert len(pulled) < 10 * s3_store.part_size // MIB
    assert open_uploads(s3_client, s3_store.bucket, "big") == []
    assert not s3_store.exists("big")
