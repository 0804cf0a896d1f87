"""The platform served for a load benchmark: its own database and bucket, uvicorn, workers.

Shared by the rush benchmarks (bids at a deadline, quotes at an inquiry's deadline), which
must measure the same server set-up to be comparable: PostgreSQL with a pool of 10, S3,
two uvicorn workers, no access log. Tables are bound in this process too, so a benchmark
prepares its data through the services and reads back what was stored.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bidding.tables import Bid  # noqa: E402
from procurement.accounts import hash_password  # noqa: E402
from procurement.db import bind_engine, engine_for  # noqa: E402
from procurement.settings import Settings  # noqa: E402
from procurement.tables import Organisation, User  # noqa: E402
from storage import open_object_store  # noqa: E402
from tests.conftest import settings_env  # noqa: E402
from tests.factories import PASSWORD, credit_code  # noqa: E402
from tests.services import Services, create_database, free_port  # noqa: E402
from zhaocai.wiring import all_tables, configure_packages  # noqa: E402


@contextmanager
def served_platform(prefix: str) -> Iterator[str]:
    """Yield the base URL of the app served on a fresh database and bucket named ``prefix``.

    Starts whatever service is not running and stops what it started, and the server, on exit.
    """
    services = Services()
    server: subprocess.Popen[bytes] | None = None
    work = Path(tempfile.mkdtemp(prefix=f"{prefix.replace('_', '-')}-"))
    try:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        settings = replace(
            Settings.from_env({"ZHAOCAI_DATA_DIR": str(work)}),
            database_url=create_database(services.ensure_postgres(), name),
            storage_url=f"s3://k:s@{services.ensure_s3()}/{name.replace('_', '-')}?secure=false",
            login_attempts_per_minute=1_000_000,
        )
        env = {**settings_env(settings), "ZHAOCAI_DATABASE_POOL_SIZE": "10"}
        subprocess.run(
            [sys.executable, "-m", "zhaocai", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        bind_engine(engine_for(settings.database_url), all_tables())
        configure_packages(settings, open_object_store(settings.storage_url))
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "zhaocai.asgi:app",
                "--port",
                str(port),
                "--workers",
                "2",
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=ROOT,
        )
        yield f"http://127.0.0.1:{port}"
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        services.stop()


def wait_until_serving(base: str, seconds: float = 30) -> None:
    """Wait for the served app to answer (uvicorn's workers take a few seconds)."""
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        try:
            if httpx.get(base + "/hello", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"the app at {base} did not answer in {seconds:.0f} s")


async def approved_suppliers(count: int, categories: str = "") -> list[tuple[str, int]]:
    """``count`` approved small suppliers with one login each (``rush<i>``), inserted in bulk.

    Returns (username, organisation id) pairs; every password is the tests' ``PASSWORD``.
    """
    now = datetime.now(UTC)
    password_hash = hash_password(PASSWORD)
    await Organisation.insert(
        *[
            Organisation(
                name=f"供应商 {i}",
                kind="supplier",
                credit_code=credit_code(10_000 + i),
                enterprise_size="small",
                categories=categories,
                status="approved",
                created_at=now,
            )
            for i in range(count)
        ]
    )
    rows = (
        await Organisation.select(Organisation.id)
        .where(Organisation.kind == "supplier")
        .order_by(Organisation.id)
    )
    await User.insert(
        *[
            User(
                username=f"rush{i}",
                password_hash=password_hash,
                display_name=f"rush{i}",
                role="bidder",
                organisation=row["id"],
                status="active",
                created_at=now,
            )
            for i, row in enumerate(rows)
        ]
    )
    return [(f"rush{i}", int(row["id"])) for i, row in enumerate(rows)]


async def login(base: str, username: str, request_timeout_s: float = 120) -> httpx.AsyncClient:
    """A client with the session and CSRF cookies of ``username``."""
    client = httpx.AsyncClient(base_url=base, timeout=request_timeout_s)
    response = await client.post("/api/session", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    await client.get("/api/session")
    return client


async def submitted_count(lot_id: int) -> int:
    """Bids stored as submitted: what the opening will find."""
    return int(await Bid.count().where((Bid.lot == lot_id) & (Bid.status == "submitted")))


def report_rush(
    results: list[dict[str, Any]],
    stored: int,
    *,
    bench: str,
    who: str,
    count: int,
    window: float,
    p99_goal_s: float,
) -> None:
    """Print a rush's figures and its last line of JSON.

    Lost: a submission sent more than 5 s before the deadline without a receipt, plus any
    difference between receipts and bids stored as submitted.
    """
    on_time = [r for r in results if not r["late"]]
    late = [r for r in results if r["late"]]
    receipts = sorted(r["seconds"] for r in on_time if r["outcome"] == "receipt")
    errors = [r for r in results if r["outcome"].startswith("error")]
    lost = len(
        [r for r in on_time if r["outcome"] != "receipt" and r["started"] < r["deadline_epoch"] - 5]
    ) + abs(stored - len(receipts))
    late_accepted = len([r for r in late if r["outcome"] == "receipt"])
    p99 = receipts[int(0.99 * (len(receipts) - 1))] if receipts else float("nan")
    median = receipts[len(receipts) // 2] if receipts else float("nan")
    print(f"{who} {count} in the last {window:.0f} s, {len(late)} after the deadline")
    print(f"receipts {len(receipts)}, stored submitted {stored}, errors {len(errors)}")
    for error in errors[:3]:
        print("  e.g.", error["outcome"][:200])
    print(f"late ones refused {len(late) - late_accepted} of {len(late)}")
    print(f"time to receipt: median {median:.3f} s, p99 {p99:.3f} s")
    print(f"lost {lost} (goal 0), p99 {p99:.2f} s (goal < {p99_goal_s:g} s)")
    print(
        json.dumps(
            {
                "bench": bench,
                who: count,
                "lost": lost,
                "p99_receipt_s": round(p99, 3),
                "late_accepted": late_accepted,
            }
        )
    )
