"""Bidding's part in the lot's life, hooked to the core's events (ARCHITECTURE §1)."""

from __future__ import annotations

from typing import Any

from bidding import services
from bidding.runtime import current
from procurement import events
from procurement.clock import SYSTEM_CLOCK, Clock


async def _lot_published(*, lot_id: int, custody_mode: str, **_: Any) -> None:
    await services.create_opening_key(lot_id, custody_mode, master=current().master_key)


async def _lot_bidding_closed(*, lot_id: int, clock: Clock = SYSTEM_CLOCK, **_: Any) -> None:
    """The closing's own clock: a failure for too few bids is dated when bidding closed."""
    await services.on_bidding_closed(lot_id, clock=clock)


def subscribe() -> None:
    """Register the handlers (idempotent)."""
    events.subscribe(events.LOT_PUBLISHED, _lot_published)
    events.subscribe(events.LOT_BIDDING_CLOSED, _lot_bidding_closed)


__all__ = ["subscribe"]
