"""End-to-end fixtures: the app served by uvicorn in a subprocess, and Debian's Chromium."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from procurement.db import bind_engine, engine_for
from procurement.settings import Settings
from storage import open_object_store
from tests.conftest import ROOT, truncate_all
from zhaocai.wiring import all_tables, configure_packages

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser build)."""
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


def screenshot_path(name: str) -> Path:
    """Where a test keeps the screenshot of a page, for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / f"{name}.png"


T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a test that drives Playwright's sync API (its loop is busy)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def rows(query: Any) -> list[dict[str, Any]]:
    """The rows of a piccolo ``select``, awaited inside :func:`run_async`."""
    return list(await query)


@pytest.fixture
def database(settings: Settings) -> None:
    """The test database, bound in this process (packages wired as the app does), emptied."""
    bind_engine(engine_for(settings.database_url), all_tables())
    configure_packages(settings, open_object_store(settings.storage_url))
    run_async(truncate_all())
