"""Fixtures: real services, a fresh migrated PostgreSQL database, the app, a Celery worker.

Pure unit tests use none of these. Anything that talks to a service asks for the
``settings`` fixture, which starts PostgreSQL, Redis and SeaweedFS if they are not running
(and stops them at the end), creates a database of its own and migrates it with the real
``zhaocai migrate`` command.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
import redis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.i18n import UNTRANSLATED
from procurement.settings import Settings
from tests.services import Services, create_database, free_port

ROOT = Path(__file__).resolve().parent.parent


class _Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(autouse=True)
def every_shown_message_has_its_chinese(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose pages showed a message the Chinese catalog lacks.

    The catalog test reads literal messages from the source; labels, flash messages and
    error templates chosen at run time are seen only here, as the translator logs them.
    """
    if request.node.get_closest_marker("shows_untranslated"):
        yield
        return
    recorder = _Recorder()
    logger = logging.getLogger("procurement.i18n")
    logger.addHandler(recorder)
    try:
        yield
    finally:
        logger.removeHandler(recorder)
    if recorder.messages:
        pytest.fail("shown without Chinese:\n" + "\n".join(recorder.messages), pytrace=False)


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    """The real services, started if they were not running."""
    handle = Services()
    try:
        yield handle
    finally:
        handle.stop()


def settings_env(settings: Settings) -> dict[str, str]:
    """Environment variables that make a subprocess (CLI, worker) use ``settings``."""
    return {
        **os.environ,
        "ZHAOCAI_DATA_DIR": str(settings.data_dir),
        "ZHAOCAI_DATABASE_URL": settings.database_url,
        "ZHAOCAI_STORAGE_URL": settings.storage_url,
        "ZHAOCAI_BROKER_URL": settings.broker_url,
        "ZHAOCAI_REDIS_URL": settings.redis_url or "",
        "ZHAOCAI_SECRET_KEY": settings.secret_key.hex(),
        "ZHAOCAI_BASE_URL": settings.base_url,
        "ZHAOCAI_SWEEP_SECONDS": str(settings.sweep_seconds),
        "ZHAOCAI_LOGIN_ATTEMPTS_PER_MINUTE": str(settings.login_attempts_per_minute),
        "ZHAOCAI_DATABASE_POOL_SIZE": "5",
    }


def run_cli(settings: Settings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the ``zhaocai`` command against ``settings``' database."""
    return subprocess.run(
        [sys.executable, "-m", "zhaocai", *args],
        env=settings_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


@pytest.fixture(scope="session")
def settings(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for PostgreSQL + SeaweedFS S3 + Redis, with a freshly migrated database."""
    admin_dsn = services.ensure_postgres()
    redis_url = services.ensure_redis()
    s3 = services.ensure_s3()
    name = f"zhaocai_test_{uuid.uuid4().hex[:8]}"
    # two test runs on one machine keep their Celery queues apart by Redis database
    redis_db = int(os.environ.get("ZHAOCAI_TEST_REDIS_DB", "1"))
    dsn = create_database(admin_dsn, name)
    data_dir = tmp_path_factory.mktemp("data")
    base = Settings.from_env({"ZHAOCAI_DATA_DIR": str(data_dir)})
    result = replace(
        base,
        database_url=dsn,
        storage_url=f"s3://test:test@{s3}/{name.replace('_', '-')}?secure=false",
        broker_url=f"{redis_url}/{redis_db}",
        redis_url=f"{redis_url}/{redis_db + 1}",
        secret_key=b"test-secret-key-for-sessions-0123",
        login_attempts_per_minute=100_000,
        sweep_seconds=2.0,
        # in-process clients run the app in another event loop: no shared pool
        database_pool_size=0,
    )
    run_cli(result, "migrate")
    return result


async def truncate_all() -> None:
    """Empty every table between tests (PostgreSQL: one TRUNCATE ... CASCADE).

    Identities are not restarted: the session's Celery beat keeps sweeping, and a sweep
    that read the previous test's rows must fail on its foreign keys rather than write
    into the next test's rows under reused ids. Such a sweep can also make PostgreSQL pick
    the TRUNCATE as a deadlock victim, which is retried.
    """
    from asyncpg.exceptions import DeadlockDetectedError

    from zhaocai.wiring import all_tables

    tables = all_tables()
    names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
    for attempt in range(5):
        try:
            await tables[0].raw(f"TRUNCATE {names} CASCADE")
            return
        except DeadlockDetectedError:
            if attempt == 4:
                raise
            await asyncio.sleep(0.2 * (attempt + 1))


@pytest.fixture
async def app(settings: Settings) -> Litestar:
    """The application on the test database, emptied before each test."""
    from zhaocai.app import create_app

    application = create_app(settings)
    await truncate_all()
    return application


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """An HTTP client talking to the app in-process (lifespan included)."""
    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def celery_worker(settings: Settings) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process (with beat) on the test broker and database.

    The broker's database is emptied first: tasks an earlier run left queued or unacked
    name rows of that run's database, and would otherwise run here (and could do the work
    a test expects of this session's worker).
    """
    redis.Redis.from_url(settings.broker_url).flushdb()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "zhaocai.celery_app",
            "worker",
            "--beat",
            "--pool=threads",
            "--concurrency=4",
            "--loglevel=INFO",
            f"--schedule={settings.data_dir / 'beat-schedule'}",
        ],
        env=settings_env(settings),
        cwd=ROOT,
        stdout=open(settings.data_dir / "worker.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def live_server(settings: Settings) -> Iterator[str]:
    """The real app on a free port, as ``zhaocai serve`` runs it in production."""
    port = free_port()
    env = settings_env(settings)
    env["ZHAOCAI_BASE_URL"] = f"http://127.0.0.1:{port}"
    log = (settings.data_dir / "web.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "zhaocai", "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=2).status_code in {200, 503}:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(
            "the web server did not start: " + (settings.data_dir / "web.log").read_text()[-2000:]
        )
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
    untranslated = [
        line
        for line in (settings.data_dir / "web.log").read_text(errors="replace").splitlines()
        if UNTRANSLATED in line
    ]
    if untranslated:  # the browser tests' pages, checked as the in-process tests' are
        pytest.fail("shown without Chinese:\n" + "\n".join(untranslated), pytrace=False)
