"""A worker killed in the middle of an opening: the next run resumes, nothing opens twice.

ARCHITECTURE §3 commits one opening record per bid, so a runner that dies after some bids
leaves them recorded and the next runner (the redelivered task or the sweep) skips them.
Here a real Celery worker is killed with SIGKILL as soon as the first bid is recorded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from celery import Celery
from litestar import Litestar

from bidding.tables import Bid, OpeningRecord
from procurement.clock import SYSTEM_CLOCK, FixedClock
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import AuditEntry, Lot
from tests.conftest import ROOT, settings_env
from tests.factories import actor, published_project

pytestmark = pytest.mark.integration
BIDS = 6
DOCUMENT_BYTES = 24 * 1024 * 1024
"""Large enough that opening one bid (download, hash, decrypt) takes a noticeable time."""


def private_worker(settings: Settings, broker: str) -> subprocess.Popen[bytes]:
    """A worker on a broker of its own (no beat), so only this test sends it tasks."""
    env = {**settings_env(settings), "ZHAOCAI_BROKER_URL": broker}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zhaocai.celery_app",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def opened_count(lot_id: int) -> int:
    return int(await OpeningRecord.count().where(OpeningRecord.lot == lot_id))


async def test_a_worker_killed_mid_opening_is_resumed_without_opening_twice(
    app: Litestar, settings: Settings
) -> None:
    from bidding.platform_keys import signing_key
    from bidding.services import submit_sealed_bid
    from procurement.projects import close_lot_if_due

    store = app.state.object_store
    purchaser = await actor(Role.PURCHASER)
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    before = FixedClock(deadline - timedelta(hours=1))
    for index in range(BIDS):
        supplier = await actor(Role.BIDDER)
        await submit_sealed_bid(
            supplier,
            lot.id,
            Decimal(100_000 + index),
            {"technical": os.urandom(DOCUMENT_BYTES)},
            store=store,
            signing_key=signing_key(settings),
            clock=before,
        )
    assert await close_lot_if_due(lot.id, clock=FixedClock(deadline + timedelta(minutes=1)))

    assert settings.redis_url is not None
    broker = settings.redis_url  # not the session worker's broker
    sender = Celery("opening-crash-test", broker=broker)
    first = private_worker(settings, broker)
    try:
        sender.send_task("bidding.open_lot", args=[lot.id])
        give_up = time.monotonic() + 120
        while await opened_count(lot.id) == 0:
            assert time.monotonic() < give_up, "the worker did not start the opening"
            await asyncio.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    recorded_at_kill = await opened_count(lot.id)
    assert 1 <= recorded_at_kill < BIDS  # killed in the middle, not before or after

    second = private_worker(settings, broker)
    try:
        sender.send_task("bidding.open_lot", args=[lot.id])  # as the sweep would
        give_up = time.monotonic() + 180
        while True:
            refreshed = await Lot.objects().where(Lot.id == lot.id).first()
            assert refreshed is not None
            if refreshed.status != "bidding_closed":
                break
            assert time.monotonic() < give_up, "the second worker did not finish the opening"
            await asyncio.sleep(0.2)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    assert refreshed.status == "opened"
    records = await OpeningRecord.select(OpeningRecord.bid, OpeningRecord.outcome).where(
        OpeningRecord.lot == lot.id
    )
    bids = await Bid.select(Bid.id).where(Bid.lot == lot.id, Bid.status == "submitted")
    assert sorted(r["bid"] for r in records) == sorted(b["id"] for b in bids)
    assert {r["outcome"] for r in records} == {"opened"}
    logged = await AuditEntry.select(AuditEntry.subject_id).where(
        AuditEntry.action == "opening.bid_opened"
    )
    assert sorted(int(e["subject_id"]) for e in logged) == sorted(b["id"] for b in bids)
    assert await AuditEntry.count().where(AuditEntry.action == "lot.open") == 1


async def _closed_platform_lot(
    settings: Settings,
    store: object,
    bids: int = 3,
    before_close: Callable[[], Awaitable[None]] | None = None,
) -> int:
    """A platform-sealed lot with ``bids`` bids, closed (the session worker may open it)."""
    from bidding.platform_keys import signing_key
    from bidding.services import submit_sealed_bid
    from procurement.projects import close_lot_if_due

    purchaser = await actor(Role.PURCHASER)
    deadline = SYSTEM_CLOCK.now() + timedelta(days=30)
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    for index in range(bids):
        await submit_sealed_bid(
            await actor(Role.BIDDER),
            lot.id,
            Decimal(100 + index),
            {"technical": b"t" * 4000},
            store=store,  # type: ignore[arg-type]
            signing_key=signing_key(settings),
            clock=FixedClock(deadline - timedelta(hours=1)),
        )
    if before_close is not None:
        await before_close()
    assert await close_lot_if_due(lot.id, clock=FixedClock(deadline + timedelta(minutes=1)))
    return int(lot.id)


async def test_a_store_that_is_down_delays_the_opening_and_invalidates_nothing(
    app: Litestar, settings: Settings
) -> None:
    from minio import Minio

    from bidding.platform_keys import master_key
    from bidding.services import open_lot
    from storage import S3ObjectStore, StorageUnavailable
    from tests.services import free_port

    lot_id = await _closed_platform_lot(settings, app.state.object_store)
    store = app.state.object_store
    assert isinstance(store, S3ObjectStore)
    # the same bucket behind an address where nothing answers: a network outage
    down = S3ObjectStore(
        Minio(f"127.0.0.1:{free_port()}", "test", "test", secure=False), store.bucket
    )
    # a concurrent sweep of the session's worker may open the lot first ("done"); either
    # way the outage must not turn a single bid invalid
    try:
        outcome = await open_lot(lot_id, store=down, master=master_key(settings))
    except StorageUnavailable:
        outcome = "store unavailable"
    assert outcome in {"store unavailable", "done"}
    assert await OpeningRecord.count().where(OpeningRecord.outcome == "invalid") == 0
    # the store is back: the same call opens every bid (or finds them opened)
    outcome = await open_lot(lot_id, store=app.state.object_store, master=master_key(settings))
    assert outcome in {"opened", "done"}
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    assert lot is not None
    assert lot.status == "opened"
    assert await OpeningRecord.count().where(OpeningRecord.outcome == "opened") == 3


async def test_a_missing_stored_object_makes_that_bid_invalid_not_the_opening_stuck(
    app: Litestar, settings: Settings
) -> None:
    from bidding.platform_keys import master_key
    from bidding.services import open_lot
    from bidding.tables import BidFile

    store = app.state.object_store
    erased: list[BidFile] = []

    async def erase_one() -> None:  # before the deadline, so whichever runner opens sees it
        victim = await BidFile.objects().where(BidFile.kind == "technical").first()
        assert victim is not None
        await asyncio.to_thread(_erase, store, victim.object_key)
        erased.append(victim)

    lot_id = await _closed_platform_lot(settings, store, bids=4, before_close=erase_one)
    [victim] = erased
    outcome = await open_lot(lot_id, store=store, master=master_key(settings))
    assert outcome in {"opened", "done"}  # three valid bids remain; the sweep may be first
    lot = await Lot.objects().where(Lot.id == lot_id).first()
    assert lot is not None
    assert lot.status == "opened"
    invalid = await OpeningRecord.objects().where(OpeningRecord.outcome == "invalid")
    assert [r.bid for r in invalid] == [victim.bid]
    assert invalid[0].reason == "the stored ciphertext is missing"
    assert invalid[0].cause == "stored_copy_missing"
    assert invalid[0].deemed == "withdrawn"  # lost by the store, not the bidder's fault


def _erase(store: object, key: str) -> None:
    """Remove an object behind the platform's back, as an operator with storage access."""
    from storage import LocalObjectStore, S3ObjectStore

    if isinstance(store, S3ObjectStore):
        store.client.remove_object(store.bucket, key)
    elif isinstance(store, LocalObjectStore):
        path = store.root / key
        path.chmod(0o644)
        path.unlink()
