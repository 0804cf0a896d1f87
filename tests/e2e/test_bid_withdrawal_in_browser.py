"""A supplier withdraws bids on the lot's bid page in Chromium: an upload it never finished
and a submitted bid. The worker then closes the unfinished upload in the object store; the
submitted bid's sealed file stays, as evidence.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from bidding.platform_keys import signing_key
from bidding.services import submit_sealed_bid
from bidding.tables import Bid, BidFile
from procurement.clock import SYSTEM_CLOCK
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Lot
from storage import UploadNotFound, open_object_store
from tests.e2e.conftest import rows, run_async, screenshot_path
from tests.factories import (
    PASSWORD,
    actor,
    published_project,
    started_bid_with_its_part,
    wait_for_upload_closed,
)

pytestmark = pytest.mark.e2e


def test_a_supplier_withdraws_an_unfinished_and_a_submitted_bid(
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
            title="办公家具采购",
        )
    )
    lot_row = run_async(rows(Lot.select(Lot.id).where(Lot.project == project_id)))[0]
    lot_id = int(lot_row["id"])
    store = open_object_store(settings.storage_url)
    unfinished, unfinished_file, _ = run_async(started_bid_with_its_part(store, supplier, lot_id))
    upload_id = run_async(
        rows(BidFile.select(BidFile.upload_id).where(BidFile.id == unfinished_file))
    )[0]["upload_id"]
    submitted = run_async(
        submit_sealed_bid(
            supplier,
            lot_id,
            Decimal("990000.00"),
            {"technical": b"technical proposal"},
            store=store,
            signing_key=signing_key(settings),
        )
    )["receipt"]["bid_id"]

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/login?lang=en")
    page.fill("#username", supplier.username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.goto(f"{live_server}/supplier/lots/{lot_id}/bid")
    table = page.locator("section.card table")

    def row(bid_id: int) -> Any:
        return table.locator(f"tr[data-bid='{bid_id}']")

    expect(row(unfinished)).to_contain_text("Uploading")
    expect(row(submitted)).to_contain_text("Submitted")

    asked: list[str] = []

    def answer(accept: bool) -> Any:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    page.once("dialog", answer(False))  # changes its mind: nothing happens
    page.click(f"form[action='/supplier/bids/{unfinished}/withdraw'] button")
    assert asked == ["Withdraw this bid? Until the deadline you can submit a new one."]
    page.wait_for_load_state()
    expect(row(unfinished)).to_contain_text("Uploading")
    still = run_async(rows(Bid.select(Bid.status).where(Bid.id == unfinished)))
    assert still[0]["status"] == "uploading"
    page.once("dialog", answer(True))
    page.click(f"form[action='/supplier/bids/{unfinished}/withdraw'] button")
    expect(row(unfinished)).to_contain_text("Withdrawn")
    assert run_async(wait_for_upload_closed(unfinished_file)), "the worker left the upload"
    with pytest.raises(UploadNotFound):
        store.list_parts(str(upload_id))

    page.once("dialog", answer(True))
    page.click(f"form[action='/supplier/bids/{submitted}/withdraw'] button")
    submitted_row = row(submitted)
    expect(submitted_row).to_contain_text("Withdrawn")
    expect(submitted_row.locator("a", has_text="Receipt")).to_have_count(0)
    expect(page.locator("form[action$='/withdraw']")).to_have_count(0)
    page.screenshot(path=screenshot_path("bid-withdrawn"), full_page=True)

    page.goto(f"{live_server}/supplier")  # the overview of every bid, from the workspace
    page.click("a[href='/supplier/bids']")
    overview = page.locator("#my-bids")
    expect(overview.locator("tr[data-bid]")).to_have_count(2)
    for bid_id in (unfinished, submitted):
        expect(overview.locator(f"tr[data-bid='{bid_id}']")).to_contain_text("Withdrawn")
    expect(overview.locator("a[href$='/receipt']")).to_have_count(0)  # both withdrawn
    page.screenshot(path=screenshot_path("my-bids"), full_page=True)

    statuses = run_async(rows(Bid.select(Bid.id, Bid.status).where(Bid.lot == lot_id)))
    assert {row["id"]: row["status"] for row in statuses} == {
        unfinished: "withdrawn",
        submitted: "withdrawn",
    }
    evidence = run_async(
        rows(
            BidFile.select(BidFile.object_key).where(
                (BidFile.bid == submitted) & (BidFile.kind == "technical")
            )
        )
    )
    assert store.exists(str(evidence[0]["object_key"]))  # a submitted bid's file is kept
