"""Contracts in real Chromium: a purchaser records the contract of an awarded lot from its
project page; the supervisor sees an unsigned contract overdue on the timeliness dashboard,
and the statistics show the share of deadlines met and the valid bids per lot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.roles import Role
from procurement.tables import Lot
from tests.e2e.conftest import run_async, screenshot_path
from tests.e2e.test_portal_flow import log_in
from tests.factories import actor
from tests.integration.test_contracts import awarded_lot
from tests.integration.test_reports import insert_bids

pytestmark = pytest.mark.e2e


async def project_of(lot_id: int) -> int:
    stored = await Lot.objects().get(Lot.id == lot_id)
    assert stored is not None
    return int(stored.project)


def test_a_purchaser_records_a_contract_and_the_supervisor_sees_the_overdue_one(
    browser: Browser, live_server: str, database: None
) -> None:
    purchaser = run_async(actor(Role.PURCHASER, username="purchaser"))
    supervisor = run_async(actor(Role.SUPERVISOR, username="supervisor"))
    lot_id = run_async(awarded_lot(purchaser, days_ago=3))
    run_async(insert_bids(lot_id, [("submitted", "opened"), ("submitted", "opened")]))
    overdue = run_async(awarded_lot(purchaser, days_ago=40))
    today = SYSTEM_CLOCK.now().astimezone(CHINA).date()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, purchaser.username)
    page.goto(f"{live_server}/purchaser/projects/{run_async(project_of(lot_id))}")
    page.click(f"a[href='/purchaser/lots/{lot_id}/contract']")
    expect(page.locator("#record-contract")).to_be_visible()
    page.fill("#amount", "1175800.00")
    page.fill("#signed_on", (today - timedelta(days=10)).isoformat())
    page.click("#record-contract")
    expect(page.locator("[role=alert]")).to_contain_text("合同签订日期不得早于中标通知日期")
    page.screenshot(path=screenshot_path("contract-refused-zh"), full_page=True)
    page.fill("#signed_on", today.isoformat())
    page.click("#record-contract")
    expect(page.locator("#contract")).to_contain_text("1,175,800.00")
    page.screenshot(path=screenshot_path("contract-recorded-zh"), full_page=True)
    page.goto(f"{live_server}/purchaser/lots/{lot_id}/contract?lang=en")
    expect(page.locator("#contract")).to_contain_text("Within the legal time")
    page.screenshot(path=screenshot_path("contract-recorded-en"), full_page=True)
    page.context.clear_cookies()

    log_in(page, live_server, supervisor.username)
    page.goto(live_server + "/reports/timeliness?lang=zh")
    red = page.locator("tr[data-kind='contract_signing'][data-light='red']")
    expect(red).to_have_count(1)
    expect(red).to_contain_text("签订采购合同")
    expect(red.locator("a")).to_have_attribute("href", f"/purchaser/lots/{overdue}/contract")
    page.screenshot(path=screenshot_path("timeliness-contract-zh"), full_page=True)
    page.goto(live_server + f"/reports?month={today:%Y-%m}&lang=zh")
    expect(page.locator("#average-valid-bids")).to_have_text("2.00")
    expect(page.locator("#deadlines-met")).to_be_visible()
    page.screenshot(path=screenshot_path("reports-kpis-zh"), full_page=True)
