"""Object storage in a local directory: the embedded default (no server needed).

Writes go to a temporary file and are renamed into place, so a reader never sees half an
object. Write-once objects are refused overwrite and deletion by this code and made
read-only on disk; there is no retention clock (``supports_retention`` is False).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.base import (
    PART_PREFIX,
    NotSupported,
    ObjectInfo,
    ObjectNotFound,
    PartInfo,
    UploadNotFound,
    WriteOnceViolation,
    validate_key,
    validate_part_number,
)

_LOCK_SUFFIX = ".write-once"


class LocalObjectStore:
    """An :class:`~storage.base.ObjectStore` on a directory tree."""

    supports_retention = False

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _write(self, path: Path, chunks: Iterable[bytes]) -> tuple[int, str]:
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return size, digest.hexdigest()

    def _is_write_once(self, path: Path) -> bool:
        return path.with_name(path.name + _LOCK_SUFFIX).exists()

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = "application/octet-stream",
        write_once: bool = False,
    ) -> ObjectInfo:
        """Stream ``chunks`` into the file for ``key`` (atomically)."""
        path = self._path(key)
        if path.exists() and (write_once or self._is_write_once(path)):
            raise WriteOnceViolation(f"object {key} exists and is write-once")
        size, etag = self._write(path, chunks)
        if write_once:
            path.with_name(path.name + _LOCK_SUFFIX).touch()
            path.chmod(0o444)
        return ObjectInfo(
            key=key,
            size=size,
            etag=etag,
            content_type=content_type,
            last_modified=datetime.now(UTC),
        )

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream the file in ``chunk_size`` pieces."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key}")
        return _read(path, chunk_size)

    def stat(self, key: str) -> ObjectInfo:
        """Size and modification time of ``key``; the etag is the size-and-time pair."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key}")
        info = path.stat()
        return ObjectInfo(
            key=key,
            size=info.st_size,
            etag=f"{info.st_size:x}-{info.st_mtime_ns:x}",
            last_modified=datetime.fromtimestamp(info.st_mtime, UTC),
        )

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Delete ``key``; write-once objects are refused."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(f"no object {key}")
        if self._is_write_once(path):
            raise WriteOnceViolation(f"object {key} is write-once")
        path.unlink()

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix``, sorted by key."""
        keys = sorted(
            str(p.relative_to(self.root))
            for p in self.root.rglob("*")
            if p.is_file() and not p.name.startswith(".tmp-") and not p.name.endswith(_LOCK_SUFFIX)
        )
        for key in keys:
            if key.startswith(prefix) and not key.startswith(PART_PREFIX):
                yield self.stat(key)

    def _upload_dir(self, upload_id: str) -> Path:
        path = self.root / PART_PREFIX / validate_key(upload_id)
        if not (path / "key").is_file():
            raise UploadNotFound(f"no upload {upload_id}")
        return path

    def create_upload(self, key: str) -> str:
        """Start an upload: a folder holding the target key and the parts."""
        validate_key(key)
        upload_id = uuid.uuid4().hex
        folder = self.root / PART_PREFIX / upload_id
        folder.mkdir(parents=True)
        (folder / "key").write_text(key)
        return upload_id

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Write (or replace) part ``number``."""
        folder = self._upload_dir(upload_id)
        validate_part_number(number)
        chunks = [data] if isinstance(data, bytes) else data
        size, etag = self._write(folder / f"part-{number:06d}", chunks)
        return PartInfo(number=number, size=size, etag=etag)

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts received so far."""
        folder = self._upload_dir(upload_id)
        parts = []
        for path in sorted(folder.glob("part-*")):
            parts.append(
                PartInfo(
                    number=int(path.name[5:]),
                    size=path.stat().st_size,
                    etag=f"{path.stat().st_mtime_ns:x}",
                )
            )
        return parts

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Concatenate the parts into the target object, then drop the upload."""
        folder = self._upload_dir(upload_id)
        key = (folder / "key").read_text()
        parts = sorted(folder.glob("part-*"))

        def joined() -> Iterator[bytes]:
            for part in parts:
                yield from _read(part, 1 << 20)

        info = self.put(key, joined(), write_once=write_once)
        shutil.rmtree(folder)
        return info

    def abort_upload(self, upload_id: str) -> None:
        """Forget an upload and its parts."""
        shutil.rmtree(self._upload_dir(upload_id))

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        """A local directory has no URL of its own: the app streams objects itself."""
        raise NotSupported("the local object store has no presigned URLs")


def _read(path: Path, chunk_size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk
