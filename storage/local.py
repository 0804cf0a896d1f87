"""Object storage in a local directory: the embedded default (no server needed).

Layout under the root folder (dot names are never keys, see ``validate_key``)::

    <key>                     the object's bytes
    .meta/<key>               JSON: content type, SHA-256, upload id (valid while its etag
                              matches the object file)
    .uploads/<id>/upload.json the upload's target key and content type
    .uploads/<id>/part-000001 one file per part

Every write goes to a ``.tmp-`` file in the target's folder and is renamed into place, so a
reader never sees half an object. Write-once objects are linked into place (``os.link``
fails if the name exists, so two writers cannot both win) and made read-only; this code
refuses to overwrite or delete them. There is no retention clock: anyone with write access
to the folder can still remove a file, so ``supports_retention`` is False and the bid's
hash in its signed receipt is what detects tampering here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat as stat_mode
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.base import (
    DEFAULT_CONTENT_TYPE,
    UPLOADS_PREFIX,
    NotSupported,
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    PartInfo,
    StorageUnavailable,
    UploadNotFound,
    WriteOnceViolation,
    as_chunks,
    checked_chunk,
    part_name,
    validate_key,
    validate_part_number,
    validate_parts,
    validate_prefix,
    validate_upload_id,
)

META_FOLDER = ".meta"
MANIFEST = "upload.json"
_TEMP_PREFIX = ".tmp-"
_READ_ONLY = 0o444


class LocalObjectStore:
    """An :class:`~storage.base.ObjectStore` on a directory tree."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def supports_retention(self) -> bool:
        """Always False: a directory has no retention clock the server enforces."""
        return False

    # -- objects ---------------------------------------------------------------------------

    def put(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str = DEFAULT_CONTENT_TYPE,
        write_once: bool = False,
    ) -> ObjectInfo:
        """Stream ``chunks`` into the file for ``key``, atomically."""
        return self._store(key, chunks, content_type=content_type, write_once=write_once)

    def get(self, key: str, *, chunk_size: int = 1 << 20) -> ObjectStream:
        """Stream the file in ``chunk_size`` pieces."""
        _check_chunk_size(chunk_size)
        path = self._object_path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key}") from exc
        return ObjectStream(iter(lambda: handle.read(chunk_size), b""), handle.close)

    def stat(self, key: str) -> ObjectInfo:
        """Size, time and etag from the file; content type and SHA-256 from its sidecar."""
        path = self._object_path(key)
        info = self._file_stat(path, key)
        return self._info(key, info, self._read_meta(key, _etag(info)))

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self._object_path(key).is_file()

    def delete(self, key: str) -> None:
        """Delete ``key``; write-once objects are refused."""
        path = self._object_path(key)
        info = self._file_stat(path, key)
        if _is_write_once(info):
            raise WriteOnceViolation(f"object {key} is write-once and cannot be deleted")
        path.unlink(missing_ok=True)
        self._meta_path(key).unlink(missing_ok=True)

    def list_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix``, in key order."""
        validate_prefix(prefix)
        folder = self.root / prefix.rpartition("/")[0]
        found: list[tuple[str, os.stat_result]] = []
        for current, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            relative = Path(current).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith("."):
                    continue
                key = name if relative == "." else f"{relative}/{name}"
                if key.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):  # deleted while listing
                        found.append((key, (Path(current) / name).stat()))
        for key, info in sorted(found, key=lambda item: item[0]):
            yield self._info(key, info, self._read_meta(key, _etag(info)))

    # -- multipart uploads -----------------------------------------------------------------

    def create_upload(self, key: str, *, content_type: str = DEFAULT_CONTENT_TYPE) -> str:
        """Start an upload: a folder holding its manifest and, later, its parts."""
        validate_key(key)
        upload_id = uuid.uuid4().hex
        folder = self.root / UPLOADS_PREFIX / upload_id
        folder.mkdir(parents=True)
        manifest = json.dumps({"key": key, "content_type": content_type}).encode()
        self._write_file(folder / MANIFEST, [manifest], label=f"upload {upload_id}")
        return upload_id

    def put_part(self, upload_id: str, number: int, data: bytes | Iterable[bytes]) -> PartInfo:
        """Write (or replace) part ``number`` atomically."""
        folder, _ = self._upload(upload_id)
        validate_part_number(number)
        path = folder / part_name(number)
        try:
            self._write_file(path, as_chunks(data), label=f"part {number} of upload {upload_id}")
        except FileNotFoundError as exc:  # aborted or completed meanwhile
            raise UploadNotFound(f"no upload {upload_id}") from exc
        info = path.stat()
        return PartInfo(number=number, size=info.st_size, etag=_etag(info))

    def list_parts(self, upload_id: str) -> list[PartInfo]:
        """Parts received so far, by number."""
        folder, _ = self._upload(upload_id)
        parts = []
        for path in sorted(folder.glob("part-*")):
            with contextlib.suppress(FileNotFoundError):
                info = path.stat()
                parts.append(
                    PartInfo(number=int(path.name[5:]), size=info.st_size, etag=_etag(info))
                )
        return parts

    def complete_upload(self, upload_id: str, *, write_once: bool = False) -> ObjectInfo:
        """Concatenate the parts (streamed) into the target object, then drop the upload."""
        folder, manifest = self._upload(upload_id)
        key = str(manifest["key"])
        finished = self._finished_by(key, upload_id)
        if finished is not None:
            shutil.rmtree(folder, ignore_errors=True)
            return finished
        parts = self.list_parts(upload_id)
        validate_parts(upload_id, parts)  # S3's rule here too: one contract for both stores

        def joined() -> Iterator[bytes]:
            for part in parts:
                with (folder / part_name(part.number)).open("rb") as handle:
                    yield from iter(lambda: handle.read(1 << 20), b"")

        info = self._store(
            key,
            joined(),
            content_type=str(manifest.get("content_type") or DEFAULT_CONTENT_TYPE),
            write_once=write_once,
            upload_id=upload_id,
        )
        shutil.rmtree(folder)
        return info

    def abort_upload(self, upload_id: str) -> None:
        """Forget an upload and its parts."""
        folder, _ = self._upload(upload_id)
        shutil.rmtree(folder)

    def presigned_get_url(self, key: str, expires: timedelta) -> str:
        """A local directory has no URL of its own: the app streams objects itself."""
        validate_key(key)
        raise NotSupported("the local object store has no presigned URLs; stream with get()")

    # -- internals -------------------------------------------------------------------------

    def _object_path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / META_FOLDER / key

    def _file_stat(self, path: Path, key: str) -> os.stat_result:
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(f"no object {key}") from exc
        if not stat_mode.S_ISREG(info.st_mode):
            raise ObjectNotFound(f"no object {key}")
        return info

    def _info(self, key: str, info: os.stat_result, meta: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=info.st_size,
            etag=_etag(info),
            content_type=str(meta.get("content_type") or DEFAULT_CONTENT_TYPE),
            last_modified=datetime.fromtimestamp(info.st_mtime, UTC),
            sha256=meta.get("sha256"),
        )

    def _read_meta(self, key: str, etag: str) -> dict[str, Any]:
        """The sidecar, if it describes this very file (an etag mismatch means stale)."""
        try:
            meta: dict[str, Any] = json.loads(self._meta_path(key).read_bytes())
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return {}
        return meta if meta.get("etag") == etag else {}

    def _finished_by(self, key: str, upload_id: str) -> ObjectInfo | None:
        """The target, if this upload already produced it (a retried completion)."""
        try:
            info = self._file_stat(self._object_path(key), key)
        except ObjectNotFound:
            return None
        meta = self._read_meta(key, _etag(info))
        return self._info(key, info, meta) if meta.get("upload_id") == upload_id else None

    def _upload(self, upload_id: str) -> tuple[Path, dict[str, Any]]:
        folder = self.root / UPLOADS_PREFIX / validate_upload_id(upload_id)
        try:
            manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_bytes())
        except FileNotFoundError as exc:
            raise UploadNotFound(f"no upload {upload_id}") from exc
        return folder, manifest

    def _store(
        self,
        key: str,
        chunks: Iterable[bytes],
        *,
        content_type: str,
        write_once: bool,
        upload_id: str | None = None,
    ) -> ObjectInfo:
        path = self._object_path(key)
        self._refuse_overwrite(path, key, write_once=write_once)
        self._make_parent(path, key)
        temp, sha256 = self._write_temp(path.parent, chunks, label=f"object {key}")
        try:
            if write_once:
                temp.chmod(_READ_ONLY)
                try:
                    os.link(temp, path)  # fails if the name exists: no lost race
                except FileExistsError as exc:
                    raise WriteOnceViolation(f"object {key} already exists") from exc
            else:
                self._refuse_overwrite(path, key, write_once=False)
                os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)
        info = path.stat()
        meta = {
            "etag": _etag(info),
            "content_type": content_type,
            "sha256": sha256,
            "upload_id": upload_id,
        }
        meta_path = self._meta_path(key)
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        self._write_file(meta_path, [json.dumps(meta).encode()], label=f"metadata of {key}")
        return self._info(key, info, meta)

    def _refuse_overwrite(self, path: Path, key: str, *, write_once: bool) -> None:
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat_mode.S_ISDIR(info.st_mode):
            raise NotSupported(
                f"the local store cannot hold {key} next to objects under {key}/ "
                "(a file and a folder of one name)"
            )
        if write_once:
            raise WriteOnceViolation(f"object {key} already exists; write-once needs a new key")
        if _is_write_once(info):
            raise WriteOnceViolation(f"object {key} is write-once and cannot be replaced")

    def _make_parent(self, path: Path, key: str) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise NotSupported(
                f"the local store cannot hold {key}: a folder on its path is an object"
            ) from exc

    def _write_temp(self, folder: Path, chunks: Iterable[bytes], *, label: str) -> tuple[Path, str]:
        """Write chunks to a temp file in ``folder``; return it and the SHA-256.

        Errors raised by the caller's iterator pass through unchanged; disk errors become
        :class:`StorageUnavailable`. The temp file never outlives a failure.
        """
        digest = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=folder, prefix=_TEMP_PREFIX)
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    data = checked_chunk(chunk)
                    digest.update(data)
                    try:
                        handle.write(data)
                    except OSError as exc:
                        raise StorageUnavailable(f"writing {label}: {exc}") from exc
                handle.flush()
                os.fsync(handle.fileno())  # sealed bids are evidence: durable before visible
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, digest.hexdigest()

    def _write_file(self, path: Path, chunks: Iterable[bytes], *, label: str) -> None:
        temp, _ = self._write_temp(path.parent, chunks, label=label)
        try:
            os.replace(temp, path)
        finally:
            temp.unlink(missing_ok=True)


def _etag(info: os.stat_result) -> str:
    """Changes on every write: each write renames a new file (new inode) into place."""
    return f"{info.st_ino:x}-{info.st_size:x}-{info.st_mtime_ns:x}"


def _is_write_once(info: os.stat_result) -> bool:
    return not info.st_mode & 0o222


def _check_chunk_size(chunk_size: int) -> None:
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
