"""A real Celery worker (with beat) closes lots at their deadline: the exact-time task and
the periodic sweep each do it on their own.
"""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta

import pytest
from litestar import Litestar

from procurement.clock import SYSTEM_CLOCK
from procurement.roles import Role
from procurement.tables import AuditEntry, Lot, Project
from tests.factories import actor, published_project

pytestmark = pytest.mark.integration


async def wait_for_status(lot_id: int, status: str, seconds: float) -> str:
    """Poll the lot until it reaches ``status`` or time runs out; return the last status."""
    current = ""
    for _ in range(int(seconds * 4)):
        lot = await Lot.objects().where(Lot.id == lot_id).first()
        assert lot is not None
        current = lot.status
        if current == status:
            return current
        await asyncio.sleep(0.25)
    return current


async def test_lot_closes_by_itself_at_the_deadline(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    deadline = SYSTEM_CLOCK.now() + timedelta(seconds=4)
    project_id = await published_project(purchaser, deadline=deadline)
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    assert lot.status == "published"
    # closed at the deadline; with no bids it fails at once (TBL Art. 28)
    assert await wait_for_status(lot.id, "failed", 25) == "failed"
    closing = await AuditEntry.objects().where(AuditEntry.action == "lot.close_bidding").first()
    assert closing is not None
    assert closing.at >= deadline


async def test_sweep_closes_a_lot_whose_task_never_ran(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)  # its task is due in 30 days
    await Project.update({Project.bid_deadline: SYSTEM_CLOCK.now() - timedelta(minutes=1)}).where(
        Project.id == project_id
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    assert await wait_for_status(lot.id, "failed", 25) == "failed"
    assert await AuditEntry.count().where(AuditEntry.action == "lot.close_bidding") == 1
