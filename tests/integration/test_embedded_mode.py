"""The embedded default does the whole job with nothing installed: SQLite, a local object
directory and a broker in a folder, scheduled work included.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.services import free_port

pytestmark = pytest.mark.integration


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHAOCAI_")}
    env.update({"ZHAOCAI_DATA_DIR": str(data_dir), "ZHAOCAI_SWEEP_SECONDS": "1"})
    return env


def zhaocai(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zhaocai", *args],
        env=embedded_env(data_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_migrations_demo_data_and_audit_chain_on_sqlite(tmp_path: Path) -> None:
    assert zhaocai(tmp_path, "migrate").returncode == 0
    assert zhaocai(tmp_path, "migrate").returncode == 0  # idempotent
    demo = zhaocai(tmp_path, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "demo data loaded" in demo.stdout
    again = zhaocai(tmp_path, "demo")
    assert "nothing loaded" in again.stdout
    verify = zhaocai(tmp_path, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    with sqlite3.connect(tmp_path / "zhaocai.sqlite3") as db:
        states = dict(db.execute("SELECT status, count(*) FROM lot GROUP BY status").fetchall())
    assert {"published", "bidding_closed", "awarded", "failed"} <= set(states)
    with sqlite3.connect(tmp_path / "zhaocai.sqlite3") as db:
        prices = [r[0] for r in db.execute("SELECT declared_price_fen FROM opening_record")]
    assert sorted(prices) == [332_670_000, 339_800_000, 345_500_000]


def test_run_serves_the_portal_and_its_beat_closes_due_lots(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "zhaocai", "run", "--port", str(port)],
        env=embedded_env(tmp_path),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        # migrating and loading the demo first: a minute alone, longer on a busy machine
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            process.terminate()
            output, _ = process.communicate(timeout=60)
            pytest.fail(
                f"`zhaocai run` did not serve (exit {process.returncode}):\n{output[-3000:]}"
            )
        health = httpx.get(base + "/health", timeout=10).json()
        assert health["checks"] == {"database": "ok", "object_store": "ok", "broker": "ok"}
        assert "医学影像设备采购项目" in httpx.get(base + "/notices?lang=zh").text
        # a message file left empty (by another program, or a crash mid-write) is dropped;
        # it used to stop the worker, and with it the whole `zhaocai run`
        queue = tmp_path / "broker" / "queue"
        (queue / "0000000001_00000000-0000-0000-0000-000000000000.celery.msg").write_bytes(b"")
        # make one open lot overdue; the beat's sweep (every second here) must close it
        with sqlite3.connect(tmp_path / "zhaocai.sqlite3") as db:
            lot_id, project_id = db.execute(
                "SELECT id, project FROM lot WHERE status = 'published' ORDER BY id LIMIT 1"
            ).fetchone()
            db.execute(
                "UPDATE project SET bid_deadline = '2026-01-05 00:00:00+00:00' WHERE id = ?",
                (project_id,),
            )
        status = ""
        for _ in range(60):
            with sqlite3.connect(tmp_path / "zhaocai.sqlite3") as db:
                status = db.execute("SELECT status FROM lot WHERE id = ?", (lot_id,)).fetchone()[0]
            if status == "failed":  # closed by the sweep; no bids, so no opening
                break
            time.sleep(1)
        assert status == "failed"
        assert process.poll() is None  # still serving
        assert httpx.get(base + "/hello", timeout=10).status_code == 200
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=60)
    assert "Zhaocai is running at" in output
    assert "supervisor" in output
    assert "an unreadable message file in queue 'celery' was dropped" in output
