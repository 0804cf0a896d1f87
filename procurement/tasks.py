"""Celery tasks of the core: thin and idempotent, keyed by ids (STYLE).

Bid deadlines are enforced twice: a task scheduled for the exact deadline, and a periodic
sweep that catches anything missed (ProZorro's chronograph, ARCHITECTURE §2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

from celery import shared_task

from procurement import notifications, projects, timeliness
from procurement.clock import SYSTEM_CLOCK
from procurement.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run an async service from a (synchronous) Celery task."""
    return asyncio.run(coroutine)


@shared_task(name="procurement.close_lot", ignore_result=True)
def close_lot(lot_id: int) -> bool:
    """Close bidding on one lot at its deadline (no-op if already closed or not yet due)."""
    closed = run(projects.close_lot_if_due(lot_id))
    if closed:
        log.info("lot %s closed at its bid deadline", lot_id)
    return closed


@shared_task(name="procurement.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> list[int]:
    """Close every lot whose deadline passed and that no exact-time task closed."""
    closed = run(projects.close_due_lots())
    if closed:
        log.info("sweep closed lots %s", closed)
    return closed


@shared_task(name="procurement.deliver_notifications", ignore_result=True)
def deliver_notifications() -> int:
    """Send the outbox's queued email and SMS messages (periodic; safe to run twice)."""
    settings = Settings.from_env()
    sent = run(
        notifications.deliver_pending(
            notifications.senders_for(settings), base_url=settings.base_url
        )
    )
    if sent:
        log.info("delivered %s notifications", sent)
    return sent


@shared_task(name="procurement.warn_overdue", ignore_result=True)
def warn_overdue() -> int:
    """Warn supervisors and purchasers of newly overdue deadline items (periodic; idempotent)."""
    sent = run(_warn_overdue())
    if sent:
        log.info("queued %s overdue warnings", sent)
    return sent


async def _warn_overdue() -> int:
    calendar = await projects.load_calendar()
    return await timeliness.warn_overdue(calendar, SYSTEM_CLOCK.now())
