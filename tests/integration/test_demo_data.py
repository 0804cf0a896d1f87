"""Demo data loads on any day of the year: around holidays and across a year boundary."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from procurement.clock import CHINA, FixedClock
from procurement.db import bind_engine, engine_for
from procurement.settings import Settings
from procurement.tables import Lot
from storage import open_object_store
from tests.conftest import run_cli
from zhaocai.demo import load_demo_data
from zhaocai.wiring import all_tables, configure_packages

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "today",
    [
        "2026-01-28",  # Spring Festival ahead
        "2026-05-01",  # Labour Day itself
        "2026-09-29",  # National Day week ahead
        "2026-12-28",  # deadlines in 2027, a year the calendar library does not know
        "2026-11-25",
    ],
)
async def test_demo_loads_with_every_state_on(today: str, tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    settings = replace(
        Settings.from_env({"ZHAOCAI_DATA_DIR": str(tmp_path)}), database_url=database
    )
    run_cli(settings, "migrate")
    bind_engine(engine_for(database), all_tables())
    # as `zhaocai demo` does: the packages hook their handlers (opening keys) to the core
    configure_packages(settings, open_object_store(settings.storage_url))
    clock = FixedClock(datetime.fromisoformat(today).replace(hour=9, tzinfo=CHINA))
    assert await load_demo_data(settings, clock=clock) is True
    statuses = {r["status"] for r in await Lot.select(Lot.status)}
    assert statuses == {"draft", "published", "bidding_closed", "awarded", "failed", "cancelled"}
    assert await load_demo_data(settings, clock=clock) is False
