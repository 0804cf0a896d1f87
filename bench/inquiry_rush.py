"""The last minute of a price inquiry: 500 invited suppliers quoting at once.

--suppliers suppliers (default 500), all invited to one price inquiry (open to every
registered supplier of goods), each send their one quote through the JSON API a supplier's
own system uses (POST /api/inquiries/<id>/quote: lines, delivery, declarations; sealed on
arrival on the platform-sealed lot, signed receipt back) at a random moment in the last
--window seconds (default 60) before the deadline, over loopback to the app served by
uvicorn (2 workers) on PostgreSQL and S3; another 5 % try just after the deadline. Goals:
0 lost (every quote sent on time has a receipt and a stored submitted bid), every late one
refused, p99 time to receipt < 1 s. Bounded in time. Last line: JSON with the keys bench,
suppliers, lost, p99_receipt_s.

The quote period is shrunk to seconds through ``TimeLimits`` (the legal 3 working days,
MOF74 Art. 45, cannot be waited for).

Usage: python bench/inquiry_rush.py [--suppliers 500] [--window 60]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime, timedelta
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

from procurement.deadlines import TimeLimits  # noqa: E402
from procurement.inquiries import InquiryDraft, ItemDraft, create_inquiry  # noqa: E402
from procurement.roles import Role  # noqa: E402
from procurement.tables import Inquiry, Project  # noqa: E402
from tests.factories import actor  # noqa: E402

SECONDS = TimeLimits(inquiry_working_days=0, deadline_on_working_day=False)


async def prepare(bidders: int, deadline: datetime) -> tuple[int, int, list[tuple[str, int]]]:
    """``bidders`` approved suppliers of goods with one login each, all invited to one inquiry."""
    purchaser = await actor(Role.PURCHASER)
    suppliers = await approved_suppliers(count=bidders, categories="goods")
    inquiry_id = await create_inquiry(
        purchaser,
        InquiryDraft(
            title="办公电脑询价",
            items=[
                ItemDraft(name="台式电脑", quantity="20", unit="台"),
                ItemDraft(name="显示器", quantity="20", unit="台"),
            ],
            budget="200000",
            delivery_place="采购中心",
            delivery_time="15日内",
            quote_deadline=deadline,
            invitation_mode="open",
        ),
        limits=SECONDS,
    )
    inquiry = await Inquiry.objects().where(Inquiry.id == inquiry_id).first()
    assert inquiry is not None
    return (
        inquiry_id,
        int(inquiry.lot),
        suppliers,
    )


def quote_body(i: int) -> dict[str, Any]:
    """One supplier's quote: both items at the requested quantity, prices differing by cents."""
    return {
        "lines": [
            {"item": 1, "quantity": "20", "unit_price": f"{4000 + i / 100:.2f}"},
            {"item": 2, "quantity": "20", "unit_price": "900.00"},
        ],
        "delivery_days": 15,
        "declarations": "满足全部实质性要求",
    }


async def submit(client: httpx.AsyncClient, inquiry_id: int, i: int) -> tuple[str, float]:
    """One quote request; returns ("receipt" | "refused" | "error: …", seconds)."""
    headers = {"x-csrftoken": client.cookies.get("zc_csrf") or ""}
    started = time.perf_counter()
    try:
        response = await client.post(
            f"/api/inquiries/{inquiry_id}/quote", headers=headers, json=quote_body(i)
        )
        if response.status_code == 409:
            return "refused", time.perf_counter() - started
        if response.status_code >= 400:
            return f"error: {response.status_code} {response.text[:150]}", 0.0
        assert response.json()["receipt"]["bidder_id"] > 0
        return "receipt", time.perf_counter() - started
    except (httpx.HTTPError, AssertionError, KeyError) as exc:
        return f"error: {exc}", time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suppliers", type=int, default=500)
    parser.add_argument("--window", type=float, default=60)
    args = parser.parse_args()
    with served_platform("zhaocai_inquiry_rush") as base:
        # a provisional deadline; the real one is set once every supplier is logged in
        provisional = datetime.now(UTC) + timedelta(hours=1)
        inquiry_id, lot_id, bidders = asyncio.run(prepare(args.suppliers, provisional))
        wait_until_serving(base)
        late_count = max(1, args.suppliers // 20)
        results = asyncio.run(rush(base, inquiry_id, bidders, args.window, late_count))
        stored = asyncio.run(submitted_count(lot_id))
    report_rush(
        results,
        stored,
        bench="inquiry_rush",
        who="suppliers",
        count=args.suppliers,
        window=args.window,
        p99_goal_s=1,
    )


async def rush(
    base: str,
    inquiry_id: int,
    bidders: list[tuple[str, int]],
    window: float,
    late_count: int,
) -> list[dict[str, Any]]:
    """Log everyone in, then fire each quote at its moment; returns one result each."""
    limit = asyncio.Semaphore(8)  # argon2 logins: a few at a time never time out

    async def logged_in(username: str) -> httpx.AsyncClient:
        async with limit:
            return await login(base, username)

    clients = await asyncio.gather(*(logged_in(u) for u, _ in bidders))
    deadline = datetime.now(UTC) + timedelta(seconds=window + 2)
    inquiry = await Inquiry.objects().where(Inquiry.id == inquiry_id).first()
    assert inquiry is not None
    await Project.update({Project.bid_deadline: deadline, Project.opening_time: deadline}).where(
        Project.id == inquiry.project
    )
    deadline_epoch = deadline.timestamp()
    moments = [deadline_epoch - random.uniform(0.5, window) for _ in bidders]
    for i in random.sample(range(len(bidders)), late_count):
        moments[i] = deadline_epoch + random.uniform(0.05, 3)
    if moments and min(moments) < time.time():
        raise RuntimeError("setup took longer than planned; raise the setup allowance")

    async def one(i: int) -> dict[str, Any]:
        await asyncio.sleep(max(0.0, moments[i] - time.time()))
        started = time.time()
        outcome, seconds = await submit(clients[i], inquiry_id, i)
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
