"""Fixtures for the object-store tests: one SeaweedFS per session, a fresh store per test.

The ``store`` fixture runs each contract test on both backends; the S3 case is marked
``integration`` because it needs the SeaweedFS server (started here if nothing listens on
its port, and stopped again at the end of the session).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject

from storage import LocalObjectStore, ObjectStore, S3ObjectStore
from tests.services import Services

ACCESS_KEY = "storage-tests"
SECRET_KEY = "storage-tests-secret"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``host:port`` of a running S3 server (SeaweedFS, started if needed)."""
    services = Services()
    try:
        yield services.ensure_s3()
    finally:
        services.stop()


@pytest.fixture(scope="session")
def s3_client(s3_endpoint: str) -> Minio:
    return Minio(s3_endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, secure=False)


def fresh_bucket(client: Minio, *, object_lock: bool = False) -> str:
    bucket = f"storage-{uuid.uuid4().hex[:16]}"
    client.make_bucket(bucket, object_lock=object_lock)
    return bucket


def remove_bucket(client: Minio, bucket: str) -> None:
    """Empty and drop a test bucket, so a long session does not pile up volumes."""
    names = [
        DeleteObject(str(item.object_name)) for item in client.list_objects(bucket, recursive=True)
    ]
    errors = list(client.remove_objects(bucket, names))
    assert errors == []
    client.remove_bucket(bucket)


@pytest.fixture
def s3_store(request: pytest.FixtureRequest) -> Iterator[S3ObjectStore]:
    client: Minio = request.getfixturevalue("s3_client")
    bucket = fresh_bucket(client)
    yield S3ObjectStore(client, bucket)
    remove_bucket(client, bucket)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture(
    params=["local", pytest.param("s3", marks=pytest.mark.integration)],
)
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """The same contract, once per backend."""
    backend: ObjectStore = request.getfixturevalue(f"{request.param}_store")
    return backend
