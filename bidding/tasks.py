"""Celery tasks of sealed bidding: thin, idempotent, keyed by lot id."""

from __future__ import annotations

import asyncio
import logging

from celery import shared_task

from bidding import services
from bidding.runtime import current

log = logging.getLogger(__name__)


@shared_task(name="bidding.open_lot", ignore_result=True, acks_late=True)
def open_lot(lot_id: int) -> str:
    """Open a lot's bids; safe to repeat, resumes after a killed worker."""
    runtime = current()
    outcome = asyncio.run(services.open_lot(lot_id, store=runtime.store, master=runtime.master_key))
    log.info("opening of lot %s: %s", lot_id, outcome)
    return outcome


@shared_task(name="bidding.sweep_openings", ignore_result=True)
def sweep_openings() -> list[int]:
    """Open every closed lot that can be opened now (platform-sealed or k shares in)."""
    ready = asyncio.run(services.lots_ready_to_open())
    for lot_id in ready:
        try:
            open_lot(lot_id)
        except Exception:  # one lot's failure (a store outage) must not hold up the others
            log.exception("opening of lot %s failed; the next sweep tries again", lot_id)
    return ready


@shared_task(name="bidding.abort_abandoned_uploads", ignore_result=True)
def abort_abandoned_uploads() -> int:
    """Close the store's uploads of bids withdrawn before submission (see the service)."""
    closed = asyncio.run(services.abort_abandoned_uploads(current().store))
    if closed:
        log.info("aborted %s abandoned uploads", closed)
    return closed
