"""The opening decrypts several bids at a time yet records them in submission order.

Overlapping one bid's download with another's hashing is what keeps the opening near the
speed of a plain download (bench/opening.py); the opening record (唱标, RULES §3) and the
audit trail still read in submission order, and an outage stops the opening at one bid
with every earlier bid recorded, so the next run resumes there (ARCHITECTURE §3).
"""

from __future__ import annotations

import anyio
import pytest

from bidding.services import BIDS_OPENED_AT_ONCE, _BidOpened, _open_in_bid_order
from bidding.tables import Bid
from storage import StorageUnavailable

# the first bid takes longest to decrypt: every other one finishes before it
DELAYS = {1: 0.3, 2: 0.1, 3: 0.05, 4: 0.0, 5: 0.0}


class Opening:
    """Opens and records fake bids, noting what ran at once and what was recorded."""

    def __init__(self, fail_at: int | None = None, record_fails_at: int | None = None) -> None:
        self.fail_at = fail_at
        self.record_fails_at = record_fails_at
        self.running = 0
        self.most_running = 0
        self.finished: list[int] = []
        self.recorded: list[int] = []

    async def open_bid(self, bid: Bid) -> _BidOpened:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await anyio.sleep(DELAYS[bid.id])
            if bid.id == self.fail_at:
                raise StorageUnavailable("S3 unreachable or failing (test)")
            self.finished.append(bid.id)
            return _BidOpened("opened", price=bid.id * 100)
        finally:
            self.running -= 1

    async def record(self, bid: Bid, opened: _BidOpened) -> None:
        if bid.id == self.record_fails_at:
            raise RuntimeError("the database went away")
        assert opened.price == bid.id * 100
        self.recorded.append(bid.id)


def bids() -> list[Bid]:
    return [Bid(id=number) for number in DELAYS]


async def test_bids_open_three_at_a_time_and_are_recorded_in_submission_order() -> None:
    opening = Opening()
    await _open_in_bid_order(bids(), opening.open_bid, opening.record)
    assert opening.most_running == BIDS_OPENED_AT_ONCE == 3
    assert opening.finished[-1] == 1
    assert opening.recorded == [1, 2, 3, 4, 5]


async def test_an_outage_stops_the_opening_at_that_bid_with_every_earlier_one_recorded() -> None:
    opening = Opening(fail_at=3)
    with pytest.raises(StorageUnavailable, match="unreachable"):
        await _open_in_bid_order(bids(), opening.open_bid, opening.record)
    assert opening.recorded == [1, 2]


async def test_a_failed_record_is_raised_as_itself_and_nothing_after_it_is_recorded() -> None:
    opening = Opening(record_fails_at=2)
    with pytest.raises(RuntimeError, match="database went away"):
        await _open_in_bid_order(bids(), opening.open_bid, opening.record)
    assert opening.recorded == [1]


async def test_no_bids_to_open_is_nothing_to_do() -> None:
    opening = Opening()
    await _open_in_bid_order([], opening.open_bid, opening.record)
    assert opening.recorded == []
