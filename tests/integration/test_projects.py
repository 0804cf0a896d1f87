"""Projects and lots: creation checks, publication, the portal, deadlines, cancellation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from procurement.calendar import WorkingDayCalendar
from procurement.clock import FixedClock
from procurement.exceptions import Conflict, Forbidden, ValidationError
from procurement.lifecycle import LotEvent, LotStatus
from procurement.projects import (
    LotDraft,
    close_due_lots,
    close_lot_if_due,
    create_project,
    publish_project,
    transition_lot,
)
from procurement.roles import Role
from procurement.tables import AuditEntry, Lot, Notice, Project
from tests.factories import ANY_DAY, actor, csrf, draft, local, login, published_project

pytestmark = pytest.mark.integration


async def test_publishing_opens_every_lot_and_puts_the_notice_on_the_portal(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(
        purchaser, title="医用耗材采购", budgets=("100000.00", "250000.50")
    )
    lots = await Lot.select(Lot.status, Lot.budget_fen).where(Lot.project == project_id)
    assert [lot["status"] for lot in lots] == ["published", "published"]
    assert sorted(lot["budget_fen"] for lot in lots) == [10_000_000, 25_000_050]
    project = await Project.objects().where(Project.id == project_id).first()
    assert project is not None
    assert project.budget_fen == 35_000_050
    page = await client.get("/notices", params={"q": "医用耗材"})
    assert "医用耗材采购" in page.text
    assert (await client.get("/notices", params={"q": "nothing-like-this"})).text.count(
        "notice-title"
    ) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bid_deadline_days": 10}, "too early"),
        ({"category": "works"}, "reserve price"),
        ({"category": "works", "method": "price_inquiry"}, "TBL Art. 10"),
        ({"category": "services", "method": "price_inquiry"}, "GPL Art. 32"),
        ({"category": "food"}, "unknown category"),
        ({"budget": "-5"}, "must not be negative"),
        ({"budget": "12.345"}, "2 decimal places"),
        ({"budget": "abc"}, "not an amount"),
        ({"title": "   "}, "needs a title"),
    ],
)
async def test_invalid_projects_are_refused_and_nothing_is_written(
    app: Litestar, change: dict[str, object], message: str
) -> None:
    purchaser = await actor(Role.PURCHASER)
    days = int(change.pop("bid_deadline_days", 30))  # type: ignore[call-overload]
    deadline = local(days)
    base = draft(deadline=deadline, documents_days=min(days, 21))
    fields = {"category": base.category, "method": base.method, "title": base.title}
    fields.update({k: v for k, v in change.items() if k in fields})  # type: ignore[misc]
    budget = str(change.get("budget", "1000.00"))
    from dataclasses import replace

    bad = replace(base, lots=[LotDraft(title="lot", budget=budget)], **fields)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=message):
        await create_project(purchaser, bad)
    assert await Project.count() == 0
    assert await Lot.count() == 0


async def test_only_a_purchaser_creates_projects(app: Litestar) -> None:
    bidder = await actor(Role.BIDDER)
    with pytest.raises(Forbidden):
        await create_project(bidder, draft(deadline=local(30)))


async def test_another_unit_cannot_publish_my_project(app: Litestar) -> None:
    mine = await actor(Role.PURCHASER)
    theirs = await actor(Role.PURCHASER)
    project_id = await create_project(mine, draft(deadline=local(30)), limits=ANY_DAY)
    with pytest.raises(Forbidden):
        await publish_project(theirs, project_id)


async def test_publishing_twice_is_a_conflict(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)
    with pytest.raises(Conflict, match="already published"):
        await publish_project(purchaser, project_id, limits=ANY_DAY)


async def test_illegal_transition_is_refused_with_the_allowed_ones(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    with pytest.raises(Conflict, match="allowed from published: close_bidding, cancel"):
        await transition_lot(lot.id, LotEvent.AWARD)
    assert (await Lot.objects().where(Lot.id == lot.id).first()).status == "published"  # type: ignore[union-attr]


async def test_deadline_closing_is_idempotent_and_waits_for_the_deadline(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    deadline = local(25)
    project_id = await published_project(purchaser, deadline=deadline)
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    before = FixedClock(deadline - timedelta(seconds=1))
    assert await close_lot_if_due(lot.id, clock=before) is False
    after = FixedClock(deadline + timedelta(seconds=1))
    assert await close_due_lots(clock=after) == [lot.id]
    assert await close_due_lots(clock=after) == []
    assert await close_lot_if_due(lot.id, clock=after) is False
    refreshed = await Lot.objects().where(Lot.id == lot.id).first()
    assert refreshed is not None
    # no bids at the deadline: no opening, the lot fails (TBL Art. 28)
    assert refreshed.status == LotStatus.FAILED
    assert refreshed.failure_reason == "TOO_FEW_BIDS"
    closings = await AuditEntry.count().where(AuditEntry.action == "lot.close_bidding")
    assert closings == 1


async def test_cancellation_needs_a_reason_and_publishes_a_notice(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    project_id = await published_project(purchaser)
    await login(client, purchaser.username)
    empty = await client.post(
        f"/purchaser/projects/{project_id}/cancel", data={"reason": " ", **csrf(client)}
    )
    assert empty.status_code == 400
    done = await client.post(
        f"/purchaser/projects/{project_id}/cancel",
        data={"reason": "预算调整", **csrf(client)},
        follow_redirects=False,
    )
    assert done.status_code == 302
    assert await Notice.count().where(Notice.kind == "cancellation") == 1
    lot = await Lot.objects().where(Lot.project == project_id).first()
    assert lot is not None
    assert lot.status == "cancelled"
    assert lot.failure_reason == "CANCELLED"


async def test_new_project_form_creates_a_draft_with_lots(
    client: AsyncTestClient[Litestar],
) -> None:
    purchaser = await actor(Role.PURCHASER)
    await login(client, purchaser.username)
    target = local(30)
    deadline = datetime.combine(
        WorkingDayCalendar().next_working_day(target.date()), target.timetz()
    )
    start = deadline - timedelta(days=22)
    form = {
        "title": "办公家具采购",
        "category": "goods",
        "method": "open_tender",
        "custody_mode": "custodians",
        "documents_from": start.strftime("%Y-%m-%dT%H:%M"),
        "documents_until": (start + timedelta(days=8)).strftime("%Y-%m-%dT%H:%M"),
        "bid_deadline": deadline.strftime("%Y-%m-%dT%H:%M"),
        "lot_title": ["桌椅", "文件柜"],
        "lot_budget": ["120000", "80000.5"],
        "lot_reserve_price": ["", ""],
        "lot_ceiling_price": ["", ""],
        **csrf(client),
    }
    response = await client.post("/purchaser/projects", data=form, follow_redirects=False)
    assert response.status_code == 302, response.text
    assert [r["budget_fen"] for r in await Lot.select(Lot.budget_fen).order_by(Lot.number)] == [
        12_000_000,
        8_000_050,
    ]
    bad = {**form, "bid_deadline": "not a date"}
    refused = await client.post("/purchaser/projects", data=bad)
    assert refused.status_code == 400
    assert "投标截止时间须为日期和时间" in refused.text  # the message in the page's language
    english = await client.post("/purchaser/projects?lang=en", data=bad)
    assert english.status_code == 400
    assert "bid deadline must be a date and time" in english.text
    assert await Project.count() == 1
