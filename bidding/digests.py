"""Whole-file SHA-256 of an upload, computed as its parts pass through this process.

The receipt carries the SHA-256 of each sealed file (ARCHITECTURE §3, "hashes the
ciphertext as it passes"), but a file arrives as parts in separate requests and SHA-256
cannot be resumed from the parts' own hashes, nor can ``hashlib`` state be stored. So each
web process keeps a running hash per file in memory and feeds it the parts in number order,
holding back a part or two that arrive early (a client may have three parts in flight).

The running hash is only a shortcut. It is trusted at submission only if the part hashes it
consumed, in order, are exactly the part hashes the database holds for the file; after a
re-sent part, a part handled by another process, or a restart, :meth:`whole_file` returns
None and the caller reads the stored file back instead. The answer is therefore never wrong,
only sometimes unavailable.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

MAX_FILES = 4096
"""Files tracked at once; the least recently fed is forgotten first (it falls back)."""
MAX_HELD_BYTES = 64 * 1024 * 1024
"""Early parts held back across all files, so memory stays bounded under any load."""
MAX_HELD_PARTS = 2
"""Early parts held back per file: enough for a client with three parts in flight."""


@dataclass
class _Running:
    digest: Any = field(default_factory=hashlib.sha256)
    next_number: int = 1
    size: int = 0
    part_hashes: list[str] = field(default_factory=list)
    held: dict[int, tuple[bytes, str]] = field(default_factory=dict)

    def consume(self, data: bytes, part_sha256: str) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.part_hashes.append(part_sha256)
        self.next_number += 1


class RunningDigests:
    """Running SHA-256 per uploaded file, fed part by part; thread-safe."""

    def __init__(self, max_files: int = MAX_FILES, max_held_bytes: int = MAX_HELD_BYTES) -> None:
        self._files: OrderedDict[int, _Running] = OrderedDict()
        self._held_bytes = 0
        self._max_files = max_files
        self._max_held_bytes = max_held_bytes
        self._lock = threading.Lock()

    def feed(self, file_id: int, number: int, data: bytes, part_sha256: str) -> None:
        """Take part ``number`` of a file, just stored with hash ``part_sha256``."""
        with self._lock:
            running = self._files.get(file_id)
            if running is not None and number < running.next_number:
                self._drop(file_id)  # a part sent again: what was hashed may differ
                if number != 1:
                    return
                running = None  # part 1 again: start over
            if running is None:
                running = self._files[file_id] = _Running()
                self._trim()
            else:
                self._files.move_to_end(file_id)
            if number > running.next_number:
                self._hold(file_id, running, number, data, part_sha256)
                return
            running.consume(data, part_sha256)
            while running.next_number in running.held:
                early, early_sha256 = running.held.pop(running.next_number)
                self._held_bytes -= len(early)
                running.consume(early, early_sha256)

    def whole_file(self, file_id: int, part_hashes: list[str]) -> tuple[str, int] | None:
        """SHA-256 and size of the file made of parts with these hashes, if it was seen whole.

        ``part_hashes`` are the stored parts' hashes in number order (from the database).
        """
        with self._lock:
            running = self._files.get(file_id)
            if running is None or running.part_hashes != part_hashes:
                return None
            return running.digest.copy().hexdigest(), running.size

    def forget(self, file_id: int) -> None:
        """Drop a file's state (submitted or abandoned)."""
        with self._lock:
            self._drop(file_id)

    def _hold(
        self, file_id: int, running: _Running, number: int, data: bytes, part_sha256: str
    ) -> None:
        previous = running.held.pop(number, None)
        if previous is not None:
            self._held_bytes -= len(previous[0])
        if (
            len(running.held) >= MAX_HELD_PARTS
            or self._held_bytes + len(data) > self._max_held_bytes
        ):
            self._drop(file_id)
            return
        running.held[number] = (data, part_sha256)
        self._held_bytes += len(data)

    def _drop(self, file_id: int) -> None:
        running = self._files.pop(file_id, None)
        if running is not None:
            self._held_bytes -= sum(len(data) for data, _ in running.held.values())

    def _trim(self) -> None:
        while len(self._files) > self._max_files:
            oldest = next(iter(self._files))
            self._drop(oldest)


RUNNING_DIGESTS = RunningDigests()
"""This process's running hashes (one web process, many requests)."""
