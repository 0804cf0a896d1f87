"""Sealed upload throughput and server memory: a big bid through the API into S3.

A bid of --mib MiB (default 256; up to 1024) is sealed on the client side to a local file
(not timed: sealing is the bidder's own machine), then uploaded through the API in 8 MiB
parts into S3 (SeaweedFS) and submitted, by the bidder client (three parts in flight);
the same number of bytes is then stored with a plain ``minio`` ``put_object`` to the same
server (three parts in flight too, the SDK's default). Both run --rounds times (default 5),
alternately, each sealed round a new bid replacing the last, and the medians are compared.
The web server's resident memory is sampled throughout, and the CPU seconds of client, web
process and S3 server counted per round (``cpu_s``), with the best ratio those seconds
allow on this machine's cores (``ratio_ceiling``). Goals: throughput ratio ≥ 0.8; server RSS
growth ≤ 64 MiB, the same for small and large bids. Last line: JSON.

Usage: python bench/sealed_upload.py [--mib 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from minio import Minio  # noqa: E402

from bidding.client import ZhaocaiClient  # noqa: E402
from procurement.clock import SYSTEM_CLOCK  # noqa: E402
from procurement.db import bind_engine, engine_for  # noqa: E402
from procurement.roles import Role  # noqa: E402
from procurement.settings import Settings  # noqa: E402
from procurement.tables import Lot  # noqa: E402
from storage import open_object_store  # noqa: E402
from tests.conftest import settings_env  # noqa: E402
from tests.cpu_use import CpuUse, cores, floor_seconds, process_listening_on  # noqa: E402
from tests.factories import PASSWORD, actor, published_project  # noqa: E402
from tests.services import S3_PORT, Services, create_database, free_port  # noqa: E402
from zhaocai.wiring import all_tables, configure_packages  # noqa: E402

MIB = 1024 * 1024


async def prepare(lot_mib: int) -> tuple[str, int]:
    purchaser = await actor(Role.PURCHASER)
    supplier = await actor(Role.BIDDER)
    project_id = await published_project(
        purchaser, custody_mode="platform", deadline=SYSTEM_CLOCK.now() + timedelta(days=25)
    )
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    await Lot.update({Lot.max_bid_mib: lot_mib}).where(Lot.id == lot.id)
    return supplier.username, int(lot.id)


class RssSampler(threading.Thread):
    """Peak resident memory of a process, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = self.process.memory_info().rss
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    if not 1 <= args.mib <= 1024:
        parser.error("--mib must be 1..1024")
    services = Services()
    server: subprocess.Popen[bytes] | None = None
    work = Path(tempfile.mkdtemp(prefix="zhaocai-bench-upload-"))
    try:
        endpoint = services.ensure_s3()
        name = f"zhaocai_bench_{uuid.uuid4().hex[:8]}"
        settings = replace(
            Settings.from_env({"ZHAOCAI_DATA_DIR": str(work / "data")}),
            database_url=create_database(services.ensure_postgres(), name),
            storage_url=f"s3://k:s@{endpoint}/{name.replace('_', '-')}?secure=false",
            login_attempts_per_minute=1000,
        )
        env = settings_env(settings)
        subprocess.run(
            [sys.executable, "-m", "zhaocai", "migrate"],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        bind_engine(engine_for(settings.database_url), all_tables())
        configure_packages(settings, open_object_store(settings.storage_url))
        username, lot_id = asyncio.run(prepare(args.mib + 16))
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
        for _ in range(150):
            try:
                if httpx.get(base + "/hello", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        document = work / "bid.pdf"
        with document.open("wb") as handle:
            for _ in range(args.mib):
                handle.write(os.urandom(MIB))
        client = ZhaocaiClient.login(base, username, PASSWORD)
        client.seal_bid(lot_id, Decimal("1000.00"), {"technical": document}, work / "sealed")
        sealed_bytes = sum(p.stat().st_size for p in (work / "sealed").glob("*.zcb"))
        sampler = RssSampler(server.pid)
        baseline = sampler.peak
        sampler.start()
        minio = Minio(endpoint, access_key="k", secret_key="s", secure=False)
        bucket = f"plain-{uuid.uuid4().hex[:8]}"
        minio.make_bucket(bucket)
        technical = work / "sealed" / "technical.zcb"
        plain_bytes = technical.stat().st_size
        cpu = CpuUse(
            {
                "client": psutil.Process(),
                "web": psutil.Process(server.pid),
                "store": process_listening_on(S3_PORT),
            }
        )
        sealed_times, submit_times, plain_times = [], [], []
        for round_number in range(args.rounds):  # alternate, so both see the same load
            state = work / "sealed" / "state.json"
            state.write_text(json.dumps({**json.loads(state.read_text()), "bid_id": None}))
            with cpu.measure("sealed upload"):
                started = time.perf_counter()
                client.upload_bid(work / "sealed", submit=False)
                parts_done = time.perf_counter()
                receipt = client.submit(work / "sealed")  # replaces the previous round's bid
                finished = time.perf_counter()
            assert receipt["receipt"]["files"]
            sealed_times.append(finished - started)
            submit_times.append(finished - parts_done)
            with cpu.measure("plain put_object"), technical.open("rb") as handle:
                started = time.perf_counter()
                minio.put_object(
                    bucket, f"plain-{round_number}", handle, plain_bytes, part_size=8 * MIB
                )
                plain_times.append(time.perf_counter() - started)
        sampler.running = False
        sampler.join()
        sealed_s = statistics.median(sealed_times)
        submit_s = statistics.median(submit_times)
        plain_s = statistics.median(plain_times)
        print(
            f"median of {args.rounds} rounds: parts {sealed_s - submit_s:.2f} s, "
            f"submit (complete, receipt) {submit_s:.2f} s"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)
        services.stop()
    sealed_mb_s = sealed_bytes / MIB / sealed_s
    plain_mb_s = plain_bytes / MIB / plain_s
    growth = (sampler.peak - baseline) / MIB
    print(
        f"sealed upload through the API: {sealed_bytes / MIB:.0f} MiB in {sealed_s:.2f} s "
        f"({sealed_mb_s:.1f} MiB/s)"
    )
    print(
        f"plain put_object:              {plain_bytes / MIB:.0f} MiB in {plain_s:.2f} s "
        f"({plain_mb_s:.1f} MiB/s)"
    )
    print(
        f"ratio {sealed_mb_s / plain_mb_s:.2f} (goal ≥ 0.8); server RSS growth "
        f"{growth:.1f} MiB (goal ≤ 64)"
    )
    for line in cpu.report():
        print(line)
    # the fastest the sealed upload's CPU work fits on these cores, against the plain put
    ratio_ceiling = plain_s / floor_seconds(cpu.median("sealed upload"))
    print(
        f"on {cores()} cores shared by client, web process and store, the sealed upload's "
        f"CPU work allows a ratio of at most {ratio_ceiling:.2f}"
    )
    print(
        json.dumps(
            {
                "bench": "sealed_upload",
                "sealed_mb_s": round(sealed_mb_s, 1),
                "plain_mb_s": round(plain_mb_s, 1),
                "ratio": round(sealed_mb_s / plain_mb_s, 3),
                "rss_growth_mib": round(growth, 1),
                **cpu.figures(),
                "ratio_ceiling": round(ratio_ceiling, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
