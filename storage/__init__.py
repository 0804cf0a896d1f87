"""Object storage: MinIO or any S3 server in production, a local directory by default.

It knows nothing of procurement. Every backend streams (memory stays constant in object
size), offers resumable multipart uploads, and keeps write-once objects where it can.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from storage.base import (
    InvalidKey,
    NotSupported,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    PartInfo,
    StorageError,
    UploadNotFound,
    WriteOnceViolation,
)
from storage.local import LocalObjectStore
from storage.s3 import S3ObjectStore

__all__ = [
    "InvalidKey",
    "LocalObjectStore",
    "NotSupported",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "PartInfo",
    "S3ObjectStore",
    "StorageError",
    "UploadNotFound",
    "WriteOnceViolation",
    "open_object_store",
]


def open_object_store(url: str) -> ObjectStore:
    """Open the store named by ``url``.

    ``file:///absolute/path`` is a local directory;
    ``s3://ACCESS:SECRET@host:port/bucket?secure=false&object_lock=true`` is an S3 bucket
    (created if missing).

    Raises:
        ValueError: for any other form, so a bad setting fails at start-up.
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if not parsed.path:
            raise ValueError(f"file store URL needs a path: {url!r}")
        return LocalObjectStore(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        from minio import Minio

        bucket = parsed.path.strip("/")
        if not parsed.hostname or not bucket or "/" in bucket:
            raise ValueError(f"S3 store URL must be s3://KEY:SECRET@host:port/bucket: {url!r}")
        options = {k: v[-1].lower() for k, v in parse_qs(parsed.query).items()}
        endpoint = parsed.hostname + (f":{parsed.port}" if parsed.port else "")
        client = Minio(
            endpoint,
            access_key=unquote(parsed.username or ""),
            secret_key=unquote(parsed.password or ""),
            secure=options.get("secure", "true") == "true",
            region=options.get("region") or None,
        )
        store = S3ObjectStore(client, bucket, object_lock=options.get("object_lock") == "true")
        store.ensure_bucket()
        return store
    raise ValueError(f"unsupported object store URL {url!r}: use file:// or s3://")
