"""The store URL from settings: good forms open a store, bad ones fail at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import LocalObjectStore, open_object_store


def test_a_file_url_opens_a_local_store(tmp_path: Path) -> None:
    store = open_object_store(f"file://{tmp_path}/objects")
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "objects"
    assert store.root.is_dir()


def test_percent_encoded_file_paths_are_decoded(tmp_path: Path) -> None:
    store = open_object_store(f"file://{tmp_path}/my%20objects")
    assert isinstance(store, LocalObjectStore)
    assert store.root == tmp_path / "my objects"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x/y",
        "objects",
        "file://",
        "file:///",
        "file://relative/path",
        "file:///tmp/x?mode=fast",
        "s3://host:9000",
        "s3://k:s@host:9000",
        "s3://k:s@host/a/b",
        "s3://host:9000/bucket",
        "s3://k:s@host:notaport/bucket",
        "s3://k:s@host:9000/bucket?secure=maybe",
        "s3://k:s@host:9000/bucket?object_lock=sure",
        "s3://k:s@host:9000/bucket?retention_days=-3",
        "s3://k:s@host:9000/bucket?lock=true",
    ],
)
def test_bad_store_urls_are_refused_before_anything_is_contacted(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        open_object_store(url)


def test_the_secret_does_not_appear_in_the_error() -> None:
    with pytest.raises(ValueError, match="URL") as refused:
        open_object_store("s3://key:TOPSECRET@host:9000/bucket?unknown=1")
    assert "TOPSECRET" not in str(refused.value)
    assert "key:***@" in str(refused.value)
