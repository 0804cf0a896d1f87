"""A tender's life in real Chromium: publish, find, register, approve, download, close.

A purchaser logs in, creates and publishes a tender with documents; a visitor finds it on
the portal in both languages; a supplier registers, is approved, logs in and downloads the
documents; and the deadline of a lot passes and the lot closes by itself.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from procurement.calendar import WorkingDayCalendar
from procurement.clock import SYSTEM_CLOCK
from procurement.roles import Role
from procurement.tables import Lot
from tests.e2e.conftest import run_async, screenshot_path
from tests.factories import PASSWORD, actor, credit_code, custodians, local, published_project

pytestmark = pytest.mark.e2e


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(base + "/login?lang=zh")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    expect(page).not_to_have_url(base + "/login")


def datetime_local(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M")


def test_tender_from_publication_to_download(
    browser: Browser, live_server: str, database: None, tmp_path: Path
) -> None:
    purchaser = run_async(actor(Role.PURCHASER, username="hospital"))
    admin = run_async(actor(Role.ADMIN, username="admin"))
    run_async(custodians())  # tenders are sealed to keys the custodians hold
    base = live_server

    # The purchaser creates and publishes a tender with a document.
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, base, purchaser.username)
    page.goto(base + "/purchaser/projects/new")
    target = local(30)
    deadline = datetime.combine(
        WorkingDayCalendar().next_working_day(target.date()), target.timetz()
    )
    start = deadline - timedelta(days=22)
    page.fill("#title", "心电监护仪采购项目")
    page.fill("#title_en", "Patient monitors")
    page.select_option("#category", "goods")
    page.select_option("#method", "open_tender")
    page.fill("#description", "采购心电监护仪40台。")
    page.fill("#documents_from", datetime_local(start))
    page.fill("#documents_until", datetime_local(start + timedelta(days=8)))
    page.fill("#bid_deadline", datetime_local(deadline))
    page.fill("input[name=lot_title]", "心电监护仪40台")
    page.fill("input[name=lot_budget]", "860000")
    page.screenshot(path=screenshot_path("purchaser-new-project"), full_page=True)
    page.click("form.stack button[type=submit]")
    expect(page.locator("h1")).to_have_text("心电监护仪采购项目")
    document = tmp_path / "招标文件.pdf"
    document.write_bytes(b"%PDF-1.4\n" + b"tender documents\n" * 2000)
    page.set_input_files("#file", str(document))
    page.click("#upload")
    expect(page.locator("a", has_text="招标文件.pdf")).to_be_visible()
    page.locator("a", has_text="评分办法").first.click()  # a tender publishes with its scheme
    page.click("#save-scheme")
    expect(page.locator("h1")).to_have_text("心电监护仪采购项目")
    page.click("#publish")
    expect(page.locator("text=公开页面")).to_be_visible()
    page.screenshot(path=screenshot_path("purchaser-project-published"), full_page=True)

    # A visitor finds it on the portal, in Chinese and in English.
    visitor = browser.new_page(viewport={"width": 390, "height": 844})
    visitor.goto(base + "/notices?lang=zh")
    visitor.fill("#q", "心电监护")
    visitor.click("form.filters button[type=submit]")
    expect(visitor.locator(".notice-title")).to_have_text("心电监护仪采购项目")
    visitor.screenshot(path=screenshot_path("portal-search-zh-phone"), full_page=True)
    visitor.click("a[data-lang=en]")
    expect(visitor.locator(".notice-title")).to_have_text("Patient monitors")
    visitor.click(".notice-title")
    expect(visitor.locator("text=Log in as a registered supplier")).to_be_visible()
    visitor.screenshot(path=screenshot_path("portal-notice-en-phone"), full_page=True)

    # A supplier registers; the admin approves; the supplier downloads the documents.
    supplier = browser.new_page(viewport={"width": 1280, "height": 900})
    supplier.goto(base + "/register?lang=zh")
    code = credit_code()
    supplier.fill("#company_name", "苏州康泰医疗设备有限公司")
    supplier.fill("#credit_code", code)
    supplier.select_option("#enterprise_size", "small")
    supplier.fill("#contact_person", "刘经理")
    supplier.fill("#contact_phone", "0512-6666 8888")
    supplier.fill("#username", "kangtai")
    supplier.fill("#password", PASSWORD)
    supplier.fill("#password2", PASSWORD)
    supplier.click("form.stack button[type=submit]")
    expect(supplier.locator("h1")).to_have_text("注册已提交")
    admin_page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(admin_page, base, admin.username)
    admin_page.goto(base + "/admin")
    admin_page.click(f"button[data-approve='{code}']")
    expect(admin_page.locator(".flash")).to_be_visible()
    admin_page.screenshot(path=screenshot_path("admin-approved"), full_page=True)
    log_in(supplier, base, "kangtai")
    supplier.goto(base + "/supplier")
    supplier.click("text=心电监护仪采购项目")
    with supplier.expect_download() as download_info:
        supplier.click("a:has-text('招标文件.pdf')")
    downloaded = download_info.value.path()
    assert downloaded is not None
    assert Path(downloaded).read_bytes() == document.read_bytes()
    supplier.screenshot(path=screenshot_path("supplier-project"), full_page=True)


def test_lot_closes_by_itself_when_the_deadline_passes(
    browser: Browser, live_server: str, database: None, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = run_async(actor(Role.PURCHASER))
    supervisor = run_async(actor(Role.SUPERVISOR))
    deadline = SYSTEM_CLOCK.now() + timedelta(seconds=5)
    project_id = run_async(published_project(purchaser, deadline=deadline, title="办公用纸采购"))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, supervisor.username)
    page.goto(live_server + "/supervisor")
    row = page.locator("tr", has_text="办公用纸采购")
    expect(row.locator(".badge")).to_have_text("招标中")
    for _ in range(40):
        page.reload()
        if row.locator(".badge").inner_text() == "废标/流标":
            break
        page.wait_for_timeout(500)
    # closed at its deadline by the worker; with no bids it fails at once (TBL Art. 28)
    expect(row.locator(".badge")).to_have_text("废标/流标")
    page.screenshot(path=screenshot_path("supervisor-lot-closed"), full_page=True)

    async def status() -> str:
        lot = await Lot.objects().where(Lot.project == project_id).first()
        assert lot is not None
        return lot.status

    assert run_async(status()) == "failed"
