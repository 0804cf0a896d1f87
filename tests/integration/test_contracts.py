"""Contracts: recording the signed contract of an awarded lot, and its signing deadline.

GPL Art. 46 / TBL Art. 46: the contract is signed within 30 days of the award notice; the
timeliness dashboard shows the lot until its contract is recorded.
"""

from __future__ import annotations

import asyncio
import subprocess
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA, SYSTEM_CLOCK
from procurement.contract_tables import Contract
from procurement.contracts import check_contract, record_contract, signing_due
from procurement.db import bind_engine, engine_for
from procurement.exceptions import Conflict, Forbidden, ValidationError
from procurement.roles import Actor, OrganisationKind, Role
from procurement.settings import Settings
from procurement.tables import AuditEntry, Lot, Notification, Organisation, Project, User
from procurement.timeliness import contracts_due, summarise, warn_overdue
from tests.conftest import run_cli
from tests.factories import actor, csrf, login, organisation
from tests.integration.test_reports import Owner, lot, project
from zhaocai.wiring import all_tables

pytestmark = pytest.mark.integration

TODAY = SYSTEM_CLOCK.now().astimezone(CHINA).date()


async def awarded_lot(
    purchaser: Actor, *, days_ago: float = 2, award_fen: int = 117_580_000, status: str = "awarded"
) -> int:
    """A lot of the purchaser's unit awarded ``days_ago`` days ago to a new supplier."""
    assert purchaser.organisation_id is not None
    assert purchaser.user_id is not None
    who = Owner(purchaser.organisation_id, purchaser.user_id)
    at = SYSTEM_CLOCK.now() - timedelta(days=days_ago)
    project_id = await project(who, category="goods", method="open_tender", published_at=at)
    supplier = await organisation(OrganisationKind.SUPPLIER)
    return await lot(
        project_id,
        budget_fen=120_000_000,
        award_fen=award_fen,
        at=at,
        status=status,
        supplier_id=supplier,
        failure_reason="TOO_FEW_BIDS" if status == "failed" else "",
    )


# --------------------------------------------------------------------------- pure rules


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1),  # noqa: DTZ001 - made aware below
        max_value=datetime(2030, 1, 1),  # noqa: DTZ001
    )
)
def test_the_contract_is_due_at_the_end_of_the_thirtieth_day_after_the_award(
    moment: datetime,
) -> None:
    awarded = moment.replace(tzinfo=CHINA)
    due = signing_due(awarded)
    assert due.astimezone(CHINA).time() == time()
    assert due.astimezone(CHINA).date() == awarded.date() + timedelta(days=31)
    assert timedelta(days=30) < due - awarded <= timedelta(days=31)


AWARDED = datetime(2026, 11, 10, 15, 0, tzinfo=CHINA)


@pytest.mark.parametrize(
    ("status", "awarded_at", "amount", "signed_on", "error", "field"),
    [
        ("evaluating", None, 100, date(2026, 11, 12), Conflict, None),
        ("failed", None, 100, date(2026, 11, 12), Conflict, None),
        ("awarded", AWARDED, 0, date(2026, 11, 12), ValidationError, "amount"),
        ("awarded", AWARDED, -5, date(2026, 11, 12), ValidationError, "amount"),
        ("awarded", AWARDED, 10**16, date(2026, 11, 12), ValidationError, "amount"),
        ("awarded", AWARDED, 100, date(2026, 11, 9), ValidationError, "signed_on"),
        ("awarded", AWARDED, 100, date(2026, 12, 2), ValidationError, "signed_on"),
    ],
)
def test_a_contract_breaking_a_rule_is_refused_with_the_reason(
    status: str,
    awarded_at: datetime | None,
    amount: int,
    signed_on: date,
    error: type[Exception],
    field: str | None,
) -> None:
    with pytest.raises(error) as caught:
        check_contract(
            status=status,
            awarded_at=awarded_at,
            amount_fen=amount,
            signed_on=signed_on,
            today=date(2026, 12, 1),
        )
    assert getattr(caught.value, "field", None) == field


def test_a_contract_signed_on_the_award_day_or_today_is_accepted() -> None:
    for day in (date(2026, 11, 10), date(2026, 12, 1)):
        check_contract(
            status="awarded",
            awarded_at=AWARDED,
            amount_fen=1,
            signed_on=day,
            today=date(2026, 12, 1),
        )


# --------------------------------------------------------------------------- the service


async def test_recording_a_contract_stores_it_updates_the_lot_and_logs_it(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    lot_id = await awarded_lot(purchaser)
    contract_id = await record_contract(purchaser, lot_id, amount_fen=117_000_000, signed_on=TODAY)
    row = await Contract.objects().where(Contract.id == contract_id).first()
    assert row is not None
    assert (row.lot, row.amount_fen, row.signed_on) == (lot_id, 117_000_000, TODAY)
    stored = await Lot.objects().where(Lot.id == lot_id).first()
    assert stored is not None
    assert row.supplier == stored.awarded_supplier
    assert stored.contract_amount_fen == 117_000_000
    entry = await AuditEntry.objects().where(AuditEntry.action == "contract.record").first()
    assert entry is not None
    assert entry.subject_id == str(lot_id)


async def test_a_second_contract_for_the_same_lot_is_a_conflict(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    lot_id = await awarded_lot(purchaser)
    await record_contract(purchaser, lot_id, amount_fen=100, signed_on=TODAY)
    with pytest.raises(Conflict):
        await record_contract(purchaser, lot_id, amount_fen=200, signed_on=TODAY)
    assert await Contract.count().where(Contract.lot == lot_id) == 1


async def test_a_failed_lot_or_another_units_lot_gets_no_contract(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    failed = await awarded_lot(purchaser, status="failed")
    with pytest.raises(Conflict):
        await record_contract(purchaser, failed, amount_fen=100, signed_on=TODAY)
    other = await actor(Role.PURCHASER)
    theirs = await awarded_lot(other)
    with pytest.raises(Forbidden):
        await record_contract(purchaser, theirs, amount_fen=100, signed_on=TODAY)
    assert await Contract.count() == 0


# --------------------------------------------------------------------------- the page


async def test_the_purchaser_records_the_contract_on_its_page(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    lot_id = await awarded_lot(purchaser)
    await login(client, purchaser.username)
    page = await client.get(f"/purchaser/lots/{lot_id}/contract")
    assert page.status_code == 200
    assert 'id="record-contract"' in page.text
    award_day = (SYSTEM_CLOCK.now() - timedelta(days=2)).astimezone(CHINA).date()
    assert f'id="sign-by">{award_day + timedelta(days=30)}' in page.text
    url = f"/purchaser/lots/{lot_id}/contract"
    for form, status in (
        ({"amount": "abc", "signed_on": TODAY.isoformat()}, 400),
        ({"amount": "1.234", "signed_on": TODAY.isoformat()}, 400),
        ({"amount": "0", "signed_on": TODAY.isoformat()}, 400),
        ({"amount": "100", "signed_on": "yesterday"}, 400),
        ({"amount": "100", "signed_on": (TODAY - timedelta(days=9)).isoformat()}, 400),
        ({"amount": "100", "signed_on": (TODAY + timedelta(days=1)).isoformat()}, 400),
    ):
        refused = await client.post(url, data={**form, **csrf(client)})
        assert refused.status_code == status, form
        assert 'role="alert"' in refused.text
        assert 'id="record-contract"' in refused.text  # the form again, with the input
    assert await Contract.count() == 0
    done = await client.post(
        url,
        data={"amount": "1,175,800.00", "signed_on": TODAY.isoformat(), **csrf(client)},
        follow_redirects=False,
    )
    assert done.status_code in {302, 303}
    shown = await client.get(done.headers["location"])
    assert "1,175,800.00" in shown.text
    assert 'id="record-contract"' not in shown.text
    again = await client.post(
        url, data={"amount": "5", "signed_on": TODAY.isoformat(), **csrf(client)}
    )
    assert again.status_code == 409
    stored = await Lot.objects().get(Lot.id == lot_id)
    assert stored is not None
    project_page = await client.get(f"/purchaser/projects/{stored.project}")
    assert f"/purchaser/lots/{lot_id}/contract" in project_page.text


# --------------------------------------------------------------------------- the API


def api_headers(client: AsyncTestClient[Litestar]) -> dict[str, str]:
    return {"x-csrftoken": client.cookies.get("zc_csrf") or ""}


async def test_the_json_api_records_and_reads_the_contract(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    lot_id = await awarded_lot(purchaser)
    await login(client, purchaser.username)
    url = f"/api/lots/{lot_id}/contract"
    bad: list[dict[str, Any]] = [
        {"amount_fen": "100", "signed_on": TODAY.isoformat()},
        {"amount_fen": 1.5, "signed_on": TODAY.isoformat()},
        {"amount_fen": True, "signed_on": TODAY.isoformat()},
        {"amount_fen": -1, "signed_on": TODAY.isoformat()},
        {"amount_fen": 100},
        {"amount_fen": 100, "signed_on": "2026-13-01"},
        {"amount_fen": 100, "signed_on": TODAY.isoformat(), "extra": 1},
    ]
    for body in bad:
        refused = await client.post(url, json=body, headers=api_headers(client))
        assert refused.status_code == 400, body
        assert refused.json()["detail"]
    assert await Contract.count() == 0
    created = await client.post(
        url,
        json={"amount_fen": 117_580_000, "signed_on": TODAY.isoformat()},
        headers=api_headers(client),
    )
    assert created.status_code == 201, created.text
    assert created.json()["contract"]["amount_fen"] == 117_580_000
    assert created.json()["signed_in_time"] is True
    repeated = await client.post(
        url, json={"amount_fen": 1, "signed_on": TODAY.isoformat()}, headers=api_headers(client)
    )
    assert repeated.status_code == 409
    assert (await client.get("/api/lots/999999/contract")).status_code == 404


async def test_a_supervisor_reads_any_contract_and_another_unit_reads_none(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    lot_id = await awarded_lot(purchaser)
    await record_contract(purchaser, lot_id, amount_fen=100, signed_on=TODAY)
    other = await actor(Role.PURCHASER)
    await login(client, other.username)
    assert (await client.get(f"/api/lots/{lot_id}/contract")).status_code == 403
    assert (await client.get(f"/purchaser/lots/{lot_id}/contract")).status_code == 403
    supervisor = await actor(Role.SUPERVISOR)
    await login(client, supervisor.username)
    read = await client.get(f"/api/lots/{lot_id}/contract")
    assert read.status_code == 200
    assert read.json()["contract"]["amount_fen"] == 100
    forbidden = await client.post(
        f"/api/lots/{lot_id}/contract",
        json={"amount_fen": 1, "signed_on": TODAY.isoformat()},
        headers=api_headers(client),
    )
    assert forbidden.status_code == 403


# --------------------------------------------------------------------------- timeliness


async def contract_lights(calendar: WorkingDayCalendar) -> dict[str, str]:
    now = SYSTEM_CLOCK.now()
    return {
        s.item.key: s.light for s in summarise(await contracts_due(calendar, now), now, calendar)
    }


async def test_contract_signing_is_green_yellow_then_red_until_the_contract_is_recorded(
    app: Litestar,
) -> None:
    purchaser = await actor(Role.PURCHASER)
    fresh = await awarded_lot(purchaser, days_ago=1)
    # awarded at noon 30 days ago (CST): due at the end of today
    noon = datetime.combine(TODAY - timedelta(days=30), time(12), CHINA)
    closing = await awarded_lot(purchaser, days_ago=0)
    await Lot.update({Lot.awarded_at: noon}).where(Lot.id == closing)
    late = await awarded_lot(purchaser, days_ago=40)
    calendar = WorkingDayCalendar({})
    lights = await contract_lights(calendar)
    assert lights == {
        f"contract:{fresh}": "green",
        f"contract:{closing}": "yellow",
        f"contract:{late}": "red",
    }
    await record_contract(purchaser, late, amount_fen=100, signed_on=TODAY)
    assert f"contract:{late}" not in await contract_lights(calendar)


async def test_the_contract_table_and_its_deadline_work_on_sqlite(
    app: Litestar, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("sqlite") / "contracts.sqlite3"
    run_cli(replace(settings, database_url=f"sqlite:///{path}"), "migrate")
    postgres = Lot._meta.db
    tables = all_tables()
    bind_engine(engine_for(f"sqlite:///{path}"), tables)
    try:
        purchaser = await actor(Role.PURCHASER)
        signed = await awarded_lot(purchaser, days_ago=3)
        open_lot = await awarded_lot(purchaser, days_ago=40)
        await record_contract(purchaser, signed, amount_fen=100, signed_on=TODAY)
        lights = await contract_lights(WorkingDayCalendar({}))
        assert lights == {f"contract:{open_lot}": "red"}
        assert await Contract.count() == 1
        for table in (Contract, Lot, Project, User, Organisation):
            assert await table.count() >= 1
    finally:
        bind_engine(postgres, tables)


# --------------------------------------------------------------------------- overdue warnings


async def overdue_notifications() -> list[dict[str, Any]]:
    return list(
        await Notification.select(Notification.user, Notification.link, Notification.title)
        .where(Notification.kind == "overdue")
        .order_by(Notification.id)
    )


async def test_an_overdue_contract_warns_the_units_purchasers_and_the_supervisors_once(
    app: Litestar,
) -> None:
    purchaser = await actor(Role.PURCHASER)
    colleague = await actor(Role.PURCHASER, organisation_id=purchaser.organisation_id)
    other_unit = await actor(Role.PURCHASER)
    supervisor = await actor(Role.SUPERVISOR)
    late = await awarded_lot(purchaser, days_ago=40)
    await awarded_lot(purchaser, days_ago=2)  # within time: no warning
    calendar = WorkingDayCalendar({})
    assert await warn_overdue(calendar, SYSTEM_CLOCK.now()) == 3
    assert await warn_overdue(calendar, SYSTEM_CLOCK.now()) == 0  # the next sweep adds nothing
    sent = await overdue_notifications()
    assert {row["user"] for row in sent} == {
        purchaser.user_id,
        colleague.user_id,
        supervisor.user_id,
    }
    assert other_unit.user_id not in {row["user"] for row in sent}
    links = {row["user"]: row["link"] for row in sent}
    assert links[purchaser.user_id] == f"/purchaser/lots/{late}/contract"
    assert links[supervisor.user_id] == "/reports/timeliness"
    assert all("签订采购合同" in row["title"] for row in sent)
    last_day = (SYSTEM_CLOCK.now() - timedelta(days=40)).astimezone(CHINA).date() + timedelta(30)
    first = await Notification.objects().where(Notification.kind == "overdue").first()
    assert first is not None
    assert f"已超过期限 {last_day}" in first.body


async def test_the_celery_worker_warns_of_an_overdue_item_exactly_once(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    supervisor = await actor(Role.SUPERVISOR)
    await awarded_lot(purchaser, days_ago=45)
    rows: list[dict[str, Any]] = []
    for _ in range(120):  # the beat sweeps every 2 s
        rows = await overdue_notifications()
        if len(rows) >= 2:
            break
        await asyncio.sleep(0.25)
    assert {row["user"] for row in rows} == {purchaser.user_id, supervisor.user_id}
    await asyncio.sleep(6)  # three more sweeps
    assert len(await overdue_notifications()) == 2
