"""The expert pool's part in the lot's life, hooked to the core's events (ARCHITECTURE §1)."""

from __future__ import annotations

from expert_pool import services
from procurement import events


def subscribe(bidder_source: services.BidderSource) -> None:
    """Register the handlers and the reader of a lot's bidders (idempotent).

    Args:
        bidder_source: returns the organisations that bid on a lot; ``bidding`` owns them and
            ``expert_pool`` may not import it, so the composition root passes the reader in.
    """
    services.set_bidder_source(bidder_source)
    events.subscribe(events.LOT_CONCLUDED, services.on_lot_concluded)
