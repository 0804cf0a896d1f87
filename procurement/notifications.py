"""Notifications: one outbox for every package, shown in the workspace and sent by adapters.

Drawn experts, invited suppliers and supervisors of overdue items must be told even when
they are not logged in (ARCHITECTURE §4: "notifier adapter: an outbox table"). A
notification is written in the caller's transaction, so it exists exactly when the change
it reports does; a periodic Celery task delivers the outbox afterwards, so a mail server
that is down delays a message but never loses it or rolls back the change.

Delivery channel per recipient: email when the account has an address, else SMS when it
has a phone number, else the workspace only. The SMS adapter is an interface with a logging
implementation (no SMS gateway is part of the platform); email goes over SMTP when
``ZHAOCAI_SMTP_HOST`` is set and is logged otherwise (the embedded default).
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from procurement.clock import SYSTEM_CLOCK, Clock
from procurement.settings import Settings
from procurement.tables import Notification, User

log = logging.getLogger(__name__)

WEB = "web"
EMAIL = "email"
SMS = "sms"
RETRY_AFTER = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
"""How long a message waits after its 1st, 2nd, ... failure before it is tried again.

Growing waits let a mail server be down for hours (a restart, a night's maintenance)
before a message gives up; retrying on every sweep would spend all attempts in minutes.
"""
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
"""A message that failed this many times is left for an operator (``last_error`` says why)."""
CLAIM_FOR = timedelta(minutes=5)
"""How long a delivery run holds a message it is sending: far longer than one send can
take (the SMTP adapter times out after 30 s), so a lease runs out only after a crash."""


@dataclass(frozen=True)
class OutgoingMessage:
    """What an adapter sends: the address for its channel and the text."""

    address: str
    title: str
    body: str
    link: str


class Sender(Protocol):
    """A delivery adapter for one channel."""

    def send(self, message: OutgoingMessage) -> None:
        """Deliver ``message`` or raise; the outbox retries later."""
        ...


class LoggingSender:
    """Writes the message to the log: SMS always, email when no SMTP server is configured."""

    def __init__(self, channel: str) -> None:
        self.channel = channel

    def send(self, message: OutgoingMessage) -> None:
        """Log the message instead of sending it."""
        log.info("%s to %s: %s %s", self.channel, message.address, message.title, message.link)


class SmtpSender:
    """Email over SMTP (settings ``ZHAOCAI_SMTP_HOST``, ``_PORT``, ``_SENDER``)."""

    def __init__(self, host: str, port: int, sender: str) -> None:
        self.host = host
        self.port = port
        self.sender = sender

    def send(self, message: OutgoingMessage) -> None:
        """Send one plain-text email; raises on any SMTP failure."""
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.title
        mail.set_content(f"{message.body}\n\n{message.link}".strip() + "\n")
        with smtplib.SMTP(self.host, self.port, timeout=30) as client:
            client.send_message(mail)


def senders_for(settings: Settings) -> dict[str, Sender]:
    """The adapters of each external channel for ``settings``."""
    email: Sender = (
        SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_sender)
        if settings.smtp_host
        else LoggingSender(EMAIL)
    )
    return {EMAIL: email, SMS: LoggingSender(SMS)}


def _channel_for(user: dict[str, Any]) -> str:
    if str(user.get("email") or "").strip():
        return EMAIL
    if str(user.get("phone") or "").strip():
        return SMS
    return WEB


async def notify(
    user_id: int,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    dedupe_key: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> bool:
    """Queue a notification for one user; ``False`` if ``dedupe_key`` was already sent.

    ``dedupe_key`` makes repeated calls (a sweep that runs every few seconds, a retried
    task) tell the user once: e.g. ``f"overdue:{item}"``. ``link`` is a path on the portal.
    """
    message = (kind, title, body, link)
    return await _queue({int(user_id): dedupe_key}, message, clock) == 1


async def notify_many(
    user_ids: Sequence[int],
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    dedupe_prefix: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> int:
    """Notify several users in one insert; returns how many were newly told.

    Each user's dedupe key is ``f"{dedupe_prefix}:{user_id}"``, so a sweep that names the
    same users again tells nobody twice. Unknown user ids are an error, as for :func:`notify`.
    """
    keys = {
        int(u): None if dedupe_prefix is None else f"{dedupe_prefix}:{int(u)}" for u in user_ids
    }
    return await _queue(keys, (kind, title, body, link), clock)


async def _queue(
    keys: dict[int, str | None], message: tuple[str, str, str, str], clock: Clock
) -> int:
    """Insert one notification per user (keyed for exactly-once); how many were new.

    Every user must exist, checked before anything is written; a key already used is
    skipped by the unique index, so concurrent sweeps cannot tell a user twice.
    """
    if not keys:
        return 0
    users = {
        int(row["id"]): row
        for row in await User.select(User.id, User.email, User.phone).where(
            User.id.is_in(list(keys))
        )
    }
    missing = [u for u in keys if u not in users]
    if missing:
        raise ValueError(f"no user {missing[0]} to notify")
    kind, title, body, link = message
    now = clock.now()
    inserted = await Notification.insert(
        *(
            Notification(
                user=user_id,
                kind=kind,
                title=title[:300],
                body=body,
                link=link[:300],
                created_at=now,
                channel=_channel_for(users[user_id]),
                dedupe_key=key,
            )
            for user_id, key in keys.items()
        )
    ).on_conflict(action="DO NOTHING")
    return len(inserted)


async def deliver_pending(
    senders: dict[str, Sender], *, base_url: str, clock: Clock = SYSTEM_CLOCK, batch: int = 200
) -> int:
    """Send queued email and SMS notifications; return how many this run sent.

    Each message is claimed before it is sent (a lease of :data:`CLAIM_FOR`, taken by one
    conditional UPDATE), so two runs that overlap (a slow sweep and the next, or two
    workers) never both send it. It is marked sent right after its adapter accepts it, so a
    crash repeats at most that one message, once its lease has run out. A failure is
    counted and the message held until its retry time (:data:`RETRY_AFTER`; the lease
    column doubles as "not before"), up to :data:`MAX_ATTEMPTS`.
    """
    now = clock.now()
    rows = (
        await Notification.select(
            Notification.id,
            Notification.channel,
            Notification.attempts,
            Notification.title,
            Notification.body,
            Notification.link,
            Notification.user.email,
            Notification.user.phone,
        )
        .where(
            _outgoing_unsent(),
            Notification.attempts < MAX_ATTEMPTS,
            Notification.claimed_until.is_null() | (Notification.claimed_until <= now),
        )
        .order_by(Notification.id)
        .limit(batch)
    )
    delivered = 0
    for row in rows:
        if not await _claim(row["id"], clock.now()):
            continue  # another run is sending it, or has sent it
        address = row["user.email"] if row["channel"] == EMAIL else row["user.phone"]
        link = f"{base_url.rstrip('/')}{row['link']}" if row["link"] else ""
        message = OutgoingMessage(address=address, title=row["title"], body=row["body"], link=link)
        try:
            senders[row["channel"]].send(message)
        except Exception as error:  # any adapter failure: keep the message, retry later
            log.warning("notification %s not delivered: %s", row["id"], error)
            await Notification.update(
                {
                    Notification.attempts: Notification.attempts + 1,
                    Notification.last_error: str(error)[:300],
                    Notification.claimed_until: retry_at(int(row["attempts"]) + 1, clock.now()),
                }
            ).where(Notification.id == row["id"])
            continue
        await Notification.update(
            {Notification.sent_at: clock.now(), Notification.claimed_until: None}
        ).where(Notification.id == row["id"])
        delivered += 1
    return delivered


def retry_at(failures: int, now: datetime) -> datetime | None:
    """When a message that has failed ``failures`` times may be tried again.

    ``None`` once it has used its :data:`MAX_ATTEMPTS`: no run takes it again, so nothing
    needs to hold it.
    """
    if failures >= MAX_ATTEMPTS:
        return None
    return now + RETRY_AFTER[failures - 1]


async def _claim(notification_id: int, now: datetime) -> bool:
    """Take the message's lease if it is unsent and free; one UPDATE, so one run wins."""
    claimed = (
        await Notification.update({Notification.claimed_until: now + CLAIM_FOR})
        .where(
            (Notification.id == notification_id)
            & Notification.sent_at.is_null()
            & (Notification.attempts < MAX_ATTEMPTS)
            & (Notification.claimed_until.is_null() | (Notification.claimed_until <= now))
        )
        .returning(Notification.id)
    )
    return bool(claimed)


@dataclass(frozen=True)
class Undelivered:
    """The outbox's trouble, for the administration page."""

    messages: list[dict[str, Any]]
    """The newest messages that used up their attempts, with recipient and last error."""
    total: int
    """How many messages used up their attempts."""
    retrying: int
    """How many failed at least once and wait for their next attempt."""


async def undelivered(*, limit: int = 100) -> Undelivered:
    """Messages that used up their attempts, newest first, and those waiting to retry.

    These are the messages "left for an operator" (:data:`MAX_ATTEMPTS`): the administration
    page lists them with ``last_error`` so a wrong address or a mail server's refusal is seen
    and fixed, then tried again with :func:`try_again`.
    """
    messages = (
        await Notification.select(
            Notification.id,
            Notification.channel,
            Notification.title,
            Notification.created_at,
            Notification.attempts,
            Notification.last_error,
            Notification.user.username,
            Notification.user.display_name,
            Notification.user.email,
            Notification.user.phone,
        )
        .where(_given_up())
        .order_by(Notification.id, ascending=False)
        .limit(limit)
    )
    retrying = await Notification.count().where(
        _outgoing_unsent(),
        Notification.attempts > 0,
        Notification.attempts < MAX_ATTEMPTS,
    )
    return Undelivered(
        messages=list(messages),
        total=int(await Notification.count().where(_given_up())),
        retrying=int(retrying),
    )


async def try_again(notification_id: int | None = None) -> int:
    """Give one message that used up its attempts (or every one) a fresh set; how many.

    The channel is chosen again from the account's contact details as they are now, and
    the address is read at the next run: an account whose email was corrected is sent to
    the new one, one that kept only a phone number gets an SMS (and one with neither keeps
    the message in its workspace). Only a message that was given up is touched: one sent
    or still retrying keeps its state.
    """
    condition = _given_up()
    if notification_id is not None:
        condition = condition & (Notification.id == notification_id)
    given_up = await Notification.select(
        Notification.id,
        Notification.user.email.as_alias("email"),
        Notification.user.phone.as_alias("phone"),
    ).where(condition)
    renewed = 0
    for row in given_up:
        renewed += len(
            await Notification.update(
                {
                    Notification.attempts: 0,
                    Notification.claimed_until: None,
                    Notification.channel: _channel_for(row),
                }
            )
            .where(_given_up() & (Notification.id == row["id"]))
            .returning(Notification.id)
        )
    return renewed


def _outgoing_unsent() -> Any:
    """An email or SMS not yet sent: what delivery runs take and the outbox's trouble counts."""
    return Notification.sent_at.is_null() & Notification.channel.is_in([EMAIL, SMS])


def _given_up() -> Any:
    return _outgoing_unsent() & (Notification.attempts >= MAX_ATTEMPTS)


async def inbox(user_id: int, *, limit: int = 50) -> list[dict[str, Any]]:
    """The user's newest notifications, for the workspace."""
    return list(
        await Notification.select()
        .where(Notification.user == user_id)
        .order_by(Notification.created_at, ascending=False)
        .order_by(Notification.id, ascending=False)
        .limit(limit)
    )


async def mark_read(user_id: int, *, clock: Clock = SYSTEM_CLOCK) -> None:
    """Mark every unread notification of the user as read."""
    await Notification.update({Notification.read_at: clock.now()}).where(
        Notification.user == user_id, Notification.read_at.is_null()
    )
