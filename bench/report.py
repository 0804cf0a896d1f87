"""The monthly report over 1,000,000 awarded lots on PostgreSQL. Goal: < 5 s.

Creates its own database, migrates it, generates lots spread over 24 months (100 lots per
project, 20 purchasing units, every category and method) with asyncpg ``COPY``, then times
the statistics of one month (the table of seed 000 section 二), and the twelve-month trend
the report page also draws. Last line: JSON.

Usage: python bench/report.py [--lots 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from tests.services import Services, create_database  # noqa: E402

LOTS_PER_PROJECT = 100
UNITS = 20
KINDS = [
    ("goods", "open_tender"),
    ("goods", "price_inquiry"),
    ("services", "competitive_negotiation"),
    ("works", "open_tender"),
]


async def generate(dsn: str, lots: int) -> None:
    """Organisations, a user, projects and awarded lots, with COPY."""
    rng = random.Random(8)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    connection = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        await connection.copy_records_to_table(
            "organisation",
            records=[
                (f"单位{i}", "purchasing_unit", f"BENCHRPT{i:010d}", now) for i in range(UNITS)
            ],
            columns=["name", "kind", "credit_code", "created_at"],
        )
        org_ids = [r["id"] for r in await connection.fetch("SELECT id FROM organisation")]
        user_id = await connection.fetchval(
            "INSERT INTO app_user (username, password_hash, display_name, role, created_at) "
            "VALUES ('bench', 'x', 'bench', 'purchaser', $1) RETURNING id",
            now,
        )
        projects = (lots + LOTS_PER_PROJECT - 1) // LOTS_PER_PROJECT
        project_rows = []
        for i in range(projects):
            category, method = KINDS[i % len(KINDS)]
            published = start + timedelta(days=rng.uniform(0, 700))
            project_rows.append(
                (
                    f"ZC-BENCH-{i:07d}",
                    f"基准项目 {i}",
                    org_ids[i % UNITS],
                    category,
                    method,
                    0,
                    published,
                    published + timedelta(days=7),
                    published + timedelta(days=21),
                    published + timedelta(days=21),
                    user_id,
                    published,
                    published,
                )
            )
        await connection.copy_records_to_table(
            "project",
            records=project_rows,
            columns=[
                "code",
                "title",
                "purchaser",
                "category",
                "method",
                "budget_fen",
                "documents_from",
                "documents_until",
                "bid_deadline",
                "opening_time",
                "created_by",
                "created_at",
                "published_at",
            ],
        )
        rows = await connection.fetch("SELECT id, category, published_at FROM project ORDER BY id")
        batch = []
        made = 0
        for project in rows:
            for number in range(1, LOTS_PER_PROJECT + 1):
                if made == lots:
                    break
                made += 1
                budget = rng.randint(1_000_00, 50_000_000_00)
                award = budget - rng.randint(0, budget // 5)
                reserve = budget if project["category"] == "works" else None
                awarded = project["published_at"] + timedelta(days=rng.uniform(21, 40))
                batch.append(
                    (
                        project["id"],
                        number,
                        f"标段 {number}",
                        budget,
                        reserve,
                        "awarded",
                        award,
                        award,
                        awarded,
                        awarded,
                        awarded,
                    )
                )
            if len(batch) >= 100_000:
                await copy_lots(connection, batch)
                batch = []
        await copy_lots(connection, batch)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def copy_lots(connection: asyncpg.Connection, batch: Sequence[tuple[Any, ...]]) -> None:
    if batch:
        await connection.copy_records_to_table(
            "lot",
            records=batch,
            columns=[
                "project",
                "number",
                "title",
                "budget_fen",
                "reserve_price_fen",
                "status",
                "award_amount_fen",
                "contract_amount_fen",
                "awarded_at",
                "concluded_at",
                "updated_at",
            ],
        )


async def measure(dsn: str) -> tuple[float, float, int]:
    """Seconds for the month's statistics and for the twelve-month trend (best of 3)."""
    from bidding.statistics import register_statistics
    from procurement.db import bind_engine, engine_for
    from procurement.reports import monthly_trend, parse_filters, period_report
    from zhaocai.wiring import all_tables

    bind_engine(engine_for(dsn), all_tables())
    register_statistics()  # as the app does: the report joins bidding's bid counts
    filters = parse_filters({"month": "2025-11"}, today=date(2025, 11, 30))
    report_times, trend_times = [], []
    events = 0
    for _ in range(3):
        started = time.perf_counter()
        report = await period_report(filters)
        report_times.append(time.perf_counter() - started)
        events = report.government.events + report.works.events
        started = time.perf_counter()
        await monthly_trend(filters)
        trend_times.append(time.perf_counter() - started)
    return min(report_times), min(trend_times), events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lots", type=int, default=1_000_000)
    args = parser.parse_args()
    services = Services()
    try:
        dsn = create_database(services.ensure_postgres(), "zhaocai_bench_report")
        data_dir = tempfile.mkdtemp(prefix="zhaocai-bench-")
        env = {
            **os.environ,
            "ZHAOCAI_DATABASE_URL": dsn,
            "ZHAOCAI_DATA_DIR": data_dir,
            "ZHAOCAI_STORAGE_URL": f"file://{data_dir}/objects",
            "ZHAOCAI_SECRET_KEY": "bench",
        }
        subprocess.run(
            [sys.executable, "-m", "zhaocai", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        asyncio.run(generate(dsn, args.lots))
        generate_s = time.perf_counter() - started
        report_s, trend_s, events = asyncio.run(measure(dsn))
    finally:
        services.stop()
    print(f"generated {args.lots:,} awarded lots in {generate_s:.1f} s")
    print(f"monthly report (2025-11, {events:,} events): {report_s:.3f} s (goal < 5 s)")
    print(f"twelve-month trend: {trend_s:.3f} s")
    print(
        json.dumps(
            {
                "bench": "report",
                "lots": args.lots,
                "report_s": round(report_s, 3),
                "trend_s": round(trend_s, 3),
                "events": events,
                "generate_s": round(generate_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
