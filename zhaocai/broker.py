"""Broker options shared by the web process (which queues tasks) and the workers.

The embedded default queues tasks as files in a folder (kombu's filesystem transport), so it
needs no server. kombu creates a message file and only then writes it, and a consumer may
take the file in between: it read an empty message, the worker stopped on the JSON error
("Unrecoverable error") and the message written after the move was lost (kombu issue
#1551). :class:`AtomicFilesystemTransport` writes each message under a name no consumer
looks at and renames it into the queue when complete (a rename is atomic in one folder).
"""

from __future__ import annotations

import logging
import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

from procurement.settings import Settings

log = logging.getLogger(__name__)

FILESYSTEM_TRANSPORT = "zhaocai.broker:AtomicFilesystemTransport"
"""What ``filesystem://`` broker URLs are served by, in the web process and the workers."""


class AtomicFilesystemChannel(filesystem.Channel):
    """A filesystem channel whose messages appear in the queue folder only when complete."""

    # kombu's own base classes name the message differently (message, payload)
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        folder = self.data_folder_out
        partial = os.path.join(folder, f".{uuid.uuid4().hex}.writing")  # matches no queue
        with open(partial, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(partial, os.path.join(folder, name))

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        while True:
            try:
                return super()._get(queue)
            except ValueError:  # not JSON: a file another program left; it is already removed
                log.error("an unreadable message file in queue %r was dropped", queue)


class AtomicFilesystemTransport(filesystem.Transport):
    """kombu's filesystem transport with :class:`AtomicFilesystemChannel`."""

    Channel = AtomicFilesystemChannel


def filesystem_transport_options(settings: Settings) -> dict[str, Any]:
    """One folder shared by producers and consumers: a broker that needs no server."""
    folder = settings.filesystem_broker_dir
    for sub in ("queue", "processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "control_folder": str(folder / "control"),
    }


def transport_for(settings: Settings) -> str | None:
    """The kombu transport for the configured broker URL (None: the URL's own scheme)."""
    return FILESYSTEM_TRANSPORT if settings.broker_url.startswith("filesystem") else None


def transport_options(settings: Settings) -> dict[str, Any]:
    """Transport options for the configured broker URL."""
    if settings.broker_url.startswith("filesystem"):
        return filesystem_transport_options(settings)
    return {}


def check_broker(settings: Settings) -> None:
    """Connect to the broker once; raises if it does not answer."""
    from kombu import Connection

    with Connection(
        settings.broker_url,
        connect_timeout=3,
        transport=transport_for(settings),
        transport_options=transport_options(settings),
    ) as connection:
        connection.ensure_connection(max_retries=1)
