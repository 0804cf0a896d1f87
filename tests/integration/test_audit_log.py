"""The hash-chained audit log detects edits and deletions made directly in the database."""

from __future__ import annotations

import pytest
from litestar import Litestar

from procurement import audit
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import AuditEntry
from tests.conftest import run_cli
from tests.factories import actor

pytestmark = pytest.mark.integration


async def write_entries(count: int) -> None:
    for i in range(count):
        await audit.record(
            "test.event", subject_type="thing", subject_id=i, payload={"n": i, "text": "投标"}
        )


async def test_intact_chain_verifies(app: Litestar, settings: Settings) -> None:
    await actor(Role.ADMIN)
    await write_entries(5)
    result = run_cli(settings, "audit", "verify")
    assert result.returncode == 0
    assert "intact: 6 entries verified" in result.stdout


async def test_edited_entry_is_named(app: Litestar, settings: Settings) -> None:
    await write_entries(6)
    await AuditEntry.raw("UPDATE audit_entry SET payload = '{\"n\":99}' WHERE seq = 4")
    result = run_cli(settings, "audit", "verify", check=False)
    assert result.returncode == 1
    assert "BROKEN at entry 4" in result.stderr
    assert "modified" in result.stderr


async def test_deleted_entry_is_named(app: Litestar, settings: Settings) -> None:
    await write_entries(6)
    await AuditEntry.raw("DELETE FROM audit_entry WHERE seq = 3")
    result = run_cli(settings, "audit", "verify", check=False)
    assert result.returncode == 1
    assert "BROKEN at entry 4" in result.stderr
    assert "deleted or inserted" in result.stderr


async def test_rewritten_chain_tail_is_still_caught_by_its_first_link(
    app: Litestar, settings: Settings
) -> None:
    await write_entries(4)
    await AuditEntry.raw("UPDATE audit_entry SET actor = 'mallory' WHERE seq = 2")
    await AuditEntry.raw("UPDATE audit_entry SET entry_hash = repeat('0', 64) WHERE seq = 2")
    result = run_cli(settings, "audit", "verify", check=False)
    assert "BROKEN at entry 2" in result.stderr


async def test_concurrent_appends_keep_one_chain(app: Litestar) -> None:
    import asyncio

    await asyncio.gather(*(audit.record("race", subject_id=i) for i in range(20)))
    verification = await audit.verify_audit_log()
    assert verification.intact
    assert verification.entries == 20
