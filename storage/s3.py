"""Object storage on MinIO or any S3 server, through the public API of the ``minio`` SDK.

Streaming puts use ``put_object(length=-1)``: the SDK reads one part at a time from our
iterator-backed reader, so memory is bounded by ``part_size`` times the parallel uploads,
whatever the object's size.

Multipart uploads do not use the SDK's private multipart calls (ARCHITECTURE §3, note on
the SDK). Each part is its own object and the upload is a folder::

    .uploads/<id>/upload.json   target key and content type
    .uploads/<id>/part-000001   one object per part (re-putting replaces it)

Completion joins the parts with the public ``compose_object`` (server-side copy) when
every part but the last is at least 5 MiB, otherwise by streaming them into one put of
unknown length, then deletes them.

Write-once: a marker object ``.write-once/<key>`` is written before the object; this code
refuses to overwrite or delete a key that has one. Where the bucket has object lock, the
object also gets COMPLIANCE retention, which the server enforces on that version (nobody
can delete it or shorten its retention, not even with the bucket's keys). Object lock
implies versioning, so another client's plain PUT or DELETE on the key still succeeds: it
adds a version or a delete marker above the locked version, which stays readable. The
marker object exists because servers do not keep user metadata reliably across multipart
and copy operations (SeaweedFS 4.x drops it on ``compose_object``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, cast

import urllib3.exceptions
from minio import Minio
from minio.commonconfig import COMPLIANCE, ComposeSource
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error
from minio.retention import Retention

from storage.base import (
    DEFAULT_CONTENT_TYPE,
    MIN_COMPOSE_PART,
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
    as_chunks,
    checked_chunk,
    part_name,
    validate_key,
    validate_part_number,
    validate_prefix,
    validate_upload_id,
)

WRITE_ONCE_PREFIX = ".write-once"
MANIFEST = "upload.json"
DEFAULT_PART_SIZE = 8 * 1024 * 1024
RETENTION_DAYS = 15 * 365
"""Procurement files are kept at least 15 years from the end of the procurement
(Government Procurement Law Art. 42), so sealed bids are locked that long by default."""
_MISSING = frozenset({"NoSuchKey", "NoSuchObject", "NoSuchVersion", "ResourceNotFound"})
_DENIED = frozenset({"AccessDenied", "ObjectLocked", "InvalidRequest"})


class _ChunkReader:
    """A ``read(size)`` view of an iterator of chunks, for ``put_object(length=-1)``.

    Holds at most the chunk being split (as a zero-copy memoryview) plus one read's worth,
    counts and hashes the bytes as they pass.
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
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

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes; fewer only at the end of the stream."""
        if size < 0:
            raise ValueError("an unbounded read would hold the whole object in memory")
        pieces: list[bytes | memoryview] = []
        wanted = size
        while wanted > 0:
            if not self._rest:
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                data = checked_chunk(chunk)
                self._digest.update(data)
                self.size += len(data)
                self._rest = memoryview(data)
                continue
            piece, self._rest = self._rest[:wanted], self._rest[wanted:]
            pieces.append(piece)
            wanted -= len(piece)
        return b"".join(pieces)


class S3ObjectStore:
    """An :class:`~storage.base.ObjectStore` on one S3 bucket.

    Args:
        client: a configured ``minio.Minio`` client (thread-safe; shared).
        bucket: the bucket name.
        object_lock: whether the bucket has object lock; write-once objects then get
            COMPLIANCE retention for ``retention_days``.
        retention_days: how long write-once objects are locked.
        part_size: bytes buffered per part of a streaming put (at least 5 MiB).
        parallel_uploads: parts of one put in flight at once; memory is about
            ``part_size * (parallel_uploads + 1)``.
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
    ) -> None:
        if part_size < MIN_COMPOSE_PART:
            raise ValueError(f"part_size must be at least 5 MiB, got {part_size}")
        if retention_days < 1:
            raise ValueError(f"retention_days must be positive, got {retention_days}")
        self.client = client
        self.bucket = bucket
        self.object_lock = object_lock
        self.retention_days = retention_days
        self.part_size = part_size
        self.parallel_uploads = max(1, parallel_uploads)

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
        """Start an upload: a small manifest object remembers its target."""
        validate_key(key)
        upload_id = uuid.uuid4().hex
        manifest = json.dumps({"key": key, "content_type": content_type}).encode()
        with _mapped(key):
            self.client.put_object(
                self.bucket,
                f"{UPLOADS_PREFIX}/{upload_id}/{MANIFEST}",
                io.BytesIO(manifest),
                len(manifest),
                content_type="application/json",
            )
        return upload_id

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Store (or replace) one part as its own object, streamed."""
        self._manifest(upload_id)
        validate_part_number(number)
        key = self._part_key(upload_id, number)
        reader = _ChunkReader(as_chunks(data))
        with _mapped(key):
            result = self.client.put_object(
                self.bucket,
                key,
                cast("BinaryIO", reader),
                length=-1,
                part_size=self.part_size,
                num_parallel_uploads=self.parallel_uploads,
            )
        return PartInfo(number=number, size=reader.size, etag=_clean_etag(result.etag))

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts received so far, by number."""
        self._manifest(upload_id)
        return self._parts(upload_id)

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Join the parts into the target object, then delete them."""
        manifest = self._manifest(upload_id)
        key = str(manifest["key"])
        content_type = str(manifest.get("content_type") or DEFAULT_CONTENT_TYPE)
        if self._finished_by(key, upload_id):
            self._drop_upload(upload_id)
            return self.stat(key)
        parts = self._parts(upload_id)
        if not parts:
            raise InvalidPart(f"upload {upload_id} has no parts to complete")
        self._prepare_write(key, write_once=write_once, upload_id=upload_id)
        if parts[-1].size > 0 and all(p.size >= MIN_COMPOSE_PART for p in parts[:-1]):
            info = self._compose(key, upload_id, parts, content_type, write_once=write_once)
        else:
            info = self._stream_in(
                key,
                self._joined(upload_id, parts),
                content_type=content_type,
                write_once=write_once,
            )
        self._drop_upload(upload_id)
        return info

    def abort_upload(self, upload_id: str) -> None:
        """Delete an upload's parts and its manifest."""
        self._manifest(upload_id)
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
        reader = _ChunkReader(chunks)
        try:
            with _mapped(key):
                result = self.client.put_object(
                    self.bucket,
                    key,
                    cast("BinaryIO", reader),
                    length=-1,
                    part_size=self.part_size,
                    num_parallel_uploads=self.parallel_uploads,
                    content_type=content_type,
                    retention=self._retention() if write_once and self.object_lock else None,
                )
        finally:
            reader.close()
        if write_once:
            self._ensure_retention(key, result.version_id)
        return ObjectInfo(
            key=key,
            size=reader.size,
            etag=_clean_etag(result.etag),
            content_type=content_type,
            sha256=reader.sha256,
        )

    def _compose(
        self,
        key: str,
        upload_id: str,
        parts: list[PartInfo],
        content_type: str,
        *,
        write_once: bool,
    ) -> ObjectInfo:
        sources = [ComposeSource(self.bucket, self._part_key(upload_id, p.number)) for p in parts]
        with _mapped(key):
            result = self.client.compose_object(
                self.bucket,
                key,
                sources,
                metadata={"Content-Type": content_type},
                retention=self._retention() if write_once and self.object_lock else None,
            )
        if write_once:
            self._ensure_retention(key, result.version_id)
        return self.stat(key)

    def _open(self, name: str, chunk_size: int) -> ObjectStream:
        """Stream any object of the bucket, bookkeeping included (no key check)."""
        with _mapped(name):
            response = self.client.get_object(self.bucket, name)

        def release() -> None:
            response.close()
            response.release_conn()

        return ObjectStream(_network_errors_mapped(response.stream(chunk_size), name), release)

    def _joined(self, upload_id: str, parts: list[PartInfo]) -> Iterator[bytes]:
        for part in parts:
            with self._open(self._part_key(upload_id, part.number), 1 << 20) as stream:
                yield from stream

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
        with _mapped(key):
            if write_once:
                body = json.dumps({"upload_id": upload_id}).encode()
                self.client.put_object(
                    self.bucket,
                    marker,
                    io.BytesIO(body),
                    len(body),
                    content_type="application/json",
                )
            elif not exists:
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

    def _finished_by(self, key: str, upload_id: str) -> bool:
        """Whether a write-once completion of this upload already stored the target."""
        marker = self._marker(key)
        return marker is not None and marker.get("upload_id") == upload_id and self.exists(key)

    def _retention(self) -> Retention:
        return Retention(COMPLIANCE, datetime.now(UTC) + timedelta(days=self.retention_days))

    def _ensure_retention(self, key: str, version_id: str | None) -> None:
        """Check the new version is locked; lock it where the server dropped the request.

        Servers differ: SeaweedFS keeps retention on a streamed put and on a composed
        object, but not on the single-source copy that ``compose_object`` makes of one part.
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

    def _part_key(self, upload_id: str, number: int) -> str:
        return f"{UPLOADS_PREFIX}/{upload_id}/{part_name(number)}"

    def _manifest(self, upload_id: str) -> dict[str, Any]:
        validate_upload_id(upload_id)
        try:
            body = self._read_small(f"{UPLOADS_PREFIX}/{upload_id}/{MANIFEST}")
        except ObjectNotFound as exc:
            raise UploadNotFound(f"no upload {upload_id}") from exc
        manifest: dict[str, Any] = json.loads(body)
        return manifest

    def _parts(self, upload_id: str) -> list[PartInfo]:
        parts = []
        with _mapped(f"upload {upload_id}"):
            for item in self.client.list_objects(
                self.bucket, prefix=f"{UPLOADS_PREFIX}/{upload_id}/part-"
            ):
                name = str(item.object_name)
                parts.append(
                    PartInfo(
                        number=int(name.rsplit("-", 1)[1]),
                        size=int(item.size or 0),
                        etag=_clean_etag(item.etag),
                    )
                )
        return sorted(parts, key=lambda p: p.number)

    def _drop_upload(self, upload_id: str) -> None:
        """Delete the parts, then the manifest (so a half-dropped upload stays droppable)."""
        prefix = f"{UPLOADS_PREFIX}/{upload_id}/"
        with _mapped(f"upload {upload_id}"):
            names = [
                str(item.object_name)
                for item in self.client.list_objects(self.bucket, prefix=prefix, recursive=True)
            ]
            manifest = prefix + MANIFEST
            for batch in (
                [DeleteObject(n) for n in names if n != manifest],
                [DeleteObject(manifest)],
            ):
                errors = list(self.client.remove_objects(self.bucket, batch))
                if errors:
                    raise StorageError(f"could not delete parts of upload {upload_id}: {errors}")

    def _read_small(self, name: str) -> bytes:
        """Read a small bookkeeping object (manifest, marker) whole."""
        with _mapped(name):
            response = self.client.get_object(self.bucket, name)
        try:
            return bytes(response.read())
        finally:
            response.close()
            response.release_conn()


@contextlib.contextmanager
def _mapped(subject: str) -> Iterator[None]:
    """Translate SDK and network errors into the storage exception tree, in one place."""
    try:
        yield
    except S3Error as exc:
        if exc.code in _MISSING:
            raise ObjectNotFound(f"no object {subject}") from exc
        if exc.code in _DENIED and "lock" in str(exc.message or "").lower():
            raise WriteOnceViolation(f"{subject} is under retention: {exc.message}") from exc
        raise StorageError(
            f"S3 refused an operation on {subject}: {exc.code} {exc.message}"
        ) from exc
    except (MinioException, urllib3.exceptions.HTTPError) as exc:
        raise StorageUnavailable(f"S3 unreachable or failing ({subject}): {exc}") from exc


def _network_errors_mapped(chunks: Iterator[bytes], key: str) -> Iterator[bytes]:
    with _mapped(key):
        yield from chunks


def _clean_etag(etag: str | None) -> str:
    return (etag or "").strip('"')
