"""Demo data loads on any day of the year: around holidays and across a year boundary.

Whatever the day and hour it loads, the demo tells a consistent story: no lot is past a
deadline still ahead, nothing happened after the moment it loaded, and the concluded lot is
awarded at its winning bid's price.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from bidding.tables import OpeningRecord
from procurement.clock import CHINA, FixedClock
from procurement.contracts import contract_of
from procurement.db import bind_engine, engine_for
from procurement.lifecycle import LotStatus
from procurement.money import savings_rate
from procurement.settings import Settings
from procurement.tables import Lot, Notice
from storage import open_object_store
from tests.conftest import run_cli
from zhaocai.demo import load_demo_data
from zhaocai.wiring import all_tables, configure_packages

pytestmark = pytest.mark.integration


CLOSED = {LotStatus.BIDDING_CLOSED, LotStatus.AWARDED, LotStatus.FAILED}


@pytest.mark.parametrize(
    "today",
    [
        "2026-01-28T09:00",  # Spring Festival ahead
        "2026-05-01T09:00",  # Labour Day itself
        "2026-09-29T09:00",  # National Day week ahead
        "2026-12-28T09:00",  # deadlines in 2027, a year the calendar library does not know
        "2026-11-25T09:00",
        # loaded before 9 on a Monday whose 9 o'clock is the works tender's deadline when
        # counted from 23 days back, a Saturday: it was shown closed three hours early
        "2026-12-07T06:36",
        # the day after National Day week: the tender cancelled "two days ago" went out
        # after the holidays, so it was cancelled before it was published
        "2026-10-08T09:00",
    ],
)
async def test_demo_loads_with_every_state_on(today: str, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings = replace(
        Settings.from_env({"ZHAOCAI_DATA_DIR": str(tmp_path)}), database_url=database
    )
    run_cli(settings, "migrate")
    bind_engine(engine_for(database), all_tables())
    # as `zhaocai demo` does: the packages hook their handlers (opening keys) to the core
    configure_packages(settings, open_object_store(settings.storage_url))
    now = datetime.fromisoformat(today).replace(tzinfo=CHINA)
    clock = FixedClock(now)
    assert await load_demo_data(settings, clock=clock) is True
    statuses = {r["status"] for r in await Lot.select(Lot.status)}
    assert statuses == {"draft", "published", "bidding_closed", "awarded", "failed", "cancelled"}

    # every lot's status agrees with its deadline, and nothing was published, awarded or
    # cancelled before its time or after the moment the demo loaded
    lots = await Lot.select(
        Lot.id,
        Lot.status,
        Lot.awarded_at,
        Lot.concluded_at,
        Lot.project.bid_deadline.as_alias("bid_deadline"),
        Lot.project.published_at.as_alias("published_at"),
    )
    for lot in lots:
        status, published = LotStatus(lot["status"]), lot["published_at"]
        if status in CLOSED:
            assert lot["bid_deadline"] <= now, f"lot {lot['id']} {status} before its deadline"
        if status is LotStatus.PUBLISHED:
            assert lot["bid_deadline"] > now, f"lot {lot['id']} open after its deadline"
        if status is not LotStatus.DRAFT:
            assert published <= now, f"lot {lot['id']} published after the demo loaded"
        if status is LotStatus.AWARDED:
            assert published < lot["awarded_at"] <= now
        if status is LotStatus.CANCELLED:
            assert published <= lot["concluded_at"] <= now
        if status is LotStatus.FAILED:  # too few bids: failed when bidding closed
            assert lot["bid_deadline"] <= lot["concluded_at"] <= now
    notices = await Notice.select(Notice.kind, Notice.published_at)
    assert notices
    late = [n for n in notices if n["published_at"] is not None and n["published_at"] > now]
    assert not late, f"notices dated after the demo loaded: {late}"

    # the award is the winning bid's declared price, and the savings are plausible
    awarded = await Lot.objects().where(Lot.status == LotStatus.AWARDED).first()
    assert awarded is not None
    winner = (
        await OpeningRecord.objects()
        .where(
            (OpeningRecord.lot == awarded.id) & (OpeningRecord.bidder == awarded.awarded_supplier)
        )
        .first()
    )
    assert winner is not None
    assert winner.outcome == "opened"
    assert awarded.award_amount_fen == winner.declared_price_fen
    assert awarded.contract_amount_fen == winner.declared_price_fen
    # its contract is recorded in time (GPL Art. 46), so it is not overdue on the dashboard
    contract = await contract_of(awarded.id)
    assert contract is not None
    assert contract["amount_fen"] == winner.declared_price_fen
    assert awarded.awarded_at is not None
    signed_days = (contract["signed_on"] - awarded.awarded_at.astimezone(CHINA).date()).days
    assert 0 <= signed_days <= 30
    saved = awarded.budget_fen - awarded.award_amount_fen
    rate = savings_rate(Decimal(saved), Decimal(awarded.budget_fen))
    assert rate is not None
    assert Decimal(0) < rate < Decimal("0.5")
    assert await load_demo_data(settings, clock=clock) is False
