"""A price inquiry in Chromium: four suppliers invited, three quote, the quotes open by
themselves at the deadline, the lowest compliant quote wins and the notice is on the portal.

The legal quote period is 3 working days (MOF74 Art. 45), too long for a test to wait. So the
browser posts an inquiry through the form and meets the form's validation of that period;
the inquiry that is quoted is created through the services with ``TimeLimits`` shrunk to
seconds (the same parameter the services take in production, where it is the legal value),
its deadline a minute ahead. Everything after that runs as in production: the
suppliers quote in the browser, the Celery worker closes and opens the lot by itself.
"""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.deadlines import TimeLimits
from procurement.inquiries import InquiryDraft, ItemDraft, create_inquiry
from procurement.roles import Actor, Role
from procurement.tables import Inquiry, Lot, Organisation
from tests.e2e.conftest import run_async, screenshot_path
from tests.factories import PASSWORD, actor

pytestmark = pytest.mark.e2e
SECONDS = TimeLimits(inquiry_working_days=0, deadline_on_working_day=False)
UNIT_PRICES = {"华东电子": "86250", "江南科技": "87900", "金陵信息": "90600"}
"""Two servers each: totals 172,500 / 175,800 / 181,200 (RULES §10(b))."""


async def supplier(name: str) -> Actor:
    who = await actor(Role.BIDDER)
    await Organisation.update({Organisation.categories: "goods", Organisation.name: name}).where(
        Organisation.id == who.organisation_id
    )
    return who


async def lot_status(inquiry_id: int) -> str:
    inquiry = await Inquiry.objects().where(Inquiry.id == inquiry_id).first()
    assert inquiry is not None
    lot = await Lot.objects().where(Lot.id == inquiry.lot).first()
    assert lot is not None
    return str(lot.status)


async def wait_for_opening(inquiry_id: int, seconds: float) -> str:
    status = ""
    for _ in range(int(seconds * 4)):
        status = await lot_status(inquiry_id)
        if status not in {"published", "bidding_closed"}:
            return status
        await asyncio.sleep(0.25)
    return status


def log_in(browser: Browser, live_server: str, username: str) -> Page:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server + "/login?lang=zh")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return page


def test_purchaser_posts_suppliers_quote_quotes_open_and_the_lowest_wins(
    browser: Browser,
    live_server: str,
    database: None,
    celery_worker: subprocess.Popen[bytes],
) -> None:
    purchaser = run_async(actor(Role.PURCHASER))
    names = [*UNIT_PRICES, "太湖设备"]
    suppliers = {name: run_async(supplier(name)) for name in names}

    # the form: four suppliers chosen, a deadline tomorrow is refused (3 working days)
    page = log_in(browser, live_server, purchaser.username)
    page.goto(live_server + "/purchaser/inquiries/new")
    expect(page.locator("h1")).to_have_text("新建询价")
    page.fill("#title", "服务器询价")
    page.fill("#budget", "200000")
    page.fill("#delivery_place", "张家港市政务服务中心")
    page.fill("#delivery_time", "合同签订后15日内")
    tomorrow = (SYSTEM_CLOCK.now() + timedelta(days=1)).astimezone(CHINA)
    page.fill("#quote_deadline", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    page.fill("#requirements", "交货期不超过15日；原厂质保三年")
    page.locator("input[name=item_name]").first.fill("服务器")
    page.locator("input[name=item_specification]").first.fill("2 × 16 核, 256 GB")
    page.locator("input[name=item_quantity]").first.fill("2")
    page.locator("input[name=item_unit]").first.fill("台")
    page.locator("input[name=item_reference_brand]").first.fill("浪潮 NF5280 或同等")
    for who in suppliers.values():
        page.check(f"input[name=supplier_id][value='{who.organisation_id}']")
    page.screenshot(path=screenshot_path("inquiry-form"), full_page=True)
    page.click("#inquiry-form button[type=submit]")
    error = page.locator(".flash.error")
    expect(error).to_contain_text("不得少于 3 个工作日")
    expect(page.locator("#title")).to_have_value("服务器询价")
    expect(
        page.locator(f"input[name=supplier_id][value='{suppliers[names[0]].organisation_id}']")
    ).to_be_checked()
    page.screenshot(path=screenshot_path("inquiry-form-refused"), full_page=True)

    # the quoted inquiry: the same request, its deadline seconds ahead (see the docstring)
    deadline = SYSTEM_CLOCK.now() + timedelta(seconds=60)
    inquiry_id = run_async(
        create_inquiry(
            purchaser,
            InquiryDraft(
                title="服务器询价",
                title_en="Servers",
                items=[
                    ItemDraft(
                        name="服务器",
                        quantity="2",
                        unit="台",
                        specification="2 × 16 核, 256 GB",
                        reference_brand="浪潮 NF5280 或同等",
                    )
                ],
                budget="200000",
                delivery_place="张家港市政务服务中心",
                delivery_time="合同签订后15日内",
                quote_deadline=deadline,
                invitation_mode="selected",
                supplier_ids=[int(w.organisation_id or 0) for w in suppliers.values()],
                requirements="交货期不超过15日；原厂质保三年",
            ),
            limits=SECONDS,
        )
    )

    for name, unit_price in UNIT_PRICES.items():
        bidder = log_in(browser, live_server, suppliers[name].username)
        bidder.goto(live_server + "/supplier")
        bidder.click("a[href='/supplier/inquiries']")
        bidder.click(f"a[href='/supplier/inquiries/{inquiry_id}']")
        bidder.fill("input[name=unit_price_1]", unit_price)
        bidder.fill("#delivery_days", "15")
        bidder.fill("#declarations", "满足全部实质性要求")
        expect(bidder.locator("#quote-total")).not_to_be_empty()
        if name == "华东电子":
            bidder.screenshot(path=screenshot_path("inquiry-quote-form"), full_page=True)
        bidder.click("#quote-form button[type=submit]")
        expect(bidder.locator(".flash")).to_contain_text("不得修改或撤回")
        expect(bidder.locator("#quote-form")).to_have_count(0)
        if name == "华东电子":
            bidder.screenshot(path=screenshot_path("inquiry-quoted"), full_page=True)
        bidder.close()
    assert SYSTEM_CLOCK.now() < deadline, "the browser quoting took longer than the deadline"

    page.goto(live_server + f"/purchaser/inquiries/{inquiry_id}")
    expect(page.locator("#quotes")).to_contain_text("报价在截止前保持密封")
    seconds_left = (deadline - SYSTEM_CLOCK.now()).total_seconds()
    assert run_async(wait_for_opening(inquiry_id, seconds_left + 40)) == "opened"

    page.goto(live_server + f"/purchaser/inquiries/{inquiry_id}")
    rows = page.locator("tr[data-quote]")
    expect(rows).to_have_count(3)
    expect(page.locator("tr[data-quote='华东电子']")).to_contain_text("172,500.00")
    for name in UNIT_PRICES:
        row = page.locator(f"tr[data-quote='{name}']")
        row.locator("select[name=compliant]").select_option("yes")
        row.locator("button[type=submit]").click()
        expect(page.locator(f"tr[data-quote='{name}'] [data-verdict]")).to_have_text("符合要求")
    page.screenshot(path=screenshot_path("inquiry-verdicts"), full_page=True)
    page.click("#conclude")
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "awarded")
    expect(page.locator("[data-award]")).to_have_text("172,500.00")
    page.screenshot(path=screenshot_path("inquiry-awarded"), full_page=True)

    visitor = browser.new_page(viewport={"width": 1280, "height": 900})
    visitor.goto(live_server + "/notices?lang=zh")
    notice = visitor.locator("a", has_text="服务器询价 中标(成交)结果公告")
    expect(notice).to_have_count(1)
    notice.click()
    body = visitor.locator("main")
    expect(body).to_contain_text("华东电子")
    expect(body).to_contain_text("172,500.00")
    visitor.screenshot(path=screenshot_path("inquiry-result-notice"), full_page=True)
    visitor.close()
    page.close()
