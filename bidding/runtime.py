"""What bidding needs from its surroundings: the object store and the platform keys.

``configure`` is called once by the composition root (the web app and each worker), so
event handlers and tasks, which are module-level functions, find the same adapters.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage import ObjectStore


@dataclass(frozen=True)
class BiddingRuntime:
    """Adapters bidding uses."""

    store: ObjectStore
    master_key: bytes
    signing_key: Ed25519PrivateKey


_current: list[BiddingRuntime] = []


def configure(runtime: BiddingRuntime) -> None:
    """Install the adapters (a later call replaces the earlier one)."""
    _current[:] = [runtime]


def current() -> BiddingRuntime:
    """The installed adapters."""
    if not _current:
        raise RuntimeError("bidding is not configured: call bidding.configure() at start-up")
    return _current[0]
