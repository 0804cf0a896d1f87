"""In-process domain events: how the core tells higher packages that something happened.

``procurement`` may not import ``bidding`` or ``evaluation`` (ARCHITECTURE §1), yet a lot's
publication must create its opening key and a closed deadline must start the opening of
platform-sealed quotes. Higher packages subscribe handlers here; the composition root
imports them all, so every handler is registered before the first request or task.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[..., Awaitable[None]]

_handlers: dict[str, list[Handler]] = defaultdict(list)

LOT_PUBLISHED = "lot.published"
"""A lot was published: ``lot_id``, ``project_id``, ``bid_deadline``, ``custody_mode``."""
LOT_BIDDING_CLOSED = "lot.bidding_closed"
"""A lot's bid deadline passed: ``lot_id``."""
LOT_CONCLUDED = "lot.concluded"
"""A lot was awarded, failed or cancelled: ``lot_id``, ``status``."""


def subscribe(event: str, handler: Handler) -> None:
    """Register ``handler`` for ``event`` (idempotent: the same handler is kept once)."""
    if handler not in _handlers[event]:
        _handlers[event].append(handler)


async def emit(event: str, **payload: Any) -> None:
    """Call every handler of ``event`` in registration order, inside the caller's transaction."""
    for handler in list(_handlers[event]):
        await handler(**payload)
