"""The notification outbox: workspace inbox, exactly-once keys, SMTP delivery and retries."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement import notifications
from procurement.clock import FixedClock
from procurement.db import transaction
from procurement.roles import Role
from procurement.tables import AuditEntry, Notification, User
from tests.factories import actor, csrf, login
from tests.services import free_port

pytestmark = pytest.mark.integration


class Mailbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on loopback."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


async def set_contact(user_id: int, *, email: str = "", phone: str = "") -> None:
    await User.update({User.email: email, User.phone: phone}).where(User.id == user_id)


def senders_to_a_mail_server_that_is_down() -> dict[str, notifications.Sender]:
    """Email over SMTP to a loopback port nobody listens on: every send is refused."""
    return {notifications.EMAIL: notifications.SmtpSender("127.0.0.1", free_port(), "n@zc.test")}


async def queued_apart_from_the_worker(
    user_id: int, *, kind: str, title: str, body: str = "", link: str = ""
) -> FixedClock:
    """Queue a message only this test's delivery runs can see, and return their clock.

    The session's Celery worker delivers the same outbox every two seconds on the real
    clock, and would send or retry a message before the test's own runs do. The message is
    committed already held a day ahead (the lease column), so the worker passes it by; the
    returned clock stands past that hold, and a failure at that clock holds the message
    again, further ahead still.
    """
    hold = datetime.now(UTC) + timedelta(days=1)
    async with transaction(Notification._meta.db):
        await notifications.notify(user_id, kind=kind, title=title, body=body, link=link)
        await Notification.update({Notification.claimed_until: hold}).where(
            Notification.user == user_id, Notification.sent_at.is_null()
        )
    return FixedClock(hold + timedelta(seconds=1))


async def test_a_notification_appears_in_the_users_inbox_only(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    supplier = await actor(Role.BIDDER)
    other = await actor(Role.BIDDER)
    assert supplier.user_id is not None
    await notifications.notify(
        supplier.user_id, kind="test", title="招标文件已澄清", body="第1号澄清", link="/projects/1"
    )
    await login(client, supplier.username)
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "招标文件已澄清" in page.text
    assert 'href="/projects/1"' in page.text
    assert "未读" in page.text

    read = await client.post("/notifications/read", data=csrf(client))
    assert read.status_code in {200, 302, 303}
    row = await Notification.select().where(Notification.user == supplier.user_id).first()
    assert row is not None
    assert row["read_at"] is not None

    await client.post("/logout", data=csrf(client))
    await login(client, other.username)
    assert "招标文件已澄清" not in (await client.get("/notifications")).text


async def test_notifications_need_a_login(app: Litestar, client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/notifications", follow_redirects=False)
    assert response.status_code in {302, 303, 401}


async def test_a_dedupe_key_tells_the_user_once_even_when_raced(app: Litestar) -> None:
    supervisor = await actor(Role.SUPERVISOR)
    assert supervisor.user_id is not None
    results = await asyncio.gather(
        *(
            notifications.notify(
                supervisor.user_id, kind="overdue", title="逾期", dedupe_key="overdue:lot:7"
            )
            for _ in range(5)
        )
    )
    assert sorted(results) == [False, False, False, False, True]
    assert await Notification.count().where(Notification.user == supervisor.user_id) == 1
    # without a key every call is a message of its own
    await notifications.notify(supervisor.user_id, kind="info", title="a")
    await notifications.notify(supervisor.user_id, kind="info", title="a")
    assert await Notification.count().where(Notification.user == supervisor.user_id) == 3


async def test_notify_many_keys_each_user_separately(app: Litestar) -> None:
    users = [await actor(Role.BIDDER) for _ in range(4)]
    ids = [u.user_id for u in users if u.user_id is not None]
    assert (
        await notifications.notify_many(ids[:2] + ids[:1], kind="k", title="t", dedupe_prefix="p")
        == 2
    )
    # a later sweep naming more users tells only the new ones
    assert await notifications.notify_many(ids, kind="k", title="t", dedupe_prefix="p") == 2
    assert await notifications.notify_many(ids, kind="k", title="t", dedupe_prefix="p") == 0
    assert await Notification.count() == 4
    assert await notifications.notify_many([], kind="k", title="t") == 0
    with pytest.raises(ValueError, match="no user"):
        await notifications.notify_many([ids[0], 2**31 - 1], kind="k", title="t")
    assert await Notification.count() == 4  # nothing half-written


async def test_notifying_an_unknown_user_is_an_error(app: Litestar) -> None:
    with pytest.raises(ValueError, match="no user"):
        await notifications.notify(2**31 - 1, kind="k", title="t")


async def test_channel_follows_the_accounts_contact_details(app: Litestar) -> None:
    with_email, with_phone, with_neither = [await actor(Role.EXPERT) for _ in range(3)]
    assert with_email.user_id
    assert with_phone.user_id
    assert with_neither.user_id
    await set_contact(with_email.user_id, email="expert@example.com", phone="13800000000")
    await set_contact(with_phone.user_id, phone="13800000001")
    for user in (with_email, with_phone, with_neither):
        assert user.user_id is not None
        await notifications.notify(user.user_id, kind="k", title="t")
    channels = {
        row["user"]: row["channel"]
        for row in await Notification.select(Notification.user, Notification.channel)
    }
    assert channels == {
        with_email.user_id: notifications.EMAIL,
        with_phone.user_id: notifications.SMS,
        with_neither.user_id: notifications.WEB,
    }


async def test_email_goes_out_over_smtp_once(
    app: Litestar, smtp_server: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp_server
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, email="expert@example.com")
    clock = await queued_apart_from_the_worker(
        expert.user_id, kind="draw", title="您已被抽取为评审专家", body="请确认", link="/expert"
    )
    senders: dict[str, notifications.Sender] = {
        notifications.EMAIL: notifications.SmtpSender("127.0.0.1", port, "noreply@zhaocai.test"),
        notifications.SMS: notifications.LoggingSender(notifications.SMS),
    }
    sent = await notifications.deliver_pending(
        senders, base_url="https://zc.example.org/", clock=clock
    )
    assert sent == 1
    assert len(mailbox.messages) == 1
    mail = mailbox.messages[0]
    assert mail["To"] == "expert@example.com"
    assert mail["Subject"] == "您已被抽取为评审专家"
    text = mail.get_content()
    assert "请确认" in text
    assert "https://zc.example.org/expert" in text
    # a second run sends nothing more, even once any lease has run out
    clock.advance(notifications.CLAIM_FOR)
    assert (
        await notifications.deliver_pending(senders, base_url="https://zc.example.org", clock=clock)
        == 0
    )
    assert len(mailbox.messages) == 1


async def test_a_mail_server_that_is_down_delays_but_never_loses(
    app: Litestar, smtp_server: tuple[int, Mailbox]
) -> None:
    port, mailbox = smtp_server
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, email="expert@example.com")
    clock = await queued_apart_from_the_worker(expert.user_id, kind="draw", title="t")
    down = senders_to_a_mail_server_that_is_down()
    assert await notifications.deliver_pending(down, base_url="", clock=clock) == 0
    row = await Notification.select().first()
    assert row is not None
    assert row["sent_at"] is None
    assert row["attempts"] == 1
    assert row["last_error"]
    assert row["claimed_until"] == clock.now() + notifications.RETRY_AFTER[0]

    up: dict[str, notifications.Sender] = {
        notifications.EMAIL: notifications.SmtpSender("127.0.0.1", port, "n@zc.test")
    }
    clock.advance(notifications.RETRY_AFTER[0] - timedelta(seconds=1))
    assert await notifications.deliver_pending(up, base_url="", clock=clock) == 0  # waits
    assert mailbox.messages == []
    clock.advance(timedelta(seconds=1))
    assert await notifications.deliver_pending(up, base_url="", clock=clock) == 1
    assert len(mailbox.messages) == 1


async def test_a_message_that_keeps_failing_is_left_for_an_operator(app: Litestar) -> None:
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, email="expert@example.com")
    clock = await queued_apart_from_the_worker(expert.user_id, kind="draw", title="t")
    down = senders_to_a_mail_server_that_is_down()

    async def attempts_after_a_run() -> int:
        await notifications.deliver_pending(down, base_url="", clock=clock)
        row = await Notification.select(Notification.attempts).first()
        assert row is not None
        return int(row["attempts"])

    for failures, wait in enumerate(notifications.RETRY_AFTER, start=1):
        assert await attempts_after_a_run() == failures
        clock.advance(wait - timedelta(seconds=1))
        assert await attempts_after_a_run() == failures  # still waiting
        clock.advance(timedelta(seconds=1))
    assert await attempts_after_a_run() == notifications.MAX_ATTEMPTS
    clock.advance(timedelta(days=7))
    assert await attempts_after_a_run() == notifications.MAX_ATTEMPTS  # left alone
    row = await Notification.select().first()
    assert row is not None
    assert row["sent_at"] is None
    assert row["claimed_until"] is None
    assert row["last_error"]


async def test_the_worker_delivers_the_outbox_by_itself(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, phone="13800000000")
    await notifications.notify(expert.user_id, kind="draw", title="t")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        row = await Notification.select(Notification.sent_at).first()
        if row is not None and row["sent_at"] is not None:
            break
        await asyncio.sleep(0.5)
    else:
        pytest.fail("the worker's periodic task did not deliver the SMS in 60 s")


class Recorder:
    """A sender that records what it sends; ``during_send`` runs inside the send."""

    def __init__(self, during_send: Any = None) -> None:
        self.sent: list[str] = []
        self.during_send = during_send

    def send(self, message: notifications.OutgoingMessage) -> None:
        self.sent.append(message.title)
        if self.during_send is not None:
            self.during_send()


async def test_overlapping_delivery_runs_send_a_message_once(app: Litestar) -> None:
    """A second run that starts while the first is still sending leaves the message to it."""
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, email="expert@example.com")
    clock = await queued_apart_from_the_worker(expert.user_id, kind="draw", title="once")
    other_run = Recorder()
    other_result: list[int] = []

    def second_run() -> None:  # another worker's run, on its own thread and event loop
        with ThreadPoolExecutor(1) as pool:
            other_result.append(
                pool.submit(
                    asyncio.run,
                    notifications.deliver_pending(
                        {notifications.EMAIL: other_run}, base_url="", clock=clock
                    ),
                ).result()
            )

    first_run = Recorder(during_send=second_run)
    assert (
        await notifications.deliver_pending(
            {notifications.EMAIL: first_run}, base_url="", clock=clock
        )
        == 1
    )
    assert first_run.sent == ["once"]
    assert other_run.sent == []
    assert other_result == [0]
    row = await Notification.select(Notification.sent_at, Notification.claimed_until).first()
    assert row is not None
    assert row["sent_at"] is not None
    assert row["claimed_until"] is None


async def test_a_message_claimed_by_a_run_that_died_is_sent_after_the_lease(
    app: Litestar,
) -> None:
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, phone="13800000000")
    clock = await queued_apart_from_the_worker(expert.user_id, kind="draw", title="after the lease")
    died_at = clock.now()
    await Notification.update(
        {Notification.claimed_until: died_at + notifications.CLAIM_FOR}, force=True
    )
    recorder = Recorder()
    senders: dict[str, notifications.Sender] = {notifications.SMS: recorder}
    clock.advance(notifications.CLAIM_FOR - timedelta(seconds=1))
    assert await notifications.deliver_pending(senders, base_url="", clock=clock) == 0  # held
    clock.advance(timedelta(seconds=1))
    assert await notifications.deliver_pending(senders, base_url="", clock=clock) == 1
    assert recorder.sent == ["after the lease"]


async def test_an_administrator_sees_a_message_that_gave_up_and_sends_it_again(
    app: Litestar, client: AsyncTestClient[Litestar]
) -> None:
    expert = await actor(Role.EXPERT)
    assert expert.user_id is not None
    await set_contact(expert.user_id, email="expert@wrong.example")
    clock = await queued_apart_from_the_worker(expert.user_id, kind="draw", title="请确认参加评审")
    down = senders_to_a_mail_server_that_is_down()
    for wait in (*notifications.RETRY_AFTER, timedelta(0)):
        await notifications.deliver_pending(down, base_url="", clock=clock)
        clock.advance(wait)
    row = await Notification.select(Notification.id, Notification.attempts).first()
    assert row is not None
    assert row["attempts"] == notifications.MAX_ATTEMPTS
    given_up = row["id"]

    # a message still retrying is counted apart and cannot be "sent again"
    still_trying = await queued_apart_from_the_worker(expert.user_id, kind="k", title="retrying")
    await notifications.deliver_pending(down, base_url="", clock=still_trying)
    retrying = await Notification.select(Notification.id).where(Notification.title == "retrying")

    administrator = await actor(Role.ADMIN)
    await login(client, administrator.username)
    page = (await client.get("/admin?lang=en")).text
    assert f'data-undelivered="{given_up}"' in page
    assert "请确认参加评审" in page
    assert "expert@wrong.example" in page
    assert "Connection refused" in page
    assert "Waiting to be tried again: 1" in page
    assert f'data-undelivered="{retrying[0]["id"]}"' not in page
    refused = await client.post(
        f"/admin/notifications/{retrying[0]['id']}/retry?lang=en", data=csrf(client)
    )
    assert refused.status_code == 404
    assert f"no undelivered message {retrying[0]['id']}" in refused.text

    # the account gave up its email for a phone number: the message goes by SMS now
    await set_contact(expert.user_id, phone="13800000000")
    sent_again = await client.post(
        f"/admin/notifications/{given_up}/retry", data=csrf(client), follow_redirects=False
    )
    assert sent_again.status_code in {302, 303}
    assert sent_again.headers["location"] == "/admin?done=retrying"
    # a fresh set of attempts (the worker may already be sending it: no lease asserted)
    renewed = await Notification.select(Notification.attempts, Notification.channel).where(
        Notification.id == given_up
    )
    assert renewed == [{"attempts": 0, "channel": notifications.SMS}]
    assert "No message has failed on every attempt." in (await client.get("/admin")).text
    assert "暂无重试耗尽的消息" in (await client.get("/admin?lang=zh")).text
    entry = await AuditEntry.select(AuditEntry.subject_id, AuditEntry.actor_id).where(
        AuditEntry.action == "notification.retry"
    )
    assert entry == [{"subject_id": str(given_up), "actor_id": administrator.user_id}]
