"""Celery tasks of the expert draw: thin, idempotent, keyed by seat id (STYLE).

A called expert's deadline is enforced twice, like bid deadlines (ARCHITECTURE §2): a task
queued for the exact time, and a periodic sweep that catches anything the broker lost.
"""

from __future__ import annotations

import asyncio
import logging

from celery import shared_task

from expert_pool import services

log = logging.getLogger(__name__)


@shared_task(name="expert_pool.seat_deadline", ignore_result=True, acks_late=True)
def seat_deadline(seat_id: int) -> bool:
    """Expire one seat at its deadline and call the next rank (no-op if answered)."""
    expired = asyncio.run(services.expire_seat(seat_id))
    if expired:
        log.info("seat %s timed out; the next expert was called", seat_id)
    return expired


@shared_task(name="expert_pool.sweep_confirmations", ignore_result=True)
def sweep_confirmations() -> list[int]:
    """Expire every overdue seat and finish unfinished replacements (periodic)."""
    expired = asyncio.run(services.sweep_confirmations())
    if expired:
        log.info("sweep expired seats %s", expired)
    return expired
