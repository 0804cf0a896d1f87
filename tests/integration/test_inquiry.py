"""Price inquiry (询价) against PostgreSQL, S3 and a real Celery worker.

A purchaser posts an inquiry with a quote deadline seconds ahead (the legal 3 working days,
MOF74 Art. 45, overridden through ``TimeLimits`` as the services allow); invited suppliers
quote RULES §10(b)'s prices sealed on the platform-sealed lot; the worker closes and opens
the lot by itself; the purchaser judges compliance and concludes: S2 wins at 172,500, saved
27,500 (13.75 %), counted in the month's online inquiries. Bad input leaves nothing behind.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta

import pytest
from litestar import Litestar

from bidding.quotes import QuoteDraft, QuoteLineDraft, my_quote, opened_quotes, submit_quote
from bidding.runtime import current
from bidding.services import withdraw_bid
from bidding.tables import Bid
from evaluation.inquiry_award import conclude_inquiry
from procurement.clock import SYSTEM_CLOCK, Clock, FixedClock
from procurement.deadlines import TimeLimits
from procurement.exceptions import Conflict, DeadlinePassed, Forbidden, ValidationError
from procurement.inquiries import (
    InquiryDraft,
    ItemDraft,
    create_framework,
    create_inquiry,
    get_inquiry,
    record_follow_up,
    record_verdict,
)
from procurement.lifecycle import ProcurementMethod
from procurement.reports import ReportFilters, month_period, period_report
from procurement.roles import Actor, Role
from procurement.tables import (
    AuditEntry,
    Inquiry,
    InquiryInvitation,
    Lot,
    Notice,
    Notification,
    Organisation,
    Project,
)
from tests.factories import actor, wait_for_lot

pytestmark = pytest.mark.integration
SECONDS = TimeLimits(inquiry_working_days=0, deadline_on_working_day=False)
"""The quote period shrunk to seconds for the worker to open the quotes in the test."""
PRICES = {"S1": "84000", "S2": "86250", "S3": "87900", "S4": "90600"}
"""Unit prices for 2 servers: totals 168,000 / 172,500 / 175,800 / 181,200 (RULES §10(b))."""


async def supplier(name: str) -> Actor:
    """A supplier registered for goods, with one user."""
    who = await actor(Role.BIDDER)
    await Organisation.update({Organisation.categories: "goods", Organisation.name: name}).where(
        Organisation.id == who.organisation_id
    )
    return who


def rfq(suppliers: list[Actor], *, seconds: float = 15, **changes: object) -> InquiryDraft:
    values: dict[str, object] = {
        "title": "服务器询价 Servers",
        "items": [
            ItemDraft(
                name="服务器",
                quantity="2",
                unit="台",
                specification="2 × 16 核, 256 GB",
                reference_brand="Inspur NF5280 或同等",
            )
        ],
        "budget": "200000",
        "delivery_place": "张家港市政务中心",
        "delivery_time": "合同签订后15日内",
        "quote_deadline": SYSTEM_CLOCK.now() + timedelta(seconds=seconds),
        "invitation_mode": "selected",
        "supplier_ids": [int(s.organisation_id or 0) for s in suppliers],
        "requirements": "交货期不超过15日",
    }
    values.update(changes)
    return InquiryDraft(**values)  # type: ignore[arg-type]


def quote(unit_price: str, quantity: str = "2", days: int = 15) -> QuoteDraft:
    return QuoteDraft(
        lines=[QuoteLineDraft(item=1, quantity=quantity, unit_price=unit_price)],
        delivery_days=days,
        declarations="满足全部实质性要求",
    )


async def send(
    who: Actor, inquiry_id: int, draft: QuoteDraft, clock: Clock = SYSTEM_CLOCK
) -> dict[str, object]:
    runtime = current()
    return await submit_quote(
        who, inquiry_id, draft, store=runtime.store, signing_key=runtime.signing_key, clock=clock
    )


async def test_quotes_open_by_themselves_and_the_lowest_compliant_quote_wins(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = {name: await supplier(name) for name in PRICES}
    outsider = await supplier("S5")
    inquiry_id = await create_inquiry(purchaser, rfq(list(s.values())), limits=SECONDS)
    inquiry = await get_inquiry(inquiry_id)
    invited_users = await Notification.count().where(Notification.kind == "inquiry.invited")
    assert invited_users == 4
    receipts = {name: await send(s[name], inquiry_id, quote(PRICES[name])) for name in PRICES}
    assert all(r["receipt"]["lot_id"] == inquiry.lot for r in receipts.values())  # type: ignore[index]
    # one price, once: no second quote, no withdrawal (GPL Art. 40)
    with pytest.raises(Conflict, match="one price, once"):
        await send(s["S3"], inquiry_id, quote("85000"))
    bid = await Bid.objects().where(Bid.bidder == s["S3"].organisation_id).first()
    assert bid is not None
    with pytest.raises(Conflict, match="one price, once"):
        await withdraw_bid(s["S3"], bid.id)
    with pytest.raises(Forbidden, match="not invited"):
        await send(outsider, inquiry_id, quote("80000"))
    with pytest.raises(Conflict, match="sealed"):
        await record_verdict(
            purchaser, inquiry_id, int(s["S1"].organisation_id or 0), compliant=True
        )
    # the server clock decides: a quote a moment after the deadline is refused
    project = await Project.objects().where(Project.id == inquiry.project).first()
    assert project is not None
    late = FixedClock(project.bid_deadline + timedelta(seconds=1))
    with pytest.raises(DeadlinePassed):
        await send(s["S1"], inquiry_id, quote("80000"), clock=late)
    mine = await my_quote(s["S2"], inquiry_id)
    assert mine is not None
    assert mine["receipt"]["receipt"]["bid_id"] == receipts["S2"]["receipt"]["bid_id"]  # type: ignore[index]

    assert await wait_for_lot(inquiry.lot, {"opened", "failed"}) == "opened"
    with pytest.raises(Conflict, match="not open"):
        await send(s["S4"], inquiry_id, quote("80000"))
    opened = await opened_quotes(inquiry_id)
    assert sorted(q["declared_price_fen"] for q in opened) == [
        16_800_000,
        17_250_000,
        17_580_000,
        18_120_000,
    ]
    assert opened[0]["declaration"]["items"][0]["quantity"] == "2"
    ids = {name: int(s[name].organisation_id or 0) for name in PRICES}
    with pytest.raises(ValidationError, match="mark every quote"):
        await conclude_inquiry(purchaser, inquiry_id)
    await record_verdict(purchaser, inquiry_id, ids["S1"], compliant=False, reason="30日交货")
    for name in ("S2", "S3", "S4"):
        await record_verdict(purchaser, inquiry_id, ids[name], compliant=True)
    outcome = await conclude_inquiry(purchaser, inquiry_id)
    assert outcome.awarded
    assert outcome.supplier_id == ids["S2"]
    assert outcome.award_fen == 17_250_000
    assert outcome.saved_fen == 2_750_000
    lot = await Lot.objects().where(Lot.id == inquiry.lot).first()
    assert lot is not None
    assert lot.status == "awarded"
    notice = await Notice.objects().where(Notice.id == outcome.notice_id).first()
    assert notice is not None
    assert notice.kind == "award"
    assert "S2" in notice.body
    assert "172,500.00" in notice.body
    today = SYSTEM_CLOCK.now().date()
    report = await period_report(
        ReportFilters(
            period=month_period(today.year, today.month), method=ProcurementMethod.PRICE_INQUIRY
        )
    )
    assert report.inquiries.events == 1
    assert report.inquiries.award_fen == 17_250_000
    assert report.inquiries.saved_fen == 2_750_000
    # every supplier that quoted is told the result, the unsuccessful too (GPL Art. 40)
    assert await Notification.count().where(Notification.kind == "inquiry.result") == 4
    with pytest.raises(Conflict, match="concluded"):
        await conclude_inquiry(purchaser, inquiry_id)


async def test_too_few_compliant_quotes_terminate_the_inquiry_and_the_choice_is_recorded(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"T{i}") for i in range(3)]
    inquiry_id = await create_inquiry(purchaser, rfq(s, seconds=12), limits=SECONDS)
    inquiry = await get_inquiry(inquiry_id)
    for who, price in zip(s, ("86250", "87900", "102500"), strict=True):
        await send(who, inquiry_id, quote(price))
    with pytest.raises(Conflict, match="only a failed"):
        await record_follow_up(purchaser, inquiry_id, "rerun")
    assert await wait_for_lot(inquiry.lot, {"opened", "failed"}) == "opened"
    for who in s:
        await record_verdict(purchaser, inquiry_id, int(who.organisation_id or 0), compliant=True)
    # RULES §10(b) variant 2: one quote over budget leaves two → terminated
    outcome = await conclude_inquiry(purchaser, inquiry_id)
    assert not outcome.awarded
    assert outcome.failure_reason == "TOO_FEW_VALID"
    notice = await Notice.objects().where(Notice.id == outcome.notice_id).first()
    assert notice is not None
    assert notice.kind == "failure"
    with pytest.raises(ValidationError):
        await record_follow_up(purchaser, inquiry_id, "give up")
    await record_follow_up(purchaser, inquiry_id, "rerun", "重新询价")
    stored = await get_inquiry(inquiry_id)
    assert stored.follow_up == "rerun"
    with pytest.raises(Conflict, match="already recorded"):
        await record_follow_up(purchaser, inquiry_id, "change_method")


async def test_bad_requests_are_refused_and_nothing_is_written(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"B{i}") for i in range(3)]
    cases: list[tuple[InquiryDraft, TimeLimits | None, str]] = [
        (rfq(s[:2]), SECONDS, "at least 3 suppliers"),
        (rfq(s, seconds=3600), None, "too early"),
        (rfq(s, items=[ItemDraft(name="纸", quantity="-1", unit="箱")]), SECONDS, "positive"),
        (rfq(s, items=[ItemDraft(name="纸", quantity="many", unit="箱")]), SECONDS, "number"),
        (rfq(s, budget="-5"), SECONDS, "negative"),
        (rfq(s, invitation_mode="friends"), SECONDS, "selected, framework or open"),
        (rfq(s, delivery_place=" "), SECONDS, "delivery place"),
        (rfq([*s, purchaser]), SECONDS, "not approved suppliers"),
    ]
    for draft, limits, message in cases:
        with pytest.raises(ValidationError, match=message):
            await create_inquiry(purchaser, draft, limits=limits)
    with pytest.raises(Forbidden):
        await create_inquiry(s[0], rfq(s), limits=SECONDS)
    assert await Inquiry.count() == 0
    assert await Project.count() == 0
    assert await InquiryInvitation.count() == 0


async def test_bad_quotes_are_refused_and_nothing_is_stored(app: Litestar) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"Q{i}") for i in range(3)]
    inquiry_id = await create_inquiry(purchaser, rfq(s, seconds=600), limits=SECONDS)
    for draft, message in [
        (quote("-1"), "must be positive"),
        (quote("abc"), "must be a number"),
        (quote("100", quantity="3"), "requested quantity"),
        (quote("0.001"), "two decimals"),
        (quote("100", days=0), "delivery time"),
        (QuoteDraft(lines=[], delivery_days=10), "every item must be priced"),
    ]:
        with pytest.raises(ValidationError, match=message):
            await send(s[0], inquiry_id, draft)
    assert await Bid.count() == 0


async def test_framework_suppliers_are_invited_in_a_quick_inquiry(app: Litestar) -> None:
    admin = await actor(Role.ADMIN)
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"F{i}") for i in range(4)]
    ids = [int(x.organisation_id or 0) for x in s[:3]]
    today = SYSTEM_CLOCK.now().date()
    current_id = await create_framework(
        admin,
        name="办公设备协议供货",
        category="office equipment",
        valid_from=today - timedelta(days=30),
        valid_until=today + timedelta(days=300),
        supplier_ids=ids,
    )
    expired_id = await create_framework(
        admin,
        name="2020 协议",
        category="office equipment",
        valid_from=date(2020, 1, 1),
        valid_until=date(2020, 12, 31),
        supplier_ids=ids,
    )
    with pytest.raises(Forbidden):
        await create_framework(
            purchaser,
            name="x",
            category="y",
            valid_from=today,
            valid_until=today,
            supplier_ids=ids,
        )
    inquiry_id = await create_inquiry(
        purchaser,
        rfq([], seconds=600, invitation_mode="framework", framework_id=current_id),
        limits=SECONDS,
    )
    invited = await InquiryInvitation.select(InquiryInvitation.supplier).where(
        InquiryInvitation.inquiry == inquiry_id
    )
    assert sorted(r["supplier"] for r in invited) == sorted(ids)
    stored = await get_inquiry(inquiry_id)
    assert stored.invitation_mode == "framework"
    assert stored.framework == current_id
    with pytest.raises(ValidationError, match="not on"):
        await create_inquiry(
            purchaser,
            rfq([], seconds=600, invitation_mode="framework", framework_id=expired_id),
            limits=SECONDS,
        )
    opened = await create_inquiry(
        purchaser, rfq([], seconds=600, invitation_mode="open"), limits=SECONDS
    )
    assert await InquiryInvitation.count().where(InquiryInvitation.inquiry == opened) == 4


async def test_equal_lowest_quotes_are_decided_by_a_recorded_draw(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"D{i}") for i in range(3)]
    inquiry_id = await create_inquiry(purchaser, rfq(s, seconds=12), limits=SECONDS)
    inquiry = await get_inquiry(inquiry_id)
    for who, price in zip(s, ("86250", "86250", "87900"), strict=True):
        await send(who, inquiry_id, quote(price))
    assert await wait_for_lot(inquiry.lot, {"opened", "failed"}) == "opened"
    for who in s:
        await record_verdict(purchaser, inquiry_id, int(who.organisation_id or 0), compliant=True)
    # RULES §7: no legal rule for equal lowest quotes and none in the notice: a random draw
    outcome = await conclude_inquiry(purchaser, inquiry_id)
    assert outcome.supplier_id in {s[0].organisation_id, s[1].organisation_id}
    assert outcome.award_fen == 17_250_000
    entry = await AuditEntry.objects().where(AuditEntry.action == "inquiry.concluded").first()
    assert entry is not None
    ranking = json.loads(entry.payload)["ranking"]
    assert [r["drawn"] for r in ranking] == [True, True, False]
    assert ranking[0]["supplier_id"] == outcome.supplier_id


async def test_the_sweep_opens_quotes_whose_deadline_task_never_ran(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    purchaser = await actor(Role.PURCHASER)
    s = [await supplier(f"M{i}") for i in range(3)]
    inquiry_id = await create_inquiry(purchaser, rfq(s, seconds=3600), limits=SECONDS)
    inquiry = await get_inquiry(inquiry_id)
    for who, price in zip(s, ("86250", "87900", "90600"), strict=True):
        await send(who, inquiry_id, quote(price))
    # the exact-time task is an hour away; move the deadline into the past behind its back
    await Project.update({Project.bid_deadline: SYSTEM_CLOCK.now() - timedelta(seconds=1)}).where(
        Project.id == inquiry.project
    )
    assert await wait_for_lot(inquiry.lot, {"opened", "failed"}) == "opened"
    assert len(await opened_quotes(inquiry_id)) == 3


async def test_a_small_firms_deducted_price_ranks_first_and_is_paid_its_quote(
    app: Litestar, celery_worker: subprocess.Popen[bytes]
) -> None:
    """RULES §6: with a 10 % deduction a small firm's 181,200 ranks at 163,080, below the
    large firm's 168,000; the award amount stays its quoted 181,200."""
    purchaser = await actor(Role.PURCHASER)
    large, small, other = [await supplier(f"E{i}") for i in range(3)]
    await Organisation.update({Organisation.enterprise_size: "small"}).where(
        Organisation.id == small.organisation_id
    )
    await Organisation.update({Organisation.enterprise_size: "large"}).where(
        Organisation.id.is_in([large.organisation_id, other.organisation_id])
    )
    inquiry_id = await create_inquiry(
        purchaser,
        rfq([large, small, other], seconds=12, sme_deduction_percent="10"),
        limits=SECONDS,
    )
    inquiry = await get_inquiry(inquiry_id)
    assert inquiry.sme_deduction_percent == "10"
    for who, price in ((large, PRICES["S1"]), (small, PRICES["S4"]), (other, PRICES["S3"])):
        await send(who, inquiry_id, quote(price))
    assert await wait_for_lot(inquiry.lot, {"opened", "failed"}) == "opened"
    for who in (large, small, other):
        await record_verdict(purchaser, inquiry_id, int(who.organisation_id or 0), compliant=True)
    outcome = await conclude_inquiry(purchaser, inquiry_id)
    assert outcome.supplier_id == small.organisation_id
    assert outcome.award_fen == 18_120_000


@pytest.mark.parametrize("percent", ["5", "25", "abc", "-1", "100"])
async def test_an_unlawful_deduction_is_refused_and_nothing_is_written(
    app: Litestar, percent: str
) -> None:
    purchaser = await actor(Role.PURCHASER)
    suppliers = [await supplier(f"F{i}") for i in range(3)]
    with pytest.raises(ValidationError) as refused:
        await create_inquiry(
            purchaser, rfq(suppliers, seconds=600, sme_deduction_percent=percent), limits=SECONDS
        )
    assert refused.value.field == "sme_deduction_percent"
    assert await Inquiry.count() == 0
    assert await Project.count() == 0
