"""Broker options shared by the web process (which queues tasks) and the workers."""

from __future__ import annotations

from typing import Any

from procurement.settings import Settings


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


def transport_options(settings: Settings) -> dict[str, Any]:
    """Transport options for the configured broker URL."""
    if settings.broker_url.startswith("filesystem"):
        return filesystem_transport_options(settings)
    return {}


def check_broker(settings: Settings) -> None:
    """Connect to the broker once; raises if it does not answer."""
    from kombu import Connection

    with Connection(
        settings.broker_url, connect_timeout=3, transport_options=transport_options(settings)
    ) as connection:
        connection.ensure_connection(max_retries=1)
