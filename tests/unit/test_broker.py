"""The embedded broker: a message appears in the queue folder only once it is complete.

kombu's filesystem transport creates a message file and then writes it; a consumer that took
the file in between read an empty message and the worker stopped (kombu issue #1551).
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection

from procurement.settings import Settings
from zhaocai.broker import FILESYSTEM_TRANSPORT, transport_for, transport_options


def connection(tmp_path: Path) -> Connection:
    settings = Settings.from_env({"ZHAOCAI_DATA_DIR": str(tmp_path)})
    return Connection(
        settings.broker_url,
        transport=transport_for(settings),
        transport_options=transport_options(settings),
    )


def test_filesystem_urls_use_the_atomic_transport(tmp_path: Path) -> None:
    settings = Settings.from_env({"ZHAOCAI_DATA_DIR": str(tmp_path)})
    assert transport_for(settings) == FILESYSTEM_TRANSPORT
    redis = Settings.from_env(
        {"ZHAOCAI_DATA_DIR": str(tmp_path), "ZHAOCAI_BROKER_URL": "redis://x"}
    )
    assert transport_for(redis) is None


def test_a_message_is_renamed_into_the_queue_only_when_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = tmp_path / "broker" / "queue"
    seen: list[tuple[list[str], bytes]] = []
    real_replace = os.replace

    def watching_replace(source: Any, target: Any) -> None:
        # just before the message appears: nothing of it is visible under a queue's name
        seen.append(([p.name for p in queue.glob("*.msg")], Path(source).read_bytes()))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", watching_replace)
    with connection(tmp_path) as conn:
        box = conn.SimpleQueue("work")
        box.put({"task": "close", "lot": 7})
        assert len(seen) == 1
        visible_before, written = seen[0]
        assert visible_before == []
        envelope = json.loads(written)  # the whole message, base64 body and all
        assert json.loads(base64.b64decode(envelope["body"])) == {"task": "close", "lot": 7}
        message = box.get(timeout=10)
        assert message.payload == {"task": "close", "lot": 7}
        message.ack()
        box.close()
    assert not list(queue.glob(".*.writing"))


def test_an_unreadable_message_file_is_dropped_and_the_next_one_read(tmp_path: Path) -> None:
    with connection(tmp_path) as conn:
        # a queue name of its own: kombu keeps some routing state per process
        box = conn.SimpleQueue("other-work")
        queue = tmp_path / "broker" / "queue"
        empty = "0000000001_00000000-0000-0000-0000-000000000000.other-work.msg"
        (queue / empty).write_bytes(b"")
        box.put({"after": "the empty one"})
        message = box.get(timeout=10)
        assert message.payload == {"after": "the empty one"}
        message.ack()
        box.close()
    assert not list(queue.glob("*.msg"))
