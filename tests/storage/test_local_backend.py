"""What is particular to the local directory: files on disk, atomic writes, no URLs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from storage import LocalObjectStore, NotSupported, UploadNotFound


@pytest.fixture
def local(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path)


def test_there_are_no_presigned_urls(local: LocalObjectStore) -> None:
    local.put("a", [b"x"])
    with pytest.raises(NotSupported):
        local.presigned_get_url("a", timedelta(minutes=5))


def test_there_is_no_retention(local: LocalObjectStore) -> None:
    assert local.supports_retention is False


def test_objects_are_plain_files_under_the_root(local: LocalObjectStore, tmp_path: Path) -> None:
    local.put("tender/1/doc.pdf", [b"%PDF"])
    assert (tmp_path / "tender" / "1" / "doc.pdf").read_bytes() == b"%PDF"


def test_write_once_files_are_read_only_on_disk(local: LocalObjectStore, tmp_path: Path) -> None:
    local.put("sealed", [b"bid"], write_once=True)
    assert (tmp_path / "sealed").stat().st_mode & 0o777 == 0o444


def test_a_failed_write_leaves_no_file_at_all(local: LocalObjectStore, tmp_path: Path) -> None:
    def dropped() -> Iterator[bytes]:
        yield b"half"
        raise OSError("connection dropped")

    with pytest.raises(OSError, match="connection dropped"):
        local.put("doc", dropped())
    assert os.listdir(tmp_path) == []


def test_a_file_changed_behind_the_store_loses_its_recorded_hash(
    local: LocalObjectStore, tmp_path: Path
) -> None:
    """The sidecar describes one version of the file; a changed file is not vouched for."""
    info = local.put("doc", [b"original"], content_type="text/plain")
    assert local.stat("doc").sha256 == info.sha256
    (tmp_path / "doc").write_bytes(b"tampered!")
    changed = local.stat("doc")
    assert changed.sha256 is None
    assert changed.etag != info.etag


def test_an_object_and_a_folder_of_one_name_cannot_coexist(local: LocalObjectStore) -> None:
    local.put("a/b", [b"x"])
    with pytest.raises(NotSupported):
        local.put("a", [b"y"])
    local.put("c", [b"x"])
    with pytest.raises(NotSupported):
        local.put("c/d", [b"y"])


def test_a_completion_retried_after_a_crash_finishes_the_clean_up(
    local: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload = local.create_upload("bids/1/file")
    local.put_part(upload, 1, b"sealed bid")
    monkeypatch.setattr("storage.local.shutil.rmtree", _crash)
    with pytest.raises(ConnectionResetError):
        local.complete_upload(upload, write_once=True)
    monkeypatch.undo()
    info = local.complete_upload(upload, write_once=True)
    assert info.size == 10
    with pytest.raises(UploadNotFound):
        local.list_parts(upload)


def _crash(*_: object, **__: object) -> None:
    raise ConnectionResetError("worker killed after the join")
