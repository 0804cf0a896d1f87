"""Sealed bids: envelope encryption, resumable upload, receipts, threshold-custody opening.

Nobody — not an operator with the database and the object store — can read a bid before
the opening; every change to a stored bid is detected; the bidder holds a signed receipt
(ARCHITECTURE §3).
"""

from bidding.controllers import ROUTE_HANDLERS
from bidding.runtime import BiddingRuntime, configure
from bidding.subscriptions import subscribe

__all__ = ["ROUTE_HANDLERS", "BiddingRuntime", "configure", "subscribe"]
