"""A price above the lot's budget is questioned before it is sealed (RULES §3).

Such a bid is invalid at evaluation (MOF87 Art. 63), and once sealed nobody, the bidder
included, can look at it again before the opening: the bid page asks first.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from bidding.tables import Bid
from procurement.clock import SYSTEM_CLOCK
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Lot
from tests.e2e.conftest import rows, run_async, screenshot_path
from tests.factories import PASSWORD, actor, published_project

pytestmark = pytest.mark.e2e


def test_a_price_over_budget_is_questioned_and_one_within_it_is_not(
    browser: Browser,
    live_server: str,
    database: None,
    settings: Settings,
    celery_worker: subprocess.Popen[bytes],
) -> None:
    purchaser = run_async(actor(Role.PURCHASER))
    supplier = run_async(actor(Role.BIDDER))
    project_id = run_async(
        published_project(
            purchaser,
            deadline=SYSTEM_CLOCK.now() + timedelta(days=25),
            custody_mode="platform",
            budgets=("1000000.00",),
        )
    )
    lot_id = int(run_async(rows(Lot.select(Lot.id).where(Lot.project == project_id)))[0]["id"])

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/login?lang=zh")
    page.fill("#username", supplier.username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.goto(f"{live_server}/supplier/lots/{lot_id}/bid")

    asked: list[str] = []

    def answer(accept: bool) -> Any:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.fill("#price", "1000000.01")  # one fen over the budget
    page.once("dialog", answer(False))
    page.click("#bid-form button[type=submit]")
    expect(page.locator("#bid-form button[type=submit]")).to_be_enabled()
    assert len(asked) == 1
    assert "最高限价" in asked[0]
    assert "预算" in asked[0]  # the question is asked in the page's language
    bids = run_async(rows(Bid.select(Bid.id).where(Bid.lot == lot_id)))
    assert bids == [], "a bid the supplier declined to seal was started anyway"
    page.screenshot(path=screenshot_path("price-over-budget"), full_page=True)

    page.on("dialog", answer(True))  # any further question would be recorded
    page.fill("#price", "1000000.00")  # the budget itself is allowed
    page.click("#bid-form button[type=submit]")
    expect(page.locator("#receipt-link")).to_be_visible(timeout=30_000)
    assert len(asked) == 1, "a price within the budget was questioned"
    submitted = run_async(rows(Bid.select(Bid.status).where(Bid.lot == lot_id)))
    assert [b["status"] for b in submitted] == ["submitted"]
