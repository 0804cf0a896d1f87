"""Object storage on MinIO or any S3 server, through the public API of the ``minio`` SDK.

Streaming puts cut the chunks into parts of ``part_size``, each copied once into its own
buffer and sent as soon as it is full, ``parallel_uploads`` at a time: memory is bounded by
``part_size * (parallel_uploads + 1)`` whatever the object's size. An object that fits in
one part is one plain PUT. (The SDK's ``put_object(length=-1)`` copies each part three
times while joining and trimming it, which doubled the peak.)

Multipart uploads are S3 multipart uploads, so completion is one request and the server
copies nothing. The SDK keeps its multipart calls private (ARCHITECTURE §3, note on the
SDK), so each request is signed with the public ``get_presigned_url`` and sent from the
store's own ``urllib3`` pool. A presigned request carries UNSIGNED-PAYLOAD: part bodies are
not hashed to sign them (the platform hashes what it needs itself). Bookkeeping::

    .upload-manifests/<id>/upload.json      target key, content type and S3's upload id
    .upload-manifests/<id>/completing.json  written just before a completion that is not
                                            write-once

Callers see our own id (32 hex digits). A manifest never changes, so manifests are cached
and a part costs one request; S3 has the last word on whether the upload still exists.

Write-once: a marker object ``.write-once/<key>`` is written before the object; this code
refuses to overwrite or delete a key that has one. Where the bucket has object lock, the
object also gets COMPLIANCE retention, which the server enforces on that version (nobody
can delete it or shorten its retention, not even with the bucket's keys). Object lock
implies versioning, so another client's plain PUT or DELETE on the key still succeeds: it
adds a version or a delete marker above the locked version, which stays readable. Marker
and completion record are objects rather than user metadata because a presigned request
cannot carry an unsigned ``x-amz-meta-`` header (MinIO and AWS refuse it) and SeaweedFS
ignores one passed in the query.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any, cast

import certifi
import urllib3
import urllib3.exceptions
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from minio.retention import Retention

from storage.base import (
    DEFAULT_CONTENT_TYPE,
    MAX_PART_NUMBER,
    MIN_PART_SIZE,
    UPLOADS_PREFIX,
    InvalidPart,
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    PartInfo,
    StorageError,
    StorageUnavailable,
    UploadNotFound,
    WriteOnceViolation,
    checked_chunk,
    validate_key,
    validate_part_number,
    validate_parts,
    validate_prefix,
    validate_upload_id,
)

WRITE_ONCE_PREFIX = ".write-once"
MANIFESTS_PREFIX = ".upload-manifests"
"""Where the manifests live: not in ``.uploads/``, which SeaweedFS uses for its own uploads."""
SHARED_UPLOADS_PREFIX = UPLOADS_PREFIX
"""Where earlier versions kept manifests; still read, and moved on first use."""
MANIFEST = "upload.json"
COMPLETING = "completing.json"
DEFAULT_PART_SIZE = 8 * 1024 * 1024
RETENTION_DAYS = 15 * 365
"""Procurement files are kept at least 15 years from the end of the procurement
(Government Procurement Law Art. 42), so sealed bids are locked that long by default."""
MANIFESTS_CACHED = 4096
PRESIGNED_FOR = timedelta(minutes=15)
"""Each signed URL is used at once; a short life keeps a leaked one (in a log) useless."""
PARTS_PER_PAGE = MAX_PART_NUMBER
"""MinIO lists up to 10,000 parts a page, AWS 1,000; SeaweedFS loses attempts at a part
that straddle a page boundary, so one page should hold them all."""
RESEND_GAP = 1.1
"""Seconds between two sends of one part number from this process (see ``put_part``)."""
SENDS_PER_UPLOAD = 2
"""Parts of one multipart upload sent to S3 at once by this process (see ``_SendSlots``)."""
_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"})
_DENIED = frozenset({"AccessDenied", "ObjectLocked", "InvalidRequest"})
_BAD_PARTS = frozenset({"InvalidPart", "InvalidPartOrder", "EntityTooSmall"})


class _S3Refused(Exception):
    """An S3 error answer to one of our presigned requests (mapped by :func:`_mapped`)."""

    def __init__(self, code: str | None, message: str | None, status: int) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class _Upload:
    """A multipart upload as its manifest records it."""

    upload_id: str
    key: str
    content_type: str
    s3_upload_id: str


class _Manifests:
    """The most recently used manifests, shared by the threads using one store."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: OrderedDict[str, _Upload] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, upload_id: str) -> _Upload | None:
        with self._lock:
            upload = self._items.get(upload_id)
            if upload is not None:
                self._items.move_to_end(upload_id)
            return upload

    def add(self, upload: _Upload) -> None:
        with self._lock:
            self._items[upload.upload_id] = upload
            self._items.move_to_end(upload.upload_id)
            while len(self._items) > self._limit:
                self._items.popitem(last=False)

    def drop(self, upload_id: str) -> None:
        with self._lock:
            self._items.pop(upload_id, None)


class _RecentSends:
    """When this process last sent each part, kept for one ``RESEND_GAP``."""

    def __init__(self) -> None:
        self._sent: OrderedDict[tuple[str, int], float] = OrderedDict()
        self._lock = threading.Lock()

    def wait_turn(self, upload_id: str, number: int) -> None:
        """Sleep until ``RESEND_GAP`` has passed since this part was last sent."""
        now = time.monotonic()
        with self._lock:
            while self._sent and next(iter(self._sent.values())) <= now - RESEND_GAP:
                self._sent.popitem(last=False)
            last = self._sent.get((upload_id, number))
        if last is not None:
            time.sleep(last + RESEND_GAP - now)

    def sent(self, upload_id: str, number: int) -> None:
        with self._lock:
            self._sent[upload_id, number] = time.monotonic()
            self._sent.move_to_end((upload_id, number))


class _SendSlots:
    """How many parts of each upload are being sent to S3 now, at most ``per_upload``.

    Parts that arrive together are sent together and, sharing the store's bandwidth,
    finish together; the client's next parts then still have to cross the web hop while
    the store waits. With one part more in flight than may be sent, a received part is
    ready the moment a send ends, and the store is kept busy.
    """

    def __init__(self, per_upload: int) -> None:
        self._per_upload = per_upload
        self._sending: dict[str, int] = {}
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def slot(self, upload_id: str) -> Iterator[None]:
        """Hold one of the upload's sending slots, waiting for one to free."""
        with self._changed:
            while self._sending.get(upload_id, 0) >= self._per_upload:
                self._changed.wait()
            self._sending[upload_id] = self._sending.get(upload_id, 0) + 1
        try:
            yield
        finally:
            with self._changed:
                left = self._sending[upload_id] - 1
                if left:
                    self._sending[upload_id] = left
                else:
                    del self._sending[upload_id]
                self._changed.notify_all()


class _PartReader:
    """Cuts an iterator of chunks into parts of ``part_size`` bytes, counting and hashing.

    Each part is a fresh buffer the caller may hand to another thread; the only other bytes
    held are the rest of the chunk being split (a zero-copy memoryview).
    """

    def __init__(self, chunks: Iterable[bytes], part_size: int) -> None:
        if part_size < 1:
            raise ValueError(f"part_size must be positive, got {part_size}")
        self._chunks = iter(chunks)
        self._part_size = part_size
        self._rest = memoryview(b"")
        self._digest = hashlib.sha256()
        self.size = 0

    @property
    def sha256(self) -> str:
        """SHA-256 of everything read so far."""
        return self._digest.hexdigest()

    def close(self) -> None:
        """Close the source iterator (a generator's ``finally`` runs) after a failed put."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def at_end(self) -> bool:
        """Whether every byte has been handed out (pulls the next chunk to find out)."""
        return not self._rest and not self._pull()

    def next_part(self) -> bytearray:
        """The next ``part_size`` bytes; fewer only at the end, none after it."""
        part = bytearray()
        while len(part) < self._part_size and (self._rest or self._pull()):
            piece = self._rest[: self._part_size - len(part)]
            part += piece
            self._rest = self._rest[len(piece) :]
        return part

    def _pull(self) -> bool:
        """Take the next non-empty chunk; False at the end of the stream."""
        for chunk in self._chunks:
            data = checked_chunk(chunk)
            if data:
                self._digest.update(data)
                self.size += len(data)
                self._rest = memoryview(data)
                return True
        return False


class S3ObjectStore:
    """An :class:`~storage.base.ObjectStore` on one S3 bucket.

    Args:
        client: a configured ``minio.Minio`` client (thread-safe; shared).
        bucket: the bucket name.
        object_lock: whether the bucket has object lock; write-once objects then get
            COMPLIANCE retention for ``retention_days``.
        retention_days: how long write-once objects are locked.
        part_size: bytes buffered per part of a streaming put (at least 5 MiB), and what a
            part given as chunks may hold in memory before it spills to a temporary file.
        parallel_uploads: parts of one put in flight at once; memory is about
            ``part_size * (parallel_uploads + 1)``.
        http: the pool that sends multipart requests (default: :func:`http_pool`).
    """

    def __init__(
        self,
        client: Minio,
        bucket: str,
        *,
        object_lock: bool = False,
        retention_days: int = RETENTION_DAYS,
        part_size: int = DEFAULT_PART_SIZE,
        parallel_uploads: int = 2,
        http: urllib3.PoolManager | None = None,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least 5 MiB, got {part_size}")
        if retention_days < 1:
            raise ValueError(f"retention_days must be positive, got {retention_days}")
        self.client = client
        self.bucket = bucket
        self.object_lock = object_lock
        self.retention_days = retention_days
        self.part_size = part_size
        self.parallel_uploads = max(1, parallel_uploads)
        self.http = http or http_pool()
        self._manifests = _Manifests(MANIFESTS_CACHED)
        self._recent_sends = _RecentSends()
        self._send_slots = _SendSlots(SENDS_PER_UPLOAD)

    @property
    def supports_retention(self) -> bool:
        """True when the bucket has object lock (set at construction, checked by ensure)."""
        return self.object_lock

    def ensure_bucket(self) -> None:
        """Create the bucket (with object lock if configured) when it does not exist.

        Raises:
            StorageError: object lock is configured but the existing bucket lacks it;
                lock can only be switched on when a bucket is created.
        """
        with _mapped(f"bucket {self.bucket}"):
            if not self.client.bucket_exists(self.bucket):
                self.client.make_bucket(self.bucket, object_lock=self.object_lock)
                return
            if self.object_lock:
                try:
                    self.client.get_object_lock_config(self.bucket)
                except S3Error as exc:
                    raise StorageError(
                        f"bucket {self.bucket} exists without object lock; create a new "
                        "bucket with object lock or drop object_lock=true"
                    ) from exc

    # -- objects ---------------------------------------------------------------------------

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        write_once: bool = False,
    ) -> ObjectInfo:
        """Stream an object of unknown length (S3 multipart under the hood)."""
        validate_key(key)
        self._prepare_write(key, write_once=write_once)
        return self._stream_in(key, chunks, content_type=content_type, write_once=write_once)

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> ObjectStream:
        """Stream an object; the connection goes back to the pool when done or closed."""
        validate_key(key)
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        return self._open(key, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        """Size, etag, content type and time of an object."""
        validate_key(key)
        with _mapped(key):
            info = self.client.stat_object(self.bucket, key)
        return ObjectInfo(
            key=key,
            size=int(info.size or 0),
            etag=_clean_etag(info.etag),
            content_type=info.content_type or DEFAULT_CONTENT_TYPE,
            last_modified=info.last_modified,
        )

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Delete an object; write-once objects are refused."""
        self.stat(key)
        if self._has_marker(key):
            raise WriteOnceViolation(f"object {key} is write-once and cannot be deleted")
        with _mapped(key):
            self.client.remove_object(self.bucket, key)

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key order (uploads and markers excluded).

        Sorted here because servers differ: SeaweedFS lists folder by folder rather than in
        S3's byte order. The listing is therefore held in memory (small records, one per
        object), which is fine for the per-project prefixes the platform lists.
        """
        validate_prefix(prefix)
        found = []
        with _mapped(f"listing {prefix!r}"):
            for item in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
                name = str(item.object_name)
                if name.startswith(".") or item.is_dir:
                    continue
                found.append(
                    ObjectInfo(
                        key=name,
                        size=int(item.size or 0),
                        etag=_clean_etag(item.etag),
                        content_type=None,
                        last_modified=item.last_modified,
                    )
                )
        found.sort(key=lambda info: info.key)  # code-point order is UTF-8 byte order
        yield from found

    # -- multipart uploads -----------------------------------------------------------------

    def create_upload(self, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        """Start an S3 multipart upload and write its manifest."""
        validate_key(key)
        upload_id = uuid.uuid4().hex
        upload = self._start_s3_upload(upload_id, key, content_type)
        manifest = {"key": key, "content_type": content_type, "s3_upload_id": upload.s3_upload_id}
        try:
            self._put_small(self._upload_file(upload_id, MANIFEST), manifest)
        except BaseException:
            with contextlib.suppress(StorageError):
                self._abort(upload)
            raise
        self._manifests.add(upload)
        return upload_id

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Send (or replace) one part; chunks are spooled first, S3 needs the length.

        SeaweedFS keeps every attempt at a part number and tells them apart by their time
        in whole seconds, so a number sent again within ``RESEND_GAP`` waits for it: this
        process's own attempts then never tie (see :meth:`_parts`). At most
        ``SENDS_PER_UPLOAD`` parts of an upload are sent at once; the others wait, received.
        """
        upload = self._upload(upload_id)
        validate_part_number(number)
        with self._sized(data) as (body, size):
            self._recent_sends.wait_turn(upload_id, number)
            try:
                with self._send_slots.slot(upload_id):
                    return self._send_part(upload, number, body, size)
            finally:
                self._recent_sends.sent(upload_id, number)

    def _send_and_free(self, upload: _Upload, number: int, part: bytearray) -> PartInfo:
        """Send a part of a streaming put, then free its buffer before its slot frees.

        The executor keeps a task's arguments a moment after the task ends, so the buffer
        is emptied here; otherwise the next part could be read while this one is held.
        """
        try:
            return self._send_part(upload, number, part)
        finally:
            part.clear()

    def _send_part(
        self,
        upload: _Upload,
        number: int,
        body: bytes | bytearray | IO[bytes],
        size: int | None = None,
    ) -> PartInfo:
        """UploadPart; ``size`` is needed only when the body is a file."""
        length = len(body) if isinstance(body, bytes | bytearray) else size
        response = self._request(
            "PUT",
            upload.key,
            {"partNumber": str(number), "uploadId": upload.s3_upload_id},
            f"upload {upload.upload_id}",
            body=body,
            headers={"Content-Length": str(length)},
        )
        etag = _clean_etag(response.headers.get("ETag"))
        if not etag:
            raise StorageError(f"S3 stored part {number} of {upload.upload_id} without an ETag")
        return PartInfo(number=number, size=int(length or 0), etag=etag)

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts S3 has received so far, by number.

        A part whose latest attempt cannot be told (see :meth:`_parts`) is left out, so a
        resuming client sends it again.
        """
        parts, _ = self._parts(self._upload(upload_id))
        return parts

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Have S3 join the parts into the target object, then drop the manifest."""
        upload = self._upload(upload_id)
        key = upload.key
        try:
            parts, unsettled = self._parts(upload)
        except UploadNotFound:
            return self._completed_before(upload)
        if unsettled:
            raise InvalidPart(
                f"part {unsettled[0]} of upload {upload_id} was sent twice within a second "
                "with different bytes and the server cannot tell which came last; send it again"
            )
        validate_parts(upload_id, parts)
        self._prepare_write(key, write_once=write_once, upload_id=upload_id)
        if not write_once:
            self._put_small(self._upload_file(upload_id, COMPLETING), {"key": key})
        etag, version_id = self._complete(upload, parts)
        if write_once:
            self._ensure_retention(key, version_id)
        self._drop_upload(upload_id)
        return ObjectInfo(
            key=key,
            size=sum(part.size for part in parts),
            etag=etag,
            content_type=upload.content_type,
        )

    def abort_upload(self, upload_id: str) -> None:
        """Abort the S3 upload (its parts go with it) and drop the manifest."""
        upload = self._upload(upload_id)
        with contextlib.suppress(UploadNotFound):  # S3 already forgot it: only ours is left
            self._abort(upload)
        self._drop_upload(upload_id)

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        """A time-limited GET URL signed with the store's credentials (at most 7 days)."""
        self.stat(key)
        with _mapped(key):
            return str(self.client.presigned_get_object(self.bucket, key, expires=expires))

    # -- internals -------------------------------------------------------------------------

    def _stream_in(
        self, key: str, chunks: Iterable[bytes], *, content_type: str, write_once: bool
    ) -> ObjectInfo:
        reader = _PartReader(chunks, self.part_size)
        try:
            first = reader.next_part()
            if reader.at_end():
                response = self._request(
                    "PUT",
                    key,
                    {},
                    key,
                    body=first,
                    headers={"Content-Type": content_type, "Content-Length": str(len(first))},
                )
                etag = _clean_etag(response.headers.get("ETag"))
                version_id = response.headers.get("x-amz-version-id")
            else:
                etag, version_id = self._stream_parts(key, first, reader, content_type)
        finally:
            reader.close()
        if write_once:
            self._ensure_retention(key, version_id)
        return ObjectInfo(
            key=key,
            size=reader.size,
            etag=etag,
            content_type=content_type,
            sha256=reader.sha256,
        )

    def _stream_parts(
        self, key: str, first: bytearray, reader: _PartReader, content_type: str
    ) -> tuple[str, str | None]:
        """Send the parts of a streaming put, ``parallel_uploads`` at a time, and join them.

        The next part is read only once a slot is free, so at most ``parallel_uploads``
        parts are in flight and one is being filled. Any failure aborts the S3 upload, so
        the key keeps what it held before.
        """
        upload = self._start_s3_upload(f"streaming put of {key}", key, content_type)
        slots = threading.BoundedSemaphore(self.parallel_uploads)
        failed = threading.Event()
        try:
            with ThreadPoolExecutor(self.parallel_uploads, "s3-put") as pool:
                sent: list[Future[PartInfo]] = []
                part: bytearray | None = first
                while part is not None:
                    if len(sent) == MAX_PART_NUMBER:
                        raise StorageError(
                            f"{key} needs more than {MAX_PART_NUMBER} parts of "
                            f"{self.part_size} bytes; configure a larger part size"
                        )
                    slots.acquire()
                    if failed.is_set():  # the result of the failed part is raised below
                        break
                    future = pool.submit(self._send_and_free, upload, len(sent) + 1, part)
                    future.add_done_callback(lambda done: _settled(done, slots, failed))
                    sent.append(future)
                    part = None if reader.at_end() else reader.next_part()
                parts = [future.result() for future in sent]
            return self._complete(upload, parts)
        except BaseException:
            with contextlib.suppress(StorageError):
                self._abort(upload)
            raise

    def _start_s3_upload(self, upload_id: str, key: str, content_type: str) -> _Upload:
        """CreateMultipartUpload; ``upload_id`` is how our messages name the upload."""
        response = self._request(
            "POST", key, {"uploads": ""}, key, headers={"Content-Type": content_type}
        )
        s3_upload_id = _xml(response.data).findtext("{*}UploadId")
        if not s3_upload_id:
            raise StorageError(f"S3 started an upload to {key} without naming it")
        return _Upload(upload_id, key, content_type, s3_upload_id)

    def _open(self, name: str, chunk_size: int) -> ObjectStream:
        """Stream any object of the bucket, bookkeeping included (no key check)."""
        with _mapped(name):
            response = self.client.get_object(self.bucket, name)

        def release() -> None:
            response.close()
            response.release_conn()

        return ObjectStream(_network_errors_mapped(response.stream(chunk_size), name), release)

    def _request(
        self,
        method: str,
        key: str,
        query: dict[str, str],
        subject: str,
        *,
        body: bytes | bytearray | IO[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Sign one request on ``key`` with the SDK's public presigner and send it.

        Answers are small (XML or empty), so they are read whole. A bytearray body is sent
        as it is (urllib3 sends any buffer; its annotations name only ``bytes``).
        """
        with _mapped(subject):
            url = self.client.get_presigned_url(
                method, self.bucket, key, expires=PRESIGNED_FOR, extra_query_params=dict(query)
            )
            try:
                response = self.http.request(
                    method,
                    url,
                    body=cast("bytes | IO[bytes] | None", body),
                    headers=headers or {},
                    redirect=False,
                )
            except urllib3.exceptions.MaxRetryError as exc:  # its message holds the signed URL
                raise StorageUnavailable(
                    f"S3 unreachable or failing ({subject}): {exc.reason}"
                ) from exc.reason
            if response.status >= 300:
                raise _refusal(response)
        return response

    @contextlib.contextmanager
    def _sized(self, data: bytes | Iterable[bytes]) -> Iterator[tuple[bytes | IO[bytes], int]]:
        """A part's body and length: bytes as they are, chunks spooled (memory, then disk)."""
        if isinstance(data, bytes | bytearray | memoryview):
            body = bytes(data)
            yield body, len(body)
            return
        with tempfile.SpooledTemporaryFile(max_size=self.part_size) as spool:
            size = 0
            for chunk in data:
                size += spool.write(checked_chunk(chunk))
            spool.seek(0)
            yield cast("IO[bytes]", spool), size

    def _upload(self, upload_id: str) -> _Upload:
        """The upload's manifest, from the cache or the bucket."""
        validate_upload_id(upload_id)
        upload = self._manifests.get(upload_id)
        if upload is not None:
            return upload
        try:
            manifest: dict[str, Any] = json.loads(
                self._read_small(self._upload_file(upload_id, MANIFEST))
            )
        except ObjectNotFound:
            manifest = self._adopt_shared_folder_manifest(upload_id)
        upload = _Upload(
            upload_id,
            str(manifest["key"]),
            str(manifest.get("content_type") or DEFAULT_CONTENT_TYPE),
            str(manifest["s3_upload_id"]),
        )
        self._manifests.add(upload)
        return upload

    def _parts(self, upload: _Upload) -> tuple[list[PartInfo], list[int]]:
        """S3's ListParts, every page: the parts by number, and the numbers left unsettled.

        A re-sent part replaces the earlier one on S3 and MinIO; SeaweedFS keeps and lists
        every attempt, and joins the newest whose ETag the completion names. So the newest
        attempt (by LastModified, whole seconds there) is the part; a number whose newest
        attempts share a second but differ is unsettled until it is sent again.
        """
        attempts: dict[int, list[tuple[str, PartInfo]]] = {}
        marker = 0
        while True:
            query = {"uploadId": upload.s3_upload_id, "max-parts": str(PARTS_PER_PAGE)}
            if marker:
                query["part-number-marker"] = str(marker)
            response = self._request("GET", upload.key, query, f"upload {upload.upload_id}")
            page = _xml(response.data)
            for element in page.iterfind("{*}Part"):
                part = PartInfo(
                    number=int(element.findtext("{*}PartNumber") or 0),
                    size=int(element.findtext("{*}Size") or 0),
                    etag=_clean_etag(element.findtext("{*}ETag")),
                )
                sent_at = element.findtext("{*}LastModified") or ""  # ISO 8601, sorts as text
                attempts.setdefault(part.number, []).append((sent_at, part))
            next_marker = int(page.findtext("{*}NextPartNumberMarker") or 0)
            if page.findtext("{*}IsTruncated") != "true" or next_marker <= marker:
                break
            marker = next_marker
        parts, unsettled = [], []
        for number in sorted(attempts):
            newest = max(sent_at for sent_at, _ in attempts[number])
            latest = {part for sent_at, part in attempts[number] if sent_at == newest}
            if len(latest) == 1:
                parts.append(latest.pop())
            else:
                unsettled.append(number)
        return parts, unsettled

    def _complete(self, upload: _Upload, parts: list[PartInfo]) -> tuple[str, str | None]:
        """CompleteMultipartUpload; returns the new object's etag and version id.

        S3 may answer 200 and report a failure in the body (the answer starts before the
        join ends), so the body decides.
        """
        request = ET.Element("CompleteMultipartUpload")
        for part in parts:
            element = ET.SubElement(request, "Part")
            ET.SubElement(element, "PartNumber").text = str(part.number)
            ET.SubElement(element, "ETag").text = f'"{part.etag}"'
        subject = f"upload {upload.upload_id}"
        response = self._request(
            "POST",
            upload.key,
            {"uploadId": upload.s3_upload_id},
            subject,
            body=ET.tostring(request),
            headers={"Content-Type": "application/xml"},
        )
        answer = _xml(response.data)
        if answer.tag.rpartition("}")[2] == "Error":
            with _mapped(subject):
                raise _S3Refused(
                    answer.findtext("{*}Code"), answer.findtext("{*}Message"), response.status
                )
        return _clean_etag(answer.findtext("{*}ETag")), response.headers.get("x-amz-version-id")

    def _abort(self, upload: _Upload) -> None:
        self._request(
            "DELETE", upload.key, {"uploadId": upload.s3_upload_id}, f"upload {upload.upload_id}"
        )

    def _completed_before(self, upload: _Upload) -> ObjectInfo:
        """S3 no longer knows the upload: finish a completion cut short, or report it gone.

        Either way the manifest goes, since the upload cannot continue.
        """
        finished = self._finished_by(upload)
        self._drop_upload(upload.upload_id)
        if not finished:
            raise UploadNotFound(f"upload {upload.upload_id} was completed or aborted")
        return self.stat(upload.key)

    def _finished_by(self, upload: _Upload) -> bool:
        """Whether a completion of this upload already stored the target.

        A write-once completion names the upload in its marker; any other leaves a
        completion record next to the manifest.
        """
        marker = self._marker(upload.key)
        if marker is not None:
            return marker.get("upload_id") == upload.upload_id and self.exists(upload.key)
        try:
            self._read_small(self._upload_file(upload.upload_id, COMPLETING))
        except ObjectNotFound:
            return False
        return self.exists(upload.key)

    def _drop_upload(self, upload_id: str) -> None:
        """Delete the manifest and any completion record, and forget the manifest."""
        self._delete_all(
            upload_id,
            [self._upload_file(upload_id, COMPLETING), self._upload_file(upload_id, MANIFEST)],
        )
        self._manifests.drop(upload_id)

    def _adopt_shared_folder_manifest(self, upload_id: str) -> dict[str, Any]:
        """Move a manifest from ``.uploads/`` (where earlier versions kept it) to our folder.

        The same folder holds SeaweedFS's own multipart uploads, whose clean-up
        (``s3.clean.uploads``) would delete a manifest with them. An upload of the still
        older one-object-per-part layout cannot be joined now and is dropped.
        """
        folder = f"{SHARED_UPLOADS_PREFIX}/{upload_id}/"
        try:
            manifest: dict[str, Any] = json.loads(self._read_small(folder + MANIFEST))
        except ObjectNotFound as exc:
            raise UploadNotFound(f"no upload {upload_id}") from exc
        if "s3_upload_id" not in manifest:  # one object per part: parts cannot be joined now
            self._drop_folder(upload_id, folder)
            raise UploadNotFound(f"upload {upload_id} predates S3 multipart uploads; start again")
        with contextlib.suppress(ObjectNotFound):
            record = json.loads(self._read_small(folder + COMPLETING))
            self._put_small(self._upload_file(upload_id, COMPLETING), record)
        self._put_small(self._upload_file(upload_id, MANIFEST), manifest)
        self._delete_all(upload_id, [folder + COMPLETING, folder + MANIFEST])
        return manifest

    def _drop_folder(self, upload_id: str, folder: str) -> None:
        """Delete everything under an upload's folder, manifest last."""
        with _mapped(f"upload {upload_id}"):
            names = [
                str(item.object_name)
                for item in self.client.list_objects(self.bucket, prefix=folder, recursive=True)
            ]
        manifest = folder + MANIFEST
        self._delete_all(upload_id, [name for name in names if name != manifest])
        self._delete_all(upload_id, [manifest])

    def _delete_all(self, upload_id: str, names: list[str]) -> None:
        with _mapped(f"upload {upload_id}"):
            errors = list(self.client.remove_objects(self.bucket, map(DeleteObject, names)))
        if errors:
            raise StorageError(f"could not delete the files of upload {upload_id}: {errors}")

    def _upload_file(self, upload_id: str, name: str) -> str:
        return f"{MANIFESTS_PREFIX}/{upload_id}/{name}"

    def _prepare_write(self, key: str, *, write_once: bool, upload_id: str | None = None) -> None:
        """Refuse a write the write-once rule forbids; mark the key first when write-once.

        The marker goes in before the object so no write-once object ever lacks one; a
        marker left by a failed write is harmless (no object) and is replaced or removed by
        the next write.
        """
        exists = self.exists(key)
        if exists and write_once:
            raise WriteOnceViolation(f"object {key} already exists; write-once needs a new key")
        if exists and self._has_marker(key):
            raise WriteOnceViolation(f"object {key} is write-once and cannot be replaced")
        marker = f"{WRITE_ONCE_PREFIX}/{key}"
        if write_once:
            self._put_small(marker, {"upload_id": upload_id})
        elif not exists:
            with _mapped(key):
                self.client.remove_object(self.bucket, marker)  # stale marker of a failed write

    def _has_marker(self, key: str) -> bool:
        return self._marker(key) is not None

    def _marker(self, key: str) -> dict[str, Any] | None:
        try:
            body = self._read_small(f"{WRITE_ONCE_PREFIX}/{key}")
        except ObjectNotFound:
            return None
        marker: dict[str, Any] = json.loads(body)
        return marker

    def _retention(self) -> Retention:
        return Retention(COMPLIANCE, datetime.now(UTC) + timedelta(days=self.retention_days))

    def _ensure_retention(self, key: str, version_id: str | None) -> None:
        """Check the new version is locked; lock it where it is not.

        A completed multipart upload starts unlocked (whether it is write-once is known only
        at completion), and servers differ on whether a streamed put keeps the retention
        it asked for.
        """
        if not self.object_lock:
            return
        with _mapped(key):
            try:
                current = self.client.get_object_retention(self.bucket, key, version_id=version_id)
            except S3Error as exc:
                if "ObjectLock" not in (exc.code or ""):  # no retention on this version yet
                    raise
                current = None
            if current is None or current.mode != COMPLIANCE:
                self.client.set_object_retention(
                    self.bucket, key, self._retention(), version_id=version_id
                )

    def _put_small(self, name: str, content: dict[str, Any]) -> None:
        """Write a small bookkeeping object (manifest, marker, completion record)."""
        body = json.dumps(content).encode()
        with _mapped(name):
            self.client.put_object(
                self.bucket, name, io.BytesIO(body), len(body), content_type="application/json"
            )

    def _read_small(self, name: str) -> bytes:
        """Read a small bookkeeping object whole."""
        with _mapped(name):
            response = self.client.get_object(self.bucket, name)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()


class SignatureRedactor(logging.Filter):
    """Masks the signature and credential of a presigned URL in a log record.

    urllib3 logs the request's URL when it retries one (WARNING) and for every request
    (DEBUG). The signature would let anyone who reads the log repeat the request for as long
    as the URL lives (``PRESIGNED_FOR``), so it never reaches a handler.
    """

    PATTERN = re.compile(r"(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s'\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with the secrets masked; never drop a record."""
        message = record.getMessage()
        if "X-Amz-" in message:
            record.msg, record.args = self.PATTERN.sub(r"\1REDACTED", message), None
        return True


_REDACTOR = SignatureRedactor()
REDACTED_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry")
"""The urllib3 loggers that print request URLs (filters do not apply to child loggers)."""


def http_pool() -> urllib3.PoolManager:
    """The pool for presigned requests, set up as the SDK sets up its own.

    Certificates are checked against certifi's roots (or ``SSL_CERT_FILE``) on https.
    Failed connections are retried (nothing was sent); lost answers and 5xx only for
    idempotent methods, never for a POST (create or complete an upload). The URLs urllib3
    logs have their signatures masked (:class:`SignatureRedactor`).
    """
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)
    return urllib3.PoolManager(
        maxsize=10,
        timeout=urllib3.Timeout(connect=10, read=120),
        cert_reqs="CERT_REQUIRED",
        ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        retries=urllib3.Retry(
            total=3,
            backoff_factor=0.2,
            status_forcelist=(500, 502, 503, 504),
            raise_on_status=False,
        ),
    )


def _xml(body: bytes) -> ET.Element:
    """Parse an S3 answer.

    ElementTree rather than defusedxml (which the platform does not depend on at run time):
    the answers are small and come from the configured server over a signed request.
    Leading whitespace is dropped because S3 may send some to keep a long completion alive.
    """
    try:
        return ET.fromstring(body.lstrip())  # noqa: S314 - trusted server, see docstring
    except ET.ParseError as exc:
        raise StorageError(f"S3 sent an answer that is not XML: {body[:200]!r}") from exc


def _refusal(response: urllib3.BaseHTTPResponse) -> _S3Refused:
    """The S3 error in an answer; a proxy's HTML page or an empty body keeps only the status."""
    try:
        error = _xml(response.data)
    except StorageError:
        return _S3Refused(None, f"HTTP {response.status}", response.status)
    return _S3Refused(error.findtext("{*}Code"), error.findtext("{*}Message"), response.status)


@contextlib.contextmanager
def _mapped(subject: str) -> Iterator[None]:
    """Translate SDK, S3 and network errors into the storage exception tree, in one place."""
    try:
        yield
    except (S3Error, _S3Refused) as exc:
        code, message = exc.code, exc.message
        status = exc.status if isinstance(exc, _S3Refused) else _status_of(exc)
        if code == "NoSuchUpload":
            raise UploadNotFound(f"S3 knows no {subject} (completed or aborted)") from exc
        if code in _MISSING:
            raise ObjectNotFound(f"no object {subject}") from exc
        if code in _BAD_PARTS:
            raise InvalidPart(f"S3 refused the parts of {subject}: {code} {message}") from exc
        if code in _DENIED and "lock" in str(message or "").lower():
            raise WriteOnceViolation(f"{subject} is under retention: {message}") from exc
        if status >= 500:
            raise StorageUnavailable(f"S3 failing ({subject}): {code} {message}") from exc
        raise StorageError(f"S3 refused an operation on {subject}: {code} {message}") from exc
    except (MinioException, urllib3.exceptions.HTTPError) as exc:
        raise StorageUnavailable(f"S3 unreachable or failing ({subject}): {exc}") from exc


def _status_of(error: S3Error) -> int:
    return int(getattr(error.response, "status", 0) or 0)


def _settled(
    future: Future[PartInfo], slots: threading.BoundedSemaphore, failed: threading.Event
) -> None:
    """Free a part's slot; flag a failure so no further part is read."""
    if future.cancelled() or future.exception() is not None:
        failed.set()
    slots.release()


def _network_errors_mapped(chunks: Iterator[bytes], key: str) -> Iterator[bytes]:
    with _mapped(key):
        yield from chunks


def _clean_etag(etag: str | None) -> str:
    return (etag or "").strip('"')
