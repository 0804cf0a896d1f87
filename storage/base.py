"""The object-store protocol shared by the S3 and local-directory backends.

Everything here is backend-neutral: the :class:`ObjectStore` protocol, the records it
returns, the one exception tree, key rules that both backends enforce identically (so an
object stored on one can move to the other), and :class:`ObjectStream`, the iterator that
``get`` returns and that releases its file or connection as soon as it is exhausted or
closed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Protocol, runtime_checkable

DEFAULT_CONTENT_TYPE = "application/octet-stream"
UPLOADS_PREFIX = ".uploads"
"""Top-level folder of multipart uploads; keys may not start with a dot, so no clash."""
MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest part for every part but the last; both backends hold uploads to it."""
MAX_PART_NUMBER = 10_000
MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


class StorageError(Exception):
    """Root of every object-storage error."""


class ObjectNotFound(StorageError):
    """No object under that key."""


class WriteOnceViolation(StorageError):
    """An attempt to overwrite or delete a write-once object, or to write once over one."""


class UploadNotFound(StorageError):
    """No multipart upload with that id (never created, completed or aborted)."""


class InvalidPart(StorageError, ValueError):
    """A part number outside 1..10,000, or a completion with no parts or a short part."""


class InvalidKey(StorageError, ValueError):
    """A key that could escape its folder, clash with the store's own files, or is unprintable."""


class NotSupported(StorageError):
    """The backend does not offer this (presigned URLs on a local directory)."""


class StorageUnavailable(StorageError):
    """The backend could not be reached or failed (network, disk, server error)."""


@dataclass(frozen=True)
class ObjectInfo:
    """What the store knows about an object.

    ``sha256`` is known when the bytes passed through this code (``put``, and completion
    and ``stat`` on the local store); S3 does not keep it. ``content_type`` is
    None where a listing does not carry it.
    """

    key: str
    size: int
    etag: str
    content_type: str | None = DEFAULT_CONTENT_TYPE
    last_modified: datetime | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class PartInfo:
    """One received part of a multipart upload."""

    number: int
    size: int
    etag: str


def _printable(text: str) -> bool:
    """No control, format, surrogate or unassigned characters, no line separators.

    Spaces (ASCII and the ideographic space common in Chinese file names) are allowed.
    """
    for char in text:
        category = unicodedata.category(char)
        if category[0] == "C" or category in {"Zl", "Zp"}:
            return False
    return True


def validate_key(key: str) -> str:
    """Check an object key and return it unchanged.

    Keys are relative paths: segments separated by ``/``, none empty, ``.`` or ``..``, none
    starting with a dot (dot names are the store's own bookkeeping), no backslash, only
    printable characters, at most 255 bytes a segment (a file name on the local store) and
    1,024 bytes in all (S3's limit).

    Raises:
        InvalidKey: naming the key and the rule it breaks.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"object key must be a non-empty string, got {key!r}")
    if key.startswith("/"):
        raise InvalidKey(f"object key {key!r} must be relative (no leading '/')")
    if "\\" in key:
        raise InvalidKey(f"object key {key!r} must not contain a backslash")
    if not _printable(key):
        raise InvalidKey(f"object key {key!r} contains unprintable characters")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise InvalidKey(f"object key {key[:40]!r}... is longer than {MAX_KEY_BYTES} bytes")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(f"object key {key!r} has an empty segment")
        if segment.startswith("."):
            raise InvalidKey(f"object key {key!r} has a segment starting with '.'")
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            raise InvalidKey(f"object key {key!r} has a segment over {MAX_SEGMENT_BYTES} bytes")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or the start of a valid key (possibly ending in ``/``)."""
    if prefix:
        validate_key(prefix.removesuffix("/") if prefix.endswith("/") else prefix)
    return prefix


def validate_part_number(number: int) -> int:
    """Part numbers run from 1 to 10,000, as in S3."""
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidPart(f"part number must be an integer, got {number!r}")
    if not 1 <= number <= MAX_PART_NUMBER:
        raise InvalidPart(f"part number {number} is outside 1..{MAX_PART_NUMBER}")
    return number


def validate_upload_id(upload_id: str) -> str:
    """Upload ids are 32 lowercase hex digits; anything else cannot name an upload."""
    if not isinstance(upload_id, str) or not _UPLOAD_ID.fullmatch(upload_id):
        raise UploadNotFound(f"no upload {upload_id!r}")
    return upload_id


def validate_parts(upload_id: str, parts: list[PartInfo]) -> None:
    """Whether parts (by number) can be joined: S3's rule, which both backends apply.

    Raises:
        InvalidPart: no parts, or a part other than the last under 5 MiB; the parts stay,
            so the client can send that one again, larger.
    """
    if not parts:
        raise InvalidPart(f"upload {upload_id} has no parts to complete")
    for part in parts[:-1]:
        if part.size < MIN_PART_SIZE:
            raise InvalidPart(
                f"part {part.number} of upload {upload_id} is {part.size} bytes; every part "
                f"but the last must be at least {MIN_PART_SIZE} bytes (5 MiB)"
            )


def part_name(number: int) -> str:
    """File name of part ``number`` on the local store: zero-padded so names sort in order."""
    return f"part-{number:06d}"


def as_chunks(data: bytes | Iterable[bytes]) -> Iterable[bytes]:
    """Accept one bytes value or an iterable of chunks."""
    if isinstance(data, bytes):
        return [data]
    if isinstance(data, bytearray | memoryview):
        return [bytes(data)]
    return data


def checked_chunk(chunk: object) -> bytes | bytearray | memoryview:
    """A chunk must be bytes-like; a ``str`` here is a caller's bug worth naming."""
    if not isinstance(chunk, bytes | bytearray | memoryview):
        raise TypeError(f"object chunks must be bytes, got {type(chunk).__name__}")
    return chunk


class ObjectStream(Iterator[bytes]):
    """The bytes of one object, read lazily; closes its source when exhausted or closed.

    Use it as an iterator, or in a ``with`` block when a reader may stop early, so the
    file handle or HTTP connection goes back at once rather than at garbage collection.
    """

    def __init__(self, chunks: Iterator[bytes], release: Callable[[], None]) -> None:
        self._chunks = chunks
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> ObjectStream:
        return self

    def __next__(self) -> bytes:
        if self._release is None:
            raise StopIteration
        try:
            return next(self._chunks)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the file or connection; safe to call more than once."""
        release, self._release = self._release, None
        if release is not None:
            release()

    def __enter__(self) -> ObjectStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


@runtime_checkable
class ObjectStore(Protocol):
    """Streaming object storage; memory use stays constant in object size.

    Implementations are safe to call from several threads at once (the web layer calls
    them through worker threads, Celery tasks call them directly).
    """

    @property
    def supports_retention(self) -> bool:
        """Whether write-once objects also get server-enforced retention (object lock)."""
        ...

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        write_once: bool = False,
    ) -> ObjectInfo:
        """Store an object of unknown length from an iterable of chunks.

        The object appears whole or not at all. ``write_once`` refuses an existing key and
        protects the new object from overwrite and deletion.

        Raises:
            WriteOnceViolation: the key holds a write-once object, or ``write_once`` is
                asked and the key exists.
            InvalidKey: the key breaks :func:`validate_key`.
        """
        ...

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> ObjectStream:
        """Stream an object's bytes in pieces of at most ``chunk_size``.

        Raises:
            ObjectNotFound: at the call, not at the first ``next``.
        """
        ...

    def stat(self, key: str) -> ObjectInfo:
        """Size, etag and time of an object.

        Raises:
            ObjectNotFound: no object under ``key``.
        """
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    def delete(self, key: str) -> None:
        """Remove an object.

        Raises:
            ObjectNotFound: no object under ``key``.
            WriteOnceViolation: the object is write-once.
        """
        ...

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order (uploads excluded)."""
        ...

    def create_upload(self, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        """Start a resumable multipart upload to ``key``; returns its id."""
        ...

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Store part ``number`` (1..10,000); putting the same number again replaces it.

        Raises:
            UploadNotFound: unknown, completed or aborted upload.
            InvalidPart: number out of range.
        """
        ...

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts received so far, by number (what a resuming client skips)."""
        ...

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Join the parts in number order into the target object and drop the parts.

        Completing again after a crash between the join and the clean-up finishes the
        clean-up and returns the object.

        Raises:
            UploadNotFound: unknown, completed or aborted upload.
            InvalidPart: the upload has no parts, or a part but the last is under 5 MiB
                (S3's rule); the upload stays as it was.
            WriteOnceViolation: as for :meth:`put`.
        """
        ...

    def abort_upload(self, upload_id: str) -> None:
        """Drop an upload and its parts."""
        ...

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        """A time-limited download URL.

        Raises:
            NotSupported: the backend has none (the local directory).
            ObjectNotFound: no object under ``key``.
        """
        ...
