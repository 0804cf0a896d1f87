"""A supplier seals a 20 MB bid in Chromium (WebCrypto) and uploads it in parts with
progress bars, several parts in flight, riding out a moment when the file store is
unavailable (503); the Python opening decrypts it and reads the price the browser sealed.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, expect

from bidding.platform_keys import master_key, signing_key
from bidding.services import open_lot, opening_record, submit_sealed_bid
from bidding.tables import Bid, BidFile
from procurement.clock import SYSTEM_CLOCK, FixedClock
from procurement.projects import close_lot_if_due
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Lot
from storage import open_object_store
from tests.e2e.conftest import run_async, screenshot_path
from tests.factories import PASSWORD, actor, published_project

pytestmark = pytest.mark.e2e


async def first(query: Any) -> Any:
    """The first row of a piccolo ``objects()`` query (run from Playwright's thread)."""
    return await query.first()


def test_bid_sealed_in_the_browser_opens_in_python(
    browser: Browser, live_server: str, database: None, settings: Settings, tmp_path: Path
) -> None:
    purchaser = run_async(actor(Role.PURCHASER))
    suppliers = [run_async(actor(Role.BIDDER)) for _ in range(3)]
    deadline = SYSTEM_CLOCK.now() + timedelta(days=25)
    project_id = run_async(
        published_project(
            purchaser,
            deadline=deadline,
            custody_mode="platform",
            title="实验室设备采购",
            budgets=("2000000.00",),  # the price below is within it: no question asked
        )
    )
    lot = run_async(first(Lot.objects().where(Lot.project == project_id)))
    assert lot is not None
    document = tmp_path / "technical.pdf"
    document.write_bytes(os.urandom(20 * 1024 * 1024))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/login?lang=zh")
    page.fill("#username", suppliers[0].username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.goto(live_server + "/supplier")
    page.click(f"a[href='/supplier/lots/{lot.id}/bid']")
    expect(page.locator("h1")).to_have_text("提交加密投标文件")
    page.fill("#price", "1234567.89")
    page.set_input_files("#technical", str(document))
    messages: list[str] = []
    page.on("console", lambda m: messages.append(m.text))
    page.on("pageerror", lambda e: messages.append(str(e)))
    refused: list[str] = []

    def store_down_once(route: Any) -> None:  # the platform's answer while S3 is unreachable
        if refused:
            route.continue_()
            return
        refused.append(route.request.url)
        route.fulfill(
            status=503,
            headers={"Retry-After": "30"},
            json={"status_code": 503, "detail": "the file store cannot be reached"},
        )

    page.route("**/api/bids/*/files/*/parts/1", store_down_once)
    parts_sending: set[str] = set()
    most_parts_at_once = 0

    def part_sent(request: Any) -> None:
        nonlocal most_parts_at_once
        if "/parts/" in request.url:
            parts_sending.add(request.url)
            most_parts_at_once = max(most_parts_at_once, len(parts_sending))

    page.on("request", part_sent)
    page.on("requestfinished", lambda request: parts_sending.discard(request.url))
    page.on("requestfailed", lambda request: parts_sending.discard(request.url))
    page.click("#seal-submit")
    page.wait_for_function(
        "() => parseInt(document.getElementById('bar-total-label').textContent) > 5"
    )
    page.screenshot(path=screenshot_path("bid-uploading"), full_page=True)
    expect(page.locator("#receipt-link")).to_be_visible(timeout=120_000)
    expect(page.locator("#bar-total-label")).to_have_text("100%")
    assert len(refused) == 1  # the page sent that part again by itself
    assert most_parts_at_once >= 2  # the next part is sealed and sent while others travel
    page.screenshot(path=screenshot_path("bid-submitted"), full_page=True)
    page.click("#receipt-link")  # the receipt as people read it: names, local time, kinds
    receipt_page = page.locator("main")
    expect(receipt_page).to_contain_text(lot.title)
    expect(receipt_page).to_contain_text("报价文件")
    expect(receipt_page).to_contain_text("技术文件")
    bid = run_async(first(Bid.objects().where(Bid.lot == lot.id)))
    assert bid is not None
    local = bid.submitted_at.astimezone(ZoneInfo("Asia/Shanghai"))
    expect(receipt_page).to_contain_text(local.strftime("%Y-%m-%d %H:%M:%S"))
    page.screenshot(path=screenshot_path("bid-receipt"), full_page=True)

    store = open_object_store(settings.storage_url)
    before = FixedClock(deadline - timedelta(hours=1))
    for supplier, price in zip(suppliers[1:], ["1300000.00", "1288000.00"], strict=True):
        run_async(
            submit_sealed_bid(
                supplier,
                lot.id,
                Decimal(price),
                {"technical": b"doc"},
                store=store,
                signing_key=signing_key(settings),
                clock=before,
            )
        )
    after = FixedClock(deadline + timedelta(minutes=1))
    assert run_async(close_lot_if_due(lot.id, clock=after))
    assert (
        run_async(open_lot(lot.id, store=store, master=master_key(settings), clock=after))
        == "opened"
    )
    record = run_async(opening_record(lot.id))
    by_price = sorted((b["declared_price_fen"], b["outcome"]) for b in record["bids"])
    assert by_price == [(123_456_789, "opened"), (128_800_000, "opened"), (130_000_000, "opened")]
    sealed = run_async(
        first(BidFile.objects().where((BidFile.kind == "technical") & (BidFile.bid == bid.id)))
    )
    assert sealed is not None
    assert sealed.size > 20 * 1024 * 1024  # the whole document arrived, sealed
    assert sealed.sha256 == hashlib.sha256(b"".join(store.get(sealed.object_key))).hexdigest()
    page.goto(f"{live_server}/lots/{lot.id}/opening?lang=zh")
    expect(page.locator("#opening-record")).to_contain_text("1,234,567.89")
    page.screenshot(path=screenshot_path("opening-record"), full_page=True)

    # after the deadline the bid page offers no form and no withdrawal, only the bids
    errors_before = len(messages)
    page.goto(f"{live_server}/supplier/lots/{lot.id}/bid?lang=zh")
    expect(page.locator("#bidding-closed")).to_contain_text("本标段已不再接受投标")
    assert page.locator("#bid-form").count() == 0
    assert page.locator("form[data-confirm]").count() == 0
    expect(page.locator("a[href$='/receipt']")).to_have_count(1)
    assert messages[errors_before:] == []  # the page script runs without its form
    page.screenshot(path=screenshot_path("bid-page-closed"), full_page=True)
