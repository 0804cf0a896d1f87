"""Object storage: MinIO or any S3 server in production, a local directory by default.

It knows nothing of procurement (it imports no other project package). Every backend
streams, so memory stays constant in object size; offers resumable multipart uploads (S3
multipart uploads on S3, a folder of part files on the local store; S3's part-size rule on
both); and keeps write-once objects, with server-enforced retention where the bucket has
object lock. See ``docs/storage.md``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from storage.base import (
    InvalidKey,
    InvalidPart,
    NotSupported,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    ObjectStream,
    PartInfo,
    StorageError,
    StorageUnavailable,
    UploadNotFound,
    WriteOnceViolation,
    validate_key,
)
from storage.local import LocalObjectStore
from storage.s3 import RETENTION_DAYS, S3ObjectStore

__all__ = [
    "InvalidKey",
    "InvalidPart",
    "LocalObjectStore",
    "NotSupported",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "ObjectStream",
    "PartInfo",
    "S3ObjectStore",
    "StorageError",
    "StorageUnavailable",
    "UploadNotFound",
    "WriteOnceViolation",
    "open_object_store",
    "validate_key",
]

_S3_OPTIONS = frozenset({"secure", "object_lock", "region", "retention_days"})
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def open_object_store(url: str) -> ObjectStore:
    """Open the store named by ``url``.

    - ``file:///absolute/path``: a local directory (created if missing);
    - ``s3://ACCESS:SECRET@host:port/bucket?secure=false&object_lock=true``: an S3 bucket,
      created if missing (with object lock when asked). Options: ``secure`` (default
      true), ``object_lock`` (default false), ``region``, ``retention_days`` (default
      15 years). Percent-encode ``/``, ``@`` or ``:`` in the keys.

    Raises:
        ValueError: for any other form, so a bad setting fails at start-up with a message
            that names the problem.
    """
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return _open_local(url, parsed.netloc, parsed.path, parsed.query)
    if parsed.scheme == "s3":
        return _open_s3(url)
    raise ValueError(f"unsupported object store URL {_redacted(url)!r}: use file:// or s3://")


def _open_local(url: str, host: str, path: str, query: str) -> LocalObjectStore:
    if host not in {"", "localhost"} or query:
        raise ValueError(f"file store URL must be file:///absolute/path, got {url!r}")
    folder = unquote(path)
    if not folder.startswith("/") or folder == "/":
        raise ValueError(f"file store URL needs an absolute folder below '/': {url!r}")
    return LocalObjectStore(Path(folder))


def _open_s3(url: str) -> S3ObjectStore:
    from minio import Minio

    parsed = urlparse(url)
    shown = _redacted(url)
    try:
        port = parsed.port
    except ValueError as exc:
        raise ValueError(f"S3 store URL has a bad port: {shown!r}") from exc
    bucket = parsed.path.strip("/")
    if not parsed.hostname or not bucket or "/" in bucket:
        raise ValueError(f"S3 store URL must be s3://KEY:SECRET@host:port/bucket: {shown!r}")
    if parsed.username is None or parsed.password is None:
        raise ValueError(f"S3 store URL needs credentials (s3://KEY:SECRET@...): {shown!r}")
    query = parse_qs(parsed.query, keep_blank_values=True)
    unknown = set(query) - _S3_OPTIONS
    if unknown:
        raise ValueError(f"S3 store URL has unknown options {sorted(unknown)}: {shown!r}")
    options = {name: values[-1] for name, values in query.items()}
    retention = options.get("retention_days")
    if retention is not None and not (retention.isdigit() and int(retention) > 0):
        raise ValueError(f"S3 store URL retention_days must be a positive integer: {shown!r}")
    client = Minio(
        parsed.hostname + (f":{port}" if port else ""),
        access_key=unquote(parsed.username),
        secret_key=unquote(parsed.password),
        secure=_boolean(options, "secure", default=True, shown=shown),
        region=options.get("region") or None,
    )
    store = S3ObjectStore(
        client,
        bucket,
        object_lock=_boolean(options, "object_lock", default=False, shown=shown),
        retention_days=int(retention) if retention else RETENTION_DAYS,
    )
    store.ensure_bucket()
    return store


def _boolean(options: dict[str, str], name: str, *, default: bool, shown: str) -> bool:
    if name not in options:
        return default
    value = _BOOLEANS.get(options[name].lower())
    if value is None:
        raise ValueError(f"S3 store URL option {name} must be true or false: {shown!r}")
    return value


def _redacted(url: str) -> str:
    """The URL with its secret hidden, for error messages that end up in logs."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return parsed._replace(netloc=netloc).geturl()
