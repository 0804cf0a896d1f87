"""The expert draw in real Chromium: the purchaser requests it, a supervisor watches the
record, one drawn expert confirms by the one-time link, another declines on their page and is
replaced automatically, and ``zhaocai draw verify`` confirms the draw after the lot concludes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from expert_pool.tables import ExpertSeat
from procurement.lifecycle import LotEvent
from procurement.projects import transition_lot
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Notification
from tests.conftest import run_cli
from tests.e2e.conftest import run_async, screenshot_path
from tests.e2e.test_portal_flow import log_in
from tests.integration.test_expert_draw_service import EVALUATION_DAY, scene

pytestmark = pytest.mark.e2e


async def _members(lot_id: int) -> list[dict[str, object]]:
    rows = await ExpertSeat.select(
        ExpertSeat.id,
        ExpertSeat.status,
        ExpertSeat.expert,
        ExpertSeat.expert.name.as_alias("name"),
        ExpertSeat.expert.user.username.as_alias("username"),  # type: ignore[union-attr]  # two-level join
        ExpertSeat.expert.user.as_alias("user_id"),
    ).where((ExpertSeat.role == "member") & (ExpertSeat.draw.lot == lot_id))
    return sorted(rows, key=lambda r: int(str(r["id"])))


async def _link_of(user_id: int) -> str:
    note = await Notification.objects().where(Notification.user == user_id).first()
    assert note is not None
    return str(note.link)


def test_a_supervisor_watches_a_draw_with_a_confirmation_and_a_replacement(
    browser: Browser, live_server: str, database: None, settings: Settings
) -> None:
    s = run_async(scene(7))

    organiser = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(organiser, live_server, s.purchaser.username)
    organiser.goto(f"{live_server}/lots/{s.lot_id}/draw?lang=zh")
    organiser.select_option("#quota_specialty_0", "A01")
    organiser.fill("#quota_count_0", "5")
    organiser.fill("#reserves", "1")
    organiser.fill("#evaluation_date", EVALUATION_DAY.isoformat())
    organiser.click("form[action$='/draw'] button[type=submit]")
    expect(organiser.locator(".flash")).to_be_visible()
    expect(organiser.locator("table.seats tr.seat")).to_have_count(6)
    members = run_async(_members(s.lot_id))
    assert len(members) == 5
    for member in members:  # the purchaser sees counts and statuses, never names
        expect(organiser.locator("body")).not_to_contain_text(str(member["name"]))
    organiser.screenshot(path=screenshot_path("expert-draw-purchaser-zh"), full_page=True)

    supervisor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(supervisor, live_server, s.supervisor.username)
    supervisor.goto(f"{live_server}/lots/{s.lot_id}/draw?lang=zh")
    expect(supervisor.locator("code.commitment")).to_have_text(run_async(_commitment(s.lot_id)))
    expect(supervisor.locator("code.snapshot-hash")).to_be_visible()
    for member in members:
        expect(supervisor.locator("table.seats")).to_contain_text(str(member["name"]))

    # the first drawn expert confirms through the one-time link, without logging in
    confirming, declining = members[0], members[1]
    answer = browser.new_context().new_page()
    answer.goto(live_server + run_async(_link_of(int(str(confirming["user_id"])))) + "&lang=zh")
    answer.click("button[value=confirm]")
    expect(answer.locator("#answer-result")).to_be_visible()

    # the second declines on their own page; the reserve is called automatically
    expert_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(expert_page, live_server, str(declining["username"]))
    expert_page.goto(f"{live_server}/expert?lang=zh")
    expect(expert_page.locator("#my-seats")).to_contain_text("A01")
    expert_page.screenshot(path=screenshot_path("expert-self-service-zh"), full_page=True)
    expert_page.click(f"button[data-decline='{declining['id']}']")
    expect(expert_page.locator(".flash")).to_be_visible()

    supervisor.reload()
    expect(supervisor.locator("tr.seat-confirmed")).to_have_count(1)
    expect(supervisor.locator("tr.seat-declined")).to_have_count(1)
    expect(supervisor.locator("tr.seat-notified")).to_have_count(4)
    expect(supervisor.locator("tr.seat-waiting")).to_have_count(0)
    supervisor.screenshot(path=screenshot_path("expert-draw-supervisor-zh"), full_page=True)
    supervisor.goto(f"{live_server}/lots/{s.lot_id}/draw?lang=en")
    supervisor.screenshot(path=screenshot_path("expert-draw-supervisor-en"), full_page=True)

    # the evaluation ends (here: the lot is cancelled); the seed is revealed, the draw verifies
    run_async(transition_lot(s.lot_id, LotEvent.CANCEL))
    supervisor.reload()
    expect(supervisor.locator("code.seed")).to_be_visible()
    expect(supervisor.locator("#ratings form.rating-form")).to_have_count(1)
    supervisor.screenshot(path=screenshot_path("expert-draw-revealed-zh"), full_page=True)
    verified = run_cli(settings, "draw", "verify", "--lot", str(s.lot_id))
    assert "VERIFIED" in verified.stdout
    assert "same order" in verified.stdout


async def _commitment(lot_id: int) -> str:
    from expert_pool.tables import ExpertDraw

    row = await ExpertDraw.select(ExpertDraw.commitment).where(ExpertDraw.lot == lot_id).first()
    assert row is not None
    return str(row["commitment"])


def test_an_administrator_imports_experts_and_reads_the_row_report(
    browser: Browser, live_server: str, database: None, tmp_path: Path
) -> None:
    from tests.factories import actor
    from tests.integration.test_expert_registry import csv_bytes, expert_fields

    admin = run_async(actor(Role.ADMIN))
    path = tmp_path / "experts.csv"
    path.write_bytes(
        csv_bytes([expert_fields(50), expert_fields(51, identity_number="110105194912310022")])
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, admin.username)
    page.goto(f"{live_server}/admin/experts/import?lang=zh")
    page.set_input_files("#file", str(path))
    page.click("form[action='/admin/experts/import'] button[type=submit]")
    expect(page.locator("#import-report")).to_contain_text("校验码不符")
    page.screenshot(path=screenshot_path("expert-import-refused-zh"), full_page=True)
    page.set_input_files("#file", str(path))
    page.check("input[name=valid_rows]")
    page.click("form[action='/admin/experts/import'] button[type=submit]")
    expect(page.locator("#import-report")).to_contain_text("1 / 2")
    page.goto(f"{live_server}/admin/experts/?lang=zh")
    expect(page.locator("table")).to_contain_text("专家50")
    page.screenshot(path=screenshot_path("expert-registry-zh"), full_page=True)
    page.click("a:has-text('专家50')")
    expect(page.locator("#identity_number")).to_have_value(expert_fields(50)["identity_number"])
    page.screenshot(path=screenshot_path("expert-edit-zh"), full_page=True)
