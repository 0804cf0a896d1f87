"""The last minute before a deadline: many bidders submitting at once.

--bidders suppliers (default 1,000) each submit a small sealed bid at a random moment in
the last --window seconds (default 50) before the deadline, over loopback to the app served
by uvicorn (2 workers) on PostgreSQL and S3; another 5 % try just after the deadline. Each
bid is start → one part → submit. Goals: 0 lost (every bid that started on time and was not
refused has a receipt stored), every late one refused, p99 time to receipt < 2 s.
Bounded in time: everything ends a few seconds after the deadline. Last line: JSON.

Usage: python bench/deadline_rush.py [--bidders 1000] [--window 50]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from served import (  # noqa: E402
    approved_suppliers,
    login,
    report_rush,
    served_platform,
    submitted_count,
    wait_until_serving,
)

from bidding.envelope import EnvelopeContext, load_public_key, seal  # noqa: E402
from bidding.services import price_declaration, public_opening_key  # noqa: E402
from procurement.roles import Role  # noqa: E402
from procurement.tables import Lot  # noqa: E402
from tests.factories import actor, published_project  # noqa: E402


async def prepare(bidders: int, deadline: datetime) -> tuple[int, list[tuple[str, int]]]:
    """One platform-sealed lot and ``bidders`` approved suppliers with one login each."""
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser, deadline=deadline, custody_mode="platform")
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    suppliers = await approved_suppliers(count=bidders)
    return int(lot.id), suppliers


def sealed_price(public: Any, lot_id: int, org_id: int, price: str) -> bytes:
    context = EnvelopeContext(lot_id=str(lot_id), bidder_id=str(org_id), kind="price")
    return b"".join(
        seal([price_declaration(Decimal(price))], opening_public_key=public, context=context)
    )


async def submit(client: httpx.AsyncClient, lot_id: int, blob: bytes) -> tuple[str, float]:
    """start → part → submit; returns ("receipt" | "refused" | "error: …", seconds)."""
    headers = {"x-csrftoken": client.cookies.get("zc_csrf") or ""}
    started = time.perf_counter()
    try:
        response = await client.post(
            f"/api/lots/{lot_id}/bids",
            headers=headers,
            json={"files": [{"kind": "price", "size": len(blob)}]},
        )
        if response.status_code == 409:
            return "refused", time.perf_counter() - started
        if response.status_code >= 400:
            return f"error: {response.status_code} {response.text[:150]}", 0.0
        plan = response.json()
        file_id = plan["files"][0]["file_id"]
        response = await client.put(
            f"/api/bids/{plan['bid_id']}/files/{file_id}/parts/1",
            content=blob,
            headers={**headers, "content-type": "application/octet-stream"},
        )
        if response.status_code == 409:
            return "refused", time.perf_counter() - started
        response.raise_for_status()
        response = await client.post(f"/api/bids/{plan['bid_id']}/submit", headers=headers)
        if response.status_code == 409:
            return "refused", time.perf_counter() - started
        response.raise_for_status()
        assert response.json()["receipt"]["bid_id"] == plan["bid_id"]
        return "receipt", time.perf_counter() - started
    except (httpx.HTTPError, AssertionError, KeyError) as exc:
        return f"error: {exc}", time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bidders", type=int, default=1000)
    parser.add_argument("--window", type=float, default=50)
    args = parser.parse_args()
    with served_platform("zhaocai_rush") as base:
        setup_seconds = 30 + args.bidders * 0.15
        deadline = datetime.now(UTC) + timedelta(seconds=setup_seconds + args.window)
        lot_id, bidders = asyncio.run(prepare(args.bidders, deadline))
        wait_until_serving(base)
        key = asyncio.run(public_opening_key(lot_id))
        public = load_public_key(base64.b64decode(key["public_key"]))
        late_count = max(1, args.bidders // 20)
        results = asyncio.run(
            rush(base, lot_id, bidders, public, deadline, args.window, late_count)
        )
        stored = asyncio.run(submitted_count(lot_id))
    report_rush(
        results,
        stored,
        bench="deadline_rush",
        who="bidders",
        count=args.bidders,
        window=args.window,
        p99_goal_s=2,
    )


async def rush(
    base: str,
    lot_id: int,
    bidders: list[tuple[str, int]],
    public: Any,
    deadline: datetime,
    window: float,
    late_count: int,
) -> list[dict[str, Any]]:
    """Log everyone in, seal, then fire each bid at its moment; returns one result each."""
    limit = asyncio.Semaphore(50)

    async def logged_in(username: str) -> httpx.AsyncClient:
        async with limit:
            return await login(base, username, request_timeout_s=30)

    clients = await asyncio.gather(*(logged_in(u) for u, _ in bidders))
    blobs = [
        sealed_price(public, lot_id, org, f"{1000 + i}.00") for i, (_, org) in enumerate(bidders)
    ]
    deadline_epoch = deadline.timestamp()
    moments = [deadline_epoch - random.uniform(0.5, window) for _ in bidders]
    for i in random.sample(range(len(bidders)), late_count):
        moments[i] = deadline_epoch + random.uniform(0.05, 3)
    if moments and min(moments) < time.time():
        raise RuntimeError("setup took longer than planned; raise the setup allowance")

    async def one(i: int) -> dict[str, Any]:
        await asyncio.sleep(max(0.0, moments[i] - time.time()))
        started = time.time()
        outcome, seconds = await submit(clients[i], lot_id, blobs[i])
        return {
            "outcome": outcome,
            "seconds": seconds,
            "started": started,
            "late": moments[i] >= deadline_epoch,
            "deadline_epoch": deadline_epoch,
        }

    try:
        return await asyncio.gather(*(one(i) for i in range(len(bidders))))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


if __name__ == "__main__":
    main()
