"""Object storage on MinIO or any S3 server, through the public API of the ``minio`` SDK.

Multipart uploads do not use the SDK's private multipart calls (ARCHITECTURE §3, note on
the SDK): each part is its own object under ``.uploads/<upload id>/``, and completion joins
them with the public ``compose_object`` (when every part but the last is at least 5 MiB) or
by streaming them into one put of unknown length. Write-once objects get COMPLIANCE
retention where the bucket has object lock.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import BinaryIO, cast

from minio import Minio
from minio.commonconfig import COMPLIANCE, ComposeSource
from minio.error import S3Error
from minio.retention import Retention

from storage.base import (
    MIN_COMPOSE_PART,
    PART_PREFIX,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    UploadNotFound,
    WriteOnceViolation,
    validate_key,
    validate_part_number,
)

PUT_PART_SIZE = 8 * 1024 * 1024
WRITE_ONCE_META = "zhaocai-write-once"
_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchVersion"}


class _IteratorReader(io.RawIOBase):
    """A file-like view of an iterator of chunks, holding at most one read's worth."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = bytearray()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            self._buffer.extend(b"".join(self._chunks))
            size = len(self._buffer)
        while len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer.extend(chunk)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


class S3ObjectStore:
    """An :class:`~storage.base.ObjectStore` on one S3 bucket."""

    def __init__(
        self, client: Minio, bucket: str, *, object_lock: bool = False, retention_days: int = 5475
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.object_lock = object_lock
        self.retention_days = retention_days
        self.supports_retention = object_lock

    def ensure_bucket(self) -> None:
        """Create the bucket (with object lock if configured) when it does not exist."""
        if not self.client.bucket_exists(self.bucket):
            self.client.make_bucket(self.bucket, object_lock=self.object_lock)

    def _retention(self) -> Retention:
        until = datetime.now(UTC) + timedelta(days=self.retention_days)
        return Retention(COMPLIANCE, until)

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        write_once: bool = False,
    ) -> ObjectInfo:
        """Stream an object of unknown length (S3 multipart under the hood, 8 MiB parts)."""
        validate_key(key)
        self._refuse_if_write_once(key, also_if_exists=write_once)
        result = self.client.put_object(
            self.bucket,
            key,
            cast("BinaryIO", _IteratorReader(chunks)),
            length=-1,
            part_size=PUT_PART_SIZE,
            content_type=content_type,
            metadata={WRITE_ONCE_META: "true"} if write_once else None,
            retention=self._retention() if write_once and self.object_lock else None,
        )
        return (
            self.stat(key)
            if result.etag is None
            else ObjectInfo(
                key=key, size=self.stat(key).size, etag=result.etag, content_type=content_type
            )
        )

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream an object; the connection goes back to the pool when done."""
        validate_key(key)
        try:
            response = self.client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ObjectNotFound(f"no object {key}") from exc
            raise
        return _stream(response, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        """Size, etag and time of an object."""
        validate_key(key)
        try:
            info = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                raise ObjectNotFound(f"no object {key}") from exc
            raise
        return ObjectInfo(
            key=key,
            size=int(info.size or 0),
            etag=str(info.etag),
            last_modified=info.last_modified,
            content_type=info.content_type or "application/octet-stream",
        )

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def _refuse_if_write_once(self, key: str, *, also_if_exists: bool) -> None:
        """Refuse to replace a write-once object (marked in its metadata: any backend)."""
        try:
            info = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in _MISSING:
                return
            raise
        metadata = {k.lower(): v for k, v in (info.metadata or {}).items()}
        if also_if_exists or metadata.get(f"x-amz-meta-{WRITE_ONCE_META}") == "true":
            raise WriteOnceViolation(f"object {key} exists and is write-once")

    def delete(self, key: str) -> None:
        """Delete an object; write-once objects and objects under retention are refused."""
        self.stat(key)
        self._refuse_if_write_once(key, also_if_exists=False)
        try:
            self.client.remove_object(self.bucket, key)
        except S3Error as exc:
            if exc.code == "AccessDenied":
                raise WriteOnceViolation(f"object {key} is under retention") from exc
            raise

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` (upload parts excluded)."""
        for item in self.client.list_objects(self.bucket, prefix=prefix, recursive=True):
            name = str(item.object_name)
            if name.startswith(PART_PREFIX):
                continue
            yield ObjectInfo(
                key=name,
                size=int(item.size or 0),
                etag=str(item.etag),
                last_modified=item.last_modified,
            )

    def _part_key(self, upload_id: str, number: int) -> str:
        return f"{PART_PREFIX}/{upload_id}/part-{number:06d}"

    def _target(self, upload_id: str) -> str:
        validate_key(upload_id)
        try:
            response = self.client.get_object(self.bucket, f"{PART_PREFIX}/{upload_id}/key")
        except S3Error as exc:
            if exc.code in _MISSING:
                raise UploadNotFound(f"no upload {upload_id}") from exc
            raise
        try:
            return response.read().decode()
        finally:
            response.close()
            response.release_conn()

    def create_upload(self, key: str) -> str:
        """Start an upload: a small object remembers its target key."""
        validate_key(key)
        upload_id = uuid.uuid4().hex
        data = key.encode()
        self.client.put_object(
            self.bucket, f"{PART_PREFIX}/{upload_id}/key", io.BytesIO(data), len(data)
        )
        return upload_id

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Store (or replace) one part as its own object."""
        self._target(upload_id)
        validate_part_number(number)
        chunks = [data] if isinstance(data, bytes) else data
        key = self._part_key(upload_id, number)
        result = self.client.put_object(
            self.bucket,
            key,
            cast("BinaryIO", _IteratorReader(chunks)),
            length=-1,
            part_size=PUT_PART_SIZE,
        )
        size = int(self.client.stat_object(self.bucket, key).size or 0)
        return PartInfo(number=number, size=size, etag=str(result.etag))

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts received so far, by number."""
        self._target(upload_id)
        parts = []
        for item in self.client.list_objects(
            self.bucket, prefix=f"{PART_PREFIX}/{upload_id}/part-"
        ):
            name = str(item.object_name)
            parts.append(
                PartInfo(
                    number=int(name.rsplit("-", 1)[1]),
                    size=int(item.size or 0),
                    etag=str(item.etag),
                )
            )
        return sorted(parts, key=lambda p: p.number)

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Join the parts into the target object, then delete them."""
        key = self._target(upload_id)
        parts = self.list_parts(upload_id)
        self._refuse_if_write_once(key, also_if_exists=write_once)
        if len(parts) > 1 and all(p.size >= MIN_COMPOSE_PART for p in parts[:-1]):
            self.client.compose_object(
                self.bucket,
                key,
                [ComposeSource(self.bucket, self._part_key(upload_id, p.number)) for p in parts],
                metadata={WRITE_ONCE_META: "true"} if write_once else None,
                retention=self._retention() if write_once and self.object_lock else None,
            )
        else:

            def joined() -> Iterator[bytes]:
                for part in parts:
                    yield from self.get(self._part_key(upload_id, part.number))

            self.put(key, joined(), write_once=write_once)
        self.abort_upload(upload_id)
        return self.stat(key)

    def abort_upload(self, upload_id: str) -> None:
        """Delete an upload's parts and its key object."""
        self._target(upload_id)
        for item in self.client.list_objects(
            self.bucket, prefix=f"{PART_PREFIX}/{upload_id}/", recursive=True
        ):
            self.client.remove_object(self.bucket, str(item.object_name))

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        """A time-limited GET URL signed with the store's credentials."""
        self.stat(key)
        return str(self.client.presigned_get_object(self.bucket, key, expires=expires))


def _stream(response: object, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from response.stream(chunk_size)  # type: ignore[attr-defined]
    finally:
        response.close()  # type: ignore[attr-defined]
        response.release_conn()  # type: ignore[attr-defined]
