"""The monthly report in real Chromium: a supervisor reads the table and the charts,
downloads the Excel file, and the numbers in it are the bulletin's (seed 000 section 二)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from procurement.roles import Role
from tests.e2e.conftest import run_async, screenshot_path
from tests.e2e.test_portal_flow import log_in
from tests.factories import actor
from tests.integration.test_reports import seed_000_month

pytestmark = pytest.mark.e2e


def test_a_supervisor_reads_the_monthly_report_and_downloads_it_as_excel(
    browser: Browser, live_server: str, database: None, tmp_path: Path
) -> None:
    run_async(seed_000_month())
    supervisor = run_async(actor(Role.SUPERVISOR, username="supervisor"))
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    log_in(page, live_server, supervisor.username)
    page.goto(live_server + "/supervisor")
    page.click("a[href='/reports']")
    page.fill("#month", "2026-11")
    page.click("form.report-filters button[type=submit]")
    expect(page.locator("#period")).to_have_text("2026-11")
    table = page.locator("#stats")
    expect(table.locator("tr[data-line='1']")).to_contain_text("1141.86")
    expect(table.locator("tr[data-line='1']")).to_contain_text("6.97 %")
    expect(table.locator("tr[data-line='5']")).to_contain_text("42221.17")
    expect(page.locator("#trend-chart svg")).to_be_visible()
    expect(page.locator("#breakdown-chart svg")).to_be_visible()
    page.screenshot(path=screenshot_path("reports-monthly-zh"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    saved = tmp_path / "report.xlsx"
    download_info.value.save_as(saved)
    sheet = load_workbook(saved)["Summary"]
    government = [cell.value for cell in sheet[4]]
    assert government[1] == 37
    assert [float(str(v)) for v in government[2:5]] == [1141.86, 1227.41, 85.56]
    assert round(float(str(government[5])), 4) == 0.0697
    works = [cell.value for cell in sheet[8]]
    assert [float(str(v)) for v in works[2:6]] == [42221.17, 47566.32, 5345.15, 0.1124]

    page.click("#bulletin-link")
    expect(page.locator(".bulletin-text").first).to_contain_text(
        "月内政府集中采购共举行37次招投标(其中网上询价采购12次)"
    )
    page.screenshot(path=screenshot_path("reports-bulletin-zh"), full_page=True)
    page.click("a:has-text('English')")
    expect(page.locator(".bulletin-text").first).to_contain_text("held 37 tenders")
    page.screenshot(path=screenshot_path("reports-bulletin-en"), full_page=True)
    page.goto(live_server + "/reports/timeliness?lang=zh")
    expect(page.locator("h1")).to_have_text("办理时效")
    page.screenshot(path=screenshot_path("reports-timeliness-zh"), full_page=True)
