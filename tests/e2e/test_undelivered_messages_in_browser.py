"""An administrator finds a message that used up its attempts and sends it again, in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from procurement import notifications
from procurement.roles import Role
from procurement.tables import Notification, User
from tests.e2e.conftest import rows, run_async, screenshot_path
from tests.e2e.test_portal_flow import log_in
from tests.factories import actor

pytestmark = pytest.mark.e2e


async def a_message_that_gave_up(user_id: int) -> int:
    """An email whose every attempt was refused by the recipient's mail server."""
    await User.update({User.email: "wang@old-mail.example"}).where(User.id == user_id)
    await notifications.notify(user_id, kind="draw", title="您已被抽取为评审专家")
    await Notification.update(
        {
            Notification.attempts: notifications.MAX_ATTEMPTS,
            Notification.last_error: "(550, 'Recipient address rejected: User unknown')",
        }
    ).where(Notification.user == user_id)
    message = await Notification.select(Notification.id).where(Notification.user == user_id)
    return int(message[0]["id"])


def test_an_undelivered_message_is_sent_again(
    browser: Browser, live_server: str, database: None
) -> None:
    admin = run_async(actor(Role.ADMIN, username="admin"))
    expert = run_async(actor(Role.EXPERT))
    assert expert.user_id is not None
    message_id = run_async(a_message_that_gave_up(expert.user_id))

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, live_server, admin.username)
    page.goto(live_server + "/admin#undelivered")
    row = page.locator(f"tr[data-undelivered='{message_id}']")
    expect(row).to_contain_text("您已被抽取为评审专家")
    expect(row).to_contain_text("wang@old-mail.example")
    expect(row).to_contain_text("User unknown")
    expect(page.locator("#undelivered h2")).to_contain_text("未送达的消息 1")
    page.locator("#undelivered").screenshot(path=screenshot_path("admin-undelivered"))

    row.get_by_role("button", name="重新发送").click()
    expect(page.locator(".flash")).to_contain_text("消息将在一分钟内重新发送")
    expect(page.locator(f"tr[data-undelivered='{message_id}']")).to_have_count(0)
    expect(page.locator("#undelivered")).to_contain_text("暂无重试耗尽的消息")
    renewed = run_async(
        rows(Notification.select(Notification.attempts).where(Notification.id == message_id))
    )
    assert renewed == [{"attempts": 0}]
    page.close()
