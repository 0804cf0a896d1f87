"""Bid counts per lot for the core's statistics and OCDS export (issue 8).

The core may not import bidding (ARCHITECTURE §1); the composition root hands it this SQL
through ``procurement.reports.register_bid_counts``. A lot's bids are the submitted ones (only
a bidder's latest submission counts; withdrawn and superseded bids are left out); its valid
bids are those the opening decrypted and verified (OpeningRecord outcome ``opened``). The
evaluation's compliance review may reject more later: this counts what the opening found.
"""

from __future__ import annotations

from procurement.reports import register_bid_counts

BID_COUNTS_SQL = """
    SELECT b.lot AS lot_id,
           COUNT(*) AS bids,
           SUM(CASE WHEN r.outcome = 'opened' THEN 1 ELSE 0 END) AS valid_bids
    FROM bid b LEFT JOIN opening_record r ON r.bid = b.id
    WHERE b.status = 'submitted'
    GROUP BY b.lot
"""


def register_statistics() -> None:
    """Give the core the per-lot bid count subquery (idempotent)."""
    register_bid_counts(BID_COUNTS_SQL)
