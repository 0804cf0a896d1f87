"""The object-store protocol shared by the S3 and local-directory backends."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

PART_PREFIX = ".uploads"
MIN_COMPOSE_PART = 5 * 1024 * 1024
_KEY = re.compile(r"^[A-Za-z0-9!_.*'()/\-\u4e00-\u9fff]+$")


class StorageError(Exception):
    """Root of object-storage errors."""


class ObjectNotFound(StorageError):
    """No object under that key."""


class WriteOnceViolation(StorageError):
    """An attempt to overwrite or delete a write-once object."""


class UploadNotFound(StorageError):
    """No multipart upload with that id."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape its folder or is not printable."""


class NotSupported(StorageError):
    """The backend does not offer this (presigned URLs on a local directory)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about an object."""

    key: str
    size: int
    etag: str
    last_modified: datetime | None = None
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class PartInfo:
    """One uploaded part of a multipart upload."""

    number: int
    size: int
    etag: str


def validate_key(key: str) -> str:
    """Keys are relative paths of printable segments; no '..', no empty segment."""
    if not key or key.startswith("/") or len(key) > 900:
        raise InvalidKey(f"invalid object key {key!r}")
    segments = key.split("/")
    if any(s in {"", ".", ".."} for s in segments) or not _KEY.fullmatch(key):
        raise InvalidKey(f"invalid object key {key!r}")
    return key


def validate_part_number(number: int) -> int:
    """Part numbers run from 1 to 10,000, as in S3."""
    if not 1 <= number <= 10_000:
        raise StorageError(f"part number {number} is outside 1..10000")
    return number


@runtime_checkable
class ObjectStore(Protocol):
    """Streaming object storage; memory use stays constant in object size."""

    supports_retention: bool

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        write_once: bool = False,
    ) -> ObjectInfo:
        """Store an object of unknown length from an iterator of chunks."""
        ...

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream an object's bytes."""
        ...

    def stat(self, key: str) -> ObjectInfo:
        """Size and etag of an object, or ObjectNotFound."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object exists."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object (refused for write-once objects)."""
        ...

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``."""
        ...

    def create_upload(self, key: str) -> str:
        """Start a multipart upload; returns its id."""
        ...

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Store (or replace) part ``number`` of an upload."""
        ...

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts received so far, by number."""
        ...

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Join the parts in number order into the final object."""
        ...

    def abort_upload(self, upload_id: str) -> None:
        """Drop an upload and its parts."""
        ...

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        """A time-limited download URL (NotSupported where the backend has none)."""
        ...
