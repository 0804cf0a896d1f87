"""Requests per second of the public notice list against a trivial endpoint, same run.

PostgreSQL with 1,000 published notices, the app served by uvicorn with its pooled
connections (ARCHITECTURE §10), loaded from this process over loopback for a bounded time.
Goal: notice list ≥ 0.10 × the trivial endpoint. Last line: JSON.

Usage: python bench/portal.py [--notices 1000] [--seconds 8] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.services import Services, create_database, free_port  # noqa: E402


def environment(dsn: str, data_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "ZHAOCAI_DATABASE_URL": dsn,
        "ZHAOCAI_DATA_DIR": data_dir,
        "ZHAOCAI_STORAGE_URL": f"file://{data_dir}/objects",
        "ZHAOCAI_SECRET_KEY": "bench",
        "ZHAOCAI_DATABASE_POOL_SIZE": "20",
    }


async def seed(notices: int) -> None:
    """One purchasing unit, one project per notice (as the portal would hold them)."""
    from datetime import UTC, datetime, timedelta

    from procurement.tables import Notice, Organisation, Project, User

    now = datetime.now(UTC)
    org = Organisation(
        name="基准测试医院",
        kind="purchasing_unit",
        credit_code="BENCH0000000000001",
        status="approved",
        created_at=now,
    )
    await org.save()
    user = User(
        username="bench",
        password_hash="x",
        display_name="bench",
        role="purchaser",
        organisation=org.id,
        created_at=now,
    )
    await user.save()
    projects = [
        Project(
            code=f"ZC-BENCH-{i:05d}",
            title=f"基准项目 {i}",
            purchaser=org.id,
            category="goods",
            method="open_tender",
            budget_fen=100_000_00,
            documents_from=now,
            documents_until=now + timedelta(days=7),
            bid_deadline=now + timedelta(days=30),
            opening_time=now + timedelta(days=30),
            created_by=user.id,
            created_at=now,
            published_at=now,
        )
        for i in range(notices)
    ]
    await Project.insert(*projects)
    ids = [r["id"] for r in await Project.select(Project.id).order_by(Project.id)]
    await Notice.insert(
        *[
            Notice(
                project=pid,
                kind="tender",
                title=f"基准项目 {i} 采购公告",
                body="正文",
                published_at=now - timedelta(minutes=i),
            )
            for i, pid in enumerate(ids)
        ]
    )


async def load(url: str, seconds: float, concurrency: int) -> float:
    """Requests per second completed with 200 by ``concurrency`` clients for ``seconds``."""
    done = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop:
                response = await client.get(url)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    services = Services()
    server: subprocess.Popen[bytes] | None = None
    try:
        dsn = create_database(services.ensure_postgres(), "zhaocai_bench_portal")
        data_dir = tempfile.mkdtemp(prefix="zhaocai-bench-")
        env = environment(dsn, data_dir)
        subprocess.run(
            [sys.executable, "-m", "zhaocai", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        from procurement.db import bind_engine, engine_for
        from zhaocai.wiring import all_tables

        bind_engine(engine_for(dsn), all_tables())
        asyncio.run(seed(args.notices))
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "zhaocai.asgi:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/hello", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        list_url = base + "/notices?lang=zh"
        assert "基准项目 0 采购公告" in httpx.get(list_url).text
        asyncio.run(load(list_url, 1, args.concurrency))  # warm-up
        notice_rps = asyncio.run(load(list_url, args.seconds, args.concurrency))
        hello_rps = asyncio.run(load(base + "/hello", args.seconds, args.concurrency))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        services.stop()
    ratio = notice_rps / hello_rps
    print(f"notice list ({args.notices} notices, page of 20): {notice_rps:,.0f} req/s")
    print(f"trivial endpoint:                      {hello_rps:,.0f} req/s")
    print(f"ratio: {ratio:.3f} (goal ≥ 0.10)")
    print(
        json.dumps(
            {
                "bench": "portal",
                "notice_list_rps": round(notice_rps, 1),
                "hello_rps": round(hello_rps, 1),
                "ratio": round(ratio, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
