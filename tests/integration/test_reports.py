"""Reports: the seed-000 month reproduced from line items, SQL against pure Python, the pages.

The seed-000 line items are exact fen amounts whose sums round (half-up, 0.01 万元) to the
bulletin's printed figures, the bulletin's own rounding included: goods and services budgets
and awards sum to 1227.4149 and 1141.855 万元, so the table prints 1227.41 and 1141.86 while
the exact saving 85.5599 prints 85.56 (1227.41 − 1141.86 would be 85.55). Lots are inserted
straight into the tables: 66 lots through the services would test the services, not the
report. The other report tests (OCDS, end to end) import these helpers.
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.db import bind_engine, engine_for
from procurement.lifecycle import ProcurementMethod, ProjectCategory
from procurement.money import round_half_up
from procurement.reports import (
    Line,
    ReportFilters,
    monthly_trend,
    parse_filters,
    period_report,
)
from procurement.roles import Role
from procurement.settings import Settings
from procurement.tables import Lot, Organisation, Project, User
from tests.conftest import run_cli, truncate_all
from tests.factories import actor, login
from zhaocai.wiring import all_tables

_serial = itertools.count(1)

NOVEMBER = datetime(2026, 11, 1, tzinfo=CHINA)

#: The seed-000 lines as exact fen totals: (events, budget or 标底, award).
SEED_GOODS = (33, 869_514_900, 809_185_000)
SEED_SERVICES = (4, 357_900_000, 332_670_000)
SEED_INQUIRY_AWARD = 80_440_000  # 12 of the goods lots, 80.44 万元
SEED_WORKS = (29, 47_566_320_000, 42_221_170_000)


@dataclass
class Owner:
    """A purchasing unit and the user who creates its projects."""

    organisation_id: int
    user_id: int


async def owner(name: str = "") -> Owner:
    """A purchasing unit with a user."""
    serial = next(_serial)
    now = NOVEMBER
    org = Organisation(
        name=name or f"采购单位{serial}",
        kind="purchasing_unit",
        credit_code=f"RPT{serial:015d}",
        created_at=now,
    )
    await org.save()
    user = User(
        username=f"report-owner-{serial}-{random.random():.6f}",
        password_hash="x",
        display_name="owner",
        role="purchaser",
        organisation=org.id,
        created_at=now,
    )
    await user.save()
    return Owner(int(org.id), int(user.id))


async def project(
    who: Owner,
    *,
    category: str,
    method: str,
    published_at: datetime | None = None,
    title: str = "",
) -> int:
    """A published project (its notice date is ``published_at``)."""
    serial = next(_serial)
    published = published_at or NOVEMBER - timedelta(days=30)
    row = Project(
        code=f"ZC-RPT-{serial:06d}",
        title=title or f"统计测试项目 {serial}",
        title_en=f"Report test project {serial}",
        purchaser=who.organisation_id,
        category=category,
        method=method,
        budget_fen=0,
        documents_from=published,
        documents_until=published + timedelta(days=7),
        bid_deadline=published + timedelta(days=21),
        opening_time=published + timedelta(days=21),
        created_by=who.user_id,
        created_at=published,
        published_at=published,
    )
    await row.save()
    return int(row.id)


async def lot(
    project_id: int,
    *,
    budget_fen: int,
    status: str = "awarded",
    award_fen: int | None = None,
    at: datetime | None = None,
    reserve_fen: int | None = None,
    ceiling_fen: int | None = None,
    failure_reason: str = "",
    supplier_id: int | None = None,
) -> int:
    """A lot concluded (awarded, failed or cancelled) at ``at``."""
    when = at or NOVEMBER + timedelta(days=10)
    number = next(_serial)
    row = Lot(
        project=project_id,
        number=number,
        title=f"标段 {number}",
        budget_fen=budget_fen,
        reserve_price_fen=reserve_fen,
        ceiling_price_fen=ceiling_fen,
        status=status,
        failure_reason=failure_reason,
        award_amount_fen=award_fen if status == "awarded" else None,
        contract_amount_fen=award_fen if status == "awarded" else None,
        awarded_supplier=supplier_id if status == "awarded" else None,
        awarded_at=when if status == "awarded" else None,
        concluded_at=when if status in {"awarded", "failed", "cancelled"} else None,
        updated_at=when,
    )
    await row.save()
    return int(row.id)


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` fen in ``parts`` positive, uneven amounts that sum to it exactly."""
    weights = [rng.uniform(0.3, 3.0) for _ in range(parts)]
    scale = total / sum(weights)
    amounts = [max(1, int(w * scale)) for w in weights]
    amounts[-1] += total - sum(amounts)
    assert amounts[-1] > 0
    return amounts


def awards_for(budgets: list[int], total: int, rng: random.Random) -> list[int]:
    """Award amounts at most each budget, uneven savings, summing exactly to ``total``."""
    ratio = total / sum(budgets)
    awards = [max(1, min(b, int(b * min(1.0, ratio + rng.uniform(-0.03, 0.03))))) for b in budgets]
    drift = total - sum(awards)
    for i, budget in enumerate(budgets):
        step = min(drift, budget - awards[i]) if drift > 0 else -min(-drift, awards[i] - 1)
        awards[i] += step
        drift -= step
    assert drift == 0
    return awards


async def seed_000_month(rng: random.Random | None = None) -> Owner:
    """November 2026 as the seed-000 bulletin reports it, plus lots the report must leave out.

    Returns the purchasing unit that owns every lot.
    """
    rng = rng or random.Random(2026)
    who = await owner("张家港市政府采购中心")
    supplier = Organisation(
        name="苏州供应商", kind="supplier", credit_code="RPTSUPPLIER0000001", created_at=NOVEMBER
    )
    await supplier.save()
    days = iter(itertools.cycle(range(29)))

    def moment() -> datetime:
        return NOVEMBER + timedelta(days=next(days), hours=rng.randint(8, 17))

    inquiry = await project(who, category="goods", method="price_inquiry")
    goods = await project(who, category="goods", method="open_tender")
    services = await project(who, category="services", method="competitive_negotiation")
    works = await project(who, category="works", method="open_tender")

    count, budget, award = SEED_GOODS
    inquiry_budgets = split(86_000_000, 12, rng)
    inquiry_awards = awards_for(inquiry_budgets, SEED_INQUIRY_AWARD, rng)
    goods_budgets = split(budget - sum(inquiry_budgets), count - 12, rng)
    goods_awards = awards_for(goods_budgets, award - SEED_INQUIRY_AWARD, rng)
    first = True
    for b, a in zip(inquiry_budgets, inquiry_awards, strict=True):
        # the first lot is awarded at the first instant of the month: it counts
        at = NOVEMBER if first else moment()
        first = False
        await lot(inquiry, budget_fen=b, award_fen=a, at=at, supplier_id=supplier.id)
    for b, a in zip(goods_budgets, goods_awards, strict=True):
        await lot(goods, budget_fen=b, award_fen=a, at=moment(), supplier_id=supplier.id)
    count, budget, award = SEED_SERVICES
    budgets = split(budget, count, rng)
    for b, a in zip(budgets, awards_for(budgets, award, rng), strict=True):
        await lot(services, budget_fen=b, award_fen=a, at=moment(), supplier_id=supplier.id)
    count, reserve, award = SEED_WORKS
    reserves = split(reserve, count, rng)
    for r, a in zip(reserves, awards_for(reserves, award, rng), strict=True):
        await lot(
            works,
            budget_fen=r + r // 20,
            reserve_fen=r,
            ceiling_fen=r + r // 20,
            award_fen=a,
            at=moment(),
            supplier_id=supplier.id,
        )
    # left out of the amounts: failed lots, and awards just outside the month
    await lot(goods, budget_fen=30_000_000, status="failed", failure_reason="TOO_FEW_BIDS")
    await lot(goods, budget_fen=20_000_000, status="failed", failure_reason="TOO_FEW_BIDS")
    await lot(services, budget_fen=9_000_000, status="failed", failure_reason="ALL_OVER_BUDGET")
    await lot(works, budget_fen=9_000_000, status="cancelled", reserve_fen=8_000_000)
    await lot(goods, budget_fen=5_000_000, award_fen=4_000_000, at=NOVEMBER - timedelta(seconds=1))
    await lot(
        goods, budget_fen=5_000_000, award_fen=4_000_000, at=datetime(2026, 12, 1, tzinfo=CHINA)
    )
    await lot(goods, budget_fen=5_000_000, status="evaluating")
    return who


# --------------------------------------------------------------------------- the figures

pytestmark = pytest.mark.integration


def november() -> ReportFilters:
    return parse_filters({"month": "2026-11"}, today=date(2026, 11, 30))


def figures(line: Line) -> tuple[int, str, str, str, str]:
    return (
        line.events,
        f"{line.award_wan:.2f}",
        f"{line.reference_wan:.2f}",
        f"{line.saved_wan:.2f}",
        line.rate_text,
    )


async def test_the_seed_000_month_reproduces_the_bulletin_table_exactly(app: Litestar) -> None:
    await seed_000_month()
    report = await period_report(november())
    assert figures(report.government) == (37, "1141.86", "1227.41", "85.56", "6.97 %")
    assert (report.inquiries.events, f"{report.inquiries.award_wan:.2f}") == (12, "80.44")
    assert figures(report.goods) == (33, "809.19", "869.51", "60.33", "6.94 %")
    assert figures(report.services) == (4, "332.67", "357.90", "25.23", "7.05 %")
    assert figures(report.works) == (29, "42221.17", "47566.32", "5345.15", "11.24 %")
    assert report.works_references == {"reserve": 29}


async def test_the_bulletin_rounding_shows_the_rounded_exact_saving_not_a_difference(
    app: Litestar,
) -> None:
    await seed_000_month()
    line = (await period_report(november())).government
    assert line.reference_wan - line.award_wan == Decimal("85.55")
    assert line.saved_wan == Decimal("85.56")
    assert line.saved_fen == 85_559_900


async def test_failed_and_cancelled_lots_count_in_the_rates_but_not_in_the_amounts(
    app: Litestar,
) -> None:
    await seed_000_month()
    report = await period_report(november())
    assert (report.awarded, report.failed, report.cancelled) == (66, 3, 1)
    assert report.failure_reasons == {"TOO_FEW_BIDS": 2, "ALL_OVER_BUDGET": 1, "CANCELLED": 1}
    assert f"{report.award_rate:.4f}" == f"{Decimal(66) / 70:.4f}"
    assert f"{report.failure_rate:.4f}" == f"{Decimal(4) / 70:.4f}"


async def test_a_lot_awarded_a_second_before_the_month_or_at_its_end_is_left_out(
    app: Litestar,
) -> None:
    await seed_000_month()
    october = await period_report(parse_filters({"month": "2026-10"}, today=date(2026, 11, 1)))
    december = await period_report(parse_filters({"month": "2026-12"}, today=date(2026, 12, 1)))
    assert (october.government.events, october.government.award_fen) == (1, 4_000_000)
    assert (december.government.events, december.government.award_fen) == (1, 4_000_000)


async def test_the_average_days_from_tender_notice_to_award_are_computed_by_the_database(
    app: Litestar,
) -> None:
    who = await owner()
    published = datetime(2026, 11, 2, 9, tzinfo=CHINA)
    pid = await project(who, category="goods", method="open_tender", published_at=published)
    await lot(pid, budget_fen=100, award_fen=90, at=published + timedelta(days=20))
    await lot(pid, budget_fen=100, award_fen=90, at=published + timedelta(days=25, hours=12))
    report = await period_report(november())
    assert report.average_days_to_award == Decimal("22.8")


async def test_rules_10c_savings_across_lots_are_summed_exactly_and_divided_once(
    app: Litestar,
) -> None:
    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    await lot(pid, budget_fen=123_456_700, award_fen=109_902_300)
    await lot(pid, budget_fen=87_654_321, award_fen=80_000_000)
    await lot(pid, budget_fen=50_000_000, award_fen=45_505_600)
    await lot(pid, budget_fen=30_000_000, status="failed", failure_reason="TOO_FEW_BIDS")
    line = (await period_report(november())).government
    assert figures(line) == (3, "235.41", "261.11", "25.70", "9.84 %")
    assert line.saved_fen == 25_703_121


async def test_a_works_lot_without_reserve_price_is_measured_against_its_ceiling_price(
    app: Litestar,
) -> None:
    who = await owner()
    pid = await project(who, category="works", method="open_tender")
    await lot(pid, budget_fen=2_000_000, reserve_fen=1_000_000, award_fen=900_000)
    await lot(pid, budget_fen=2_000_000, ceiling_fen=1_500_000, award_fen=1_200_000)
    report = await period_report(november())
    assert report.works.reference_fen == 2_500_000
    assert report.works_references == {"reserve": 1, "ceiling": 1}
    assert report.works_reference_label == "reserve+ceiling"


async def test_filters_by_purchasing_unit_category_and_method_narrow_the_figures(
    app: Litestar,
) -> None:
    await seed_000_month()
    other = await owner()
    pid = await project(other, category="goods", method="open_tender")
    await lot(pid, budget_fen=1_000_000, award_fen=800_000)
    period = november().period
    everyone = await period_report(ReportFilters(period))
    assert everyone.government.events == 38
    mine = await period_report(ReportFilters(period, purchaser_id=other.organisation_id))
    assert (mine.government.events, mine.works.events) == (1, 0)
    inquiries = await period_report(ReportFilters(period, method=ProcurementMethod.PRICE_INQUIRY))
    assert (inquiries.government.events, inquiries.government.award_fen) == (12, 80_440_000)
    services = await period_report(ReportFilters(period, category=ProjectCategory.SERVICES))
    assert figures(services.government) == (4, "332.67", "357.90", "25.23", "7.05 %")


async def test_a_month_without_lots_is_an_empty_report_of_zeros(app: Litestar) -> None:
    report = await period_report(november())
    assert report.is_empty
    assert figures(report.government) == (0, "0.00", "0.00", "0.00", "—")
    assert report.award_rate is None
    assert report.average_days_to_award is None


async def test_the_twelve_month_trend_puts_each_lot_in_its_own_month(app: Litestar) -> None:
    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    for month in (1, 6, 11):
        at = datetime(2026, month, 15, tzinfo=CHINA)
        await lot(pid, budget_fen=1000 * month, award_fen=900 * month, at=at)
    await lot(pid, budget_fen=7, award_fen=7, at=datetime(2025, 11, 30, 23, tzinfo=CHINA))
    trend = await monthly_trend(november())
    assert [p.label for p, _ in trend][:2] == ["2025-12", "2026-01"]
    assert [r.government.award_fen for _, r in trend] == [
        0,
        900,
        0,
        0,
        0,
        0,
        5400,
        0,
        0,
        0,
        0,
        9900,
    ]


# --------------------------------------------------------------------------- SQL = Python

CATEGORY_METHODS = [
    ("goods", "open_tender"),
    ("goods", "price_inquiry"),
    ("services", "competitive_negotiation"),
    ("works", "open_tender"),
]
lot_strategy = st.tuples(
    st.sampled_from(CATEGORY_METHODS),
    st.sampled_from(["awarded", "awarded", "failed", "cancelled"]),
    st.integers(min_value=1, max_value=10**12),  # budget, fen
    st.integers(min_value=0, max_value=1000),  # award as ‰ of the reference
    st.sampled_from(["reserve", "ceiling", "none"]),
    st.integers(min_value=-3 * 86400, max_value=33 * 86400),  # seconds after 1 Nov CST
)


def expected_line(lots: list[dict[str, Any]], categories: set[str]) -> tuple[int, int, int]:
    """Pure Python: (events, Σ award, Σ reference) over awarded lots inside November."""
    start, end = NOVEMBER, datetime(2026, 12, 1, tzinfo=CHINA)
    chosen = [
        item
        for item in lots
        if item["status"] == "awarded"
        and item["category"] in categories
        and start <= item["at"] < end
    ]
    return (
        len(chosen),
        sum(item["award"] for item in chosen),
        sum(item["reference"] for item in chosen),
    )


async def insert_random(drawn: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    who = await owner()
    projects = {cm: await project(who, category=cm[0], method=cm[1]) for cm in CATEGORY_METHODS}
    made = []
    for cm, status, budget, permille, reference, seconds in drawn:
        reserve = budget * 9 // 10 if reference == "reserve" else None
        ceiling = budget * 95 // 100 if reference == "ceiling" else None
        ref = budget
        if cm[0] == "works":
            ref = reserve if reserve is not None else ceiling if ceiling is not None else budget
        award = max(1, ref * permille // 1000)
        at = NOVEMBER + timedelta(seconds=seconds)
        await lot(
            projects[cm],
            budget_fen=budget,
            status=status,
            award_fen=award,
            reserve_fen=reserve,
            ceiling_fen=ceiling,
            at=at,
            failure_reason="TOO_FEW_VALID" if status == "failed" else "",
        )
        made.append(
            {"category": cm[0], "status": status, "award": award, "reference": ref, "at": at}
        )
    return made


async def check_sql_equals_python(drawn: list[tuple[Any, ...]]) -> None:
    made = await insert_random(drawn)
    report = await period_report(november())
    for line, categories in (
        (report.government, {"goods", "services"}),
        (report.goods, {"goods"}),
        (report.works, {"works"}),
    ):
        events, award, reference = expected_line(made, categories)
        assert (line.events, line.award_fen, line.reference_fen) == (events, award, reference)
        exact_rate = (
            (Decimal(reference) - Decimal(award)) / Decimal(reference) if reference else None
        )
        assert line.rate == exact_rate
        assert line.saved_wan == round_half_up((Decimal(reference - award) / 100) / 10_000)


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=st.lists(lot_strategy, max_size=12))
async def test_sql_aggregation_equals_pure_python_on_postgresql(
    app: Litestar, drawn: list[tuple[Any, ...]]
) -> None:
    await truncate_all()
    await check_sql_equals_python(drawn)


@pytest.fixture(scope="module")
def sqlite_engine(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A migrated SQLite database file, the embedded default's engine."""
    path = tmp_path_factory.mktemp("sqlite") / "reports.sqlite3"
    run_cli(replace(settings, database_url=f"sqlite:///{path}"), "migrate")
    return engine_for(f"sqlite:///{path}")


@asynccontextmanager
async def on_sqlite(engine: Any) -> AsyncIterator[None]:
    """Every table bound to the SQLite file and emptied; bound to PostgreSQL again after."""
    from bidding.tables import Bid, OpeningRecord
    from procurement.contract_tables import Contract

    postgres = Lot._meta.db
    tables = all_tables()
    bind_engine(engine, tables)
    try:
        for table in (Contract, OpeningRecord, Bid, Lot, Project, User, Organisation):
            await table.delete(force=True)
        yield
    finally:
        bind_engine(postgres, tables)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=st.lists(lot_strategy, max_size=10))
async def test_sql_aggregation_equals_pure_python_on_sqlite(
    app: Litestar, sqlite_engine: Any, drawn: list[tuple[Any, ...]]
) -> None:
    async with on_sqlite(sqlite_engine):
        await check_sql_equals_python(drawn)


# --------------------------------------------------------------------------- bid statistics

#: (bid status, opening outcome): only submitted bids count; "opened" ones are valid.
bid_strategy = st.tuples(
    st.sampled_from(["submitted", "submitted", "withdrawn", "superseded"]),
    st.sampled_from(["opened", "opened", "invalid", None]),
)
bid_lot_strategy = st.tuples(
    st.sampled_from(["awarded", "failed", "cancelled"]),
    st.integers(min_value=-3 * 86400, max_value=33 * 86400),  # seconds after 1 Nov CST
    st.lists(bid_strategy, max_size=5),
)


async def insert_bids(lot_id: int, bids: list[tuple[str, str | None]]) -> None:
    """Bids of new suppliers on a lot, with the opening record of each submitted one."""
    from bidding.tables import Bid, OpeningRecord

    for status, outcome in bids:
        bidder = await owner()
        bid = Bid(
            lot=lot_id,
            bidder=bidder.organisation_id,
            submitted_by=bidder.user_id,
            status=status,
            created_at=NOVEMBER,
            submitted_at=NOVEMBER,
        )
        await bid.save()
        if status == "submitted" and outcome is not None:
            await OpeningRecord(
                lot=lot_id,
                bid=bid.id,
                bidder=bidder.organisation_id,
                submitted_at=NOVEMBER,
                outcome=outcome,
                opened_at=NOVEMBER,
            ).save()


async def check_bid_counts_equal_python(drawn: list[tuple[Any, ...]]) -> None:
    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    expected_lots = expected_bids = expected_valid = 0
    for status, seconds, bids in drawn:
        at = NOVEMBER + timedelta(seconds=seconds)
        lot_id = await lot(
            pid,
            budget_fen=1000,
            award_fen=900,
            status=status,
            at=at,
            failure_reason="TOO_FEW_VALID" if status == "failed" else "",
        )
        await insert_bids(lot_id, bids)
        if status != "cancelled" and NOVEMBER <= at < datetime(2026, 12, 1, tzinfo=CHINA):
            expected_lots += 1
            expected_bids += sum(1 for s, _ in bids if s == "submitted")
            expected_valid += sum(1 for s, o in bids if s == "submitted" and o == "opened")
    report = await period_report(november())
    assert report.bid_statistics
    assert (report.bid_lots, report.bids, report.valid_bids) == (
        expected_lots,
        expected_bids,
        expected_valid,
    )
    if expected_lots:
        assert report.average_valid_bids == round_half_up(Decimal(expected_valid) / expected_lots)
        assert report.average_bids == round_half_up(Decimal(expected_bids) / expected_lots)
    else:
        assert report.average_valid_bids is None


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=st.lists(bid_lot_strategy, max_size=6))
async def test_average_valid_bids_per_lot_by_sql_equals_python_on_postgresql(
    app: Litestar, drawn: list[tuple[Any, ...]]
) -> None:
    await truncate_all()
    await check_bid_counts_equal_python(drawn)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=st.lists(bid_lot_strategy, max_size=5))
async def test_average_valid_bids_per_lot_by_sql_equals_python_on_sqlite(
    app: Litestar, sqlite_engine: Any, drawn: list[tuple[Any, ...]]
) -> None:
    async with on_sqlite(sqlite_engine):
        await check_bid_counts_equal_python(drawn)


async def test_without_a_bid_count_source_the_average_is_unknown_not_zero(
    app: Litestar,
) -> None:
    from procurement import reports

    saved = list(reports._bid_counts_sql)
    reports._bid_counts_sql.clear()
    try:
        await seed_000_month()
        report = await period_report(november())
        assert not report.bid_statistics
        assert report.average_valid_bids is None
        assert report.government.events == 37
    finally:
        reports._bid_counts_sql[:] = saved


# --------------------------------------------------------------------------- deadlines met


async def test_the_share_of_deadlines_met_counts_the_deadlines_due_in_the_month(
    app: Litestar,
) -> None:
    from procurement.contract_tables import Contract
    from procurement.tables import Question

    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    october = datetime(2026, 10, 15, 10, tzinfo=CHINA)  # signing due by 14 Nov 24:00
    signed_in_time = await lot(pid, budget_fen=100, award_fen=90, at=october)
    signed_late = await lot(pid, budget_fen=100, award_fen=90, at=october)
    await lot(pid, budget_fen=100, award_fen=90, at=october)  # never signed: missed
    later = await lot(pid, budget_fen=100, award_fen=90, at=datetime(2026, 11, 20, tzinfo=CHINA))
    for lot_id, signed_on in (
        (signed_in_time, date(2026, 11, 14)),
        (signed_late, date(2026, 11, 15)),
        (later, date(2026, 11, 25)),  # due in December: not this month's deadline
    ):
        await Contract(
            lot=lot_id,
            supplier=who.organisation_id,
            amount_fen=90,
            signed_on=signed_on,
            recorded_by=who.user_id,
            recorded_at=NOVEMBER,
        ).save()
    # Mon 2 Nov asked, answered the next day (met); Tue 10 Nov asked, never answered (missed)
    for asked, answered in (
        (datetime(2026, 11, 2, 9, tzinfo=CHINA), datetime(2026, 11, 3, 9, tzinfo=CHINA)),
        (datetime(2026, 11, 10, 9, tzinfo=CHINA), None),
    ):
        await Question(
            project=pid, asked_by=who.user_id, text="?", asked_at=asked, answered_at=answered
        ).save()
    report = await period_report(november(), now=datetime(2026, 12, 31, tzinfo=CHINA))
    assert (report.deadlines_due, report.deadlines_met) == (5, 2)
    assert report.deadlines_met_share == Decimal(2) / 5
    # on 12 Nov only the first question's deadline (5 Nov) had fallen due
    early = await period_report(november(), now=datetime(2026, 11, 12, tzinfo=CHINA))
    assert (early.deadlines_due, early.deadlines_met) == (1, 1)
    other_unit = await period_report(
        replace(november(), purchaser_id=who.organisation_id + 1000),
        now=datetime(2026, 12, 31, tzinfo=CHINA),
    )
    assert other_unit.deadlines_due == 0
    assert other_unit.deadlines_met_share is None


contract_strategy = st.tuples(
    st.integers(min_value=-40 * 86400, max_value=35 * 86400),  # award, seconds after 1 Nov
    st.one_of(st.none(), st.integers(min_value=0, max_value=40)),  # signed, days after award
)


async def check_contract_share_equals_python(
    drawn: list[tuple[int, int | None]], now_days: int
) -> None:
    from procurement.contract_tables import Contract
    from procurement.contracts import signing_due
    from procurement.timeliness import Scope, contract_share

    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    low, high = november().period.utc_bounds
    now = NOVEMBER + timedelta(days=now_days, hours=7)
    expected_due = expected_met = 0
    for seconds, signed_after in drawn:
        awarded = NOVEMBER + timedelta(seconds=seconds)
        lot_id = await lot(pid, budget_fen=100, award_fen=90, at=awarded)
        award_day = awarded.astimezone(CHINA).date()
        if signed_after is not None:
            await Contract(
                lot=lot_id,
                supplier=who.organisation_id,
                amount_fen=90,
                signed_on=award_day + timedelta(days=signed_after),
                recorded_by=who.user_id,
                recorded_at=awarded,
            ).save()
        due = signing_due(awarded)
        if low <= due < high and due <= now:
            expected_due += 1
            expected_met += signed_after is not None and signed_after <= 30
    scope = Scope(low, high)
    assert await contract_share(WorkingDayCalendar({}), scope, now) == (expected_due, expected_met)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=st.lists(contract_strategy, max_size=8), now_days=st.integers(0, 70))
async def test_contract_deadlines_met_by_sql_equal_python_on_postgresql(
    app: Litestar, drawn: list[tuple[int, int | None]], now_days: int
) -> None:
    await truncate_all()
    await check_contract_share_equals_python(drawn, now_days)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(drawn=st.lists(contract_strategy, max_size=6), now_days=st.integers(0, 70))
async def test_contract_deadlines_met_by_sql_equal_python_on_sqlite(
    app: Litestar, sqlite_engine: Any, drawn: list[tuple[int, int | None]], now_days: int
) -> None:
    async with on_sqlite(sqlite_engine):
        await check_contract_share_equals_python(drawn, now_days)


async def test_the_statistics_page_shows_valid_bids_and_deadlines_met(
    client: AsyncTestClient[Litestar],
) -> None:
    who = await owner()
    pid = await project(who, category="goods", method="open_tender")
    lot_id = await lot(pid, budget_fen=100, award_fen=90)
    await insert_bids(lot_id, [("submitted", "opened"), ("submitted", "invalid")])
    await supervisor_client(client)
    page = await client.get("/reports", params={"month": "2026-11"})
    assert page.status_code == 200
    assert '<div class="v" id="average-valid-bids">1.00</div>' in page.text
    assert 'id="deadlines-met"' in page.text
    book = load_workbook(
        io.BytesIO((await client.get("/reports/export.xlsx", params={"month": "2026-11"})).content)
    )
    labels = {row[0].value: row[1].value for row in book["Summary"].iter_rows() if len(row) > 1}
    assert labels["average valid bids per lot"] == 1


# --------------------------------------------------------------------------- the pages

SEED_SENTENCE = (
    "月内政府集中采购共举行37次招投标(其中网上询价采购12次)，采购中标金额达1141.86万元"
    "（其中网上询价采购80.44万元），与采购预算1227.41万元相比，减少支出85.56万元，节约率为6.97％。"
    "其中：货物类采购次数33次，中标金额为809.19万元，预算金额为869.51万元，节约资金60.33万元，"
    "节减率为6.94％；服务类采购为4次，中标金额为332.67万元，预算金额为357.90万元，"
    "节约资金25.23万元，节减率为7.05％。"
)
WORKS_SENTENCE = (
    "月内工程招标共举行29项，标底价为47566.32万元，中标价格为42221.17万元，"
    "节约资金5345.15万元，节减率为11.24％。"
)


async def supervisor_client(client: AsyncTestClient[Litestar]) -> None:
    person = await actor(Role.SUPERVISOR)
    await login(client, person.username)


async def test_the_bulletin_reads_like_seed_000_section_two_in_chinese_and_english(
    client: AsyncTestClient[Litestar],
) -> None:
    await seed_000_month()
    await supervisor_client(client)
    page = await client.get("/reports/bulletin", params={"month": "2026-11", "lang": "zh"})
    assert page.status_code == 200
    assert SEED_SENTENCE in page.text
    assert WORKS_SENTENCE in page.text
    english = await client.get("/reports/bulletin", params={"month": "2026-11", "lang": "en"})
    assert "held 37 tenders (12 of them online price inquiries)" in english.text
    assert "rate 11.24 %" in english.text


async def test_the_statistics_page_shows_the_table_and_inline_svg_charts(
    client: AsyncTestClient[Litestar],
) -> None:
    await seed_000_month()
    await supervisor_client(client)
    page = await client.get("/reports", params={"month": "2026-11"})
    assert page.status_code == 200
    for figure in ("1141.86", "1227.41", "85.56", "6.97 %", "42221.17", "5345.15", "11.24 %"):
        assert figure in page.text
    assert page.text.count("<svg") == 2
    assert "<script" not in page.text.split("<svg", 1)[1]
    assert "http://pygal" not in page.text


async def test_the_xlsx_export_holds_numbers_with_number_formats(
    client: AsyncTestClient[Litestar],
) -> None:
    await seed_000_month()
    await supervisor_client(client)
    response = await client.get("/reports/export.xlsx", params={"month": "2026-11"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["Summary"].iter_rows(min_row=4, max_row=8))
    government = rows[0]
    assert [c.value for c in government[1:5]] == [
        37,
        Decimal("1141.86"),
        Decimal("1227.41"),
        Decimal("85.56"),
    ] or [c.value for c in government[1:5]] == [37, 1141.86, 1227.41, 85.56]
    assert government[2].number_format == "#,##0.00"
    assert government[5].number_format == "0.00%"
    assert round(float(str(government[5].value)), 4) == 0.0697
    works = rows[4]
    assert [float(str(c.value)) for c in works[2:6]] == [42221.17, 47566.32, 5345.15, 0.1124]
    lots = list(book["Lots"].iter_rows(min_row=2, values_only=True))
    assert len(lots) == 70
    awards = sum(Decimal(str(r[13])) for r in lots if r[8] == "awarded" and r[4] != "works")
    assert awards == Decimal("11418550")


async def test_the_csv_export_streams_every_concluded_lot_with_exact_yuan(
    client: AsyncTestClient[Litestar],
) -> None:
    await seed_000_month()
    await supervisor_client(client)
    response = await client.get("/reports/export.csv", params={"month": "2026-11"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert len(rows) == 70
    works = [r for r in rows if r["category"] == "works" and r["status"] == "awarded"]
    assert sum(Decimal(r["reference_yuan"]) for r in works) == Decimal("475663200")
    assert sum(Decimal(r["saved_yuan"]) for r in works) == Decimal("53451500")


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
async def test_both_exports_give_each_lot_its_cst_time_on_either_engine(
    client: AsyncTestClient[Litestar], request: pytest.FixtureRequest, database: str
) -> None:
    # SQLite returns ``COALESCE(awarded_at, concluded_at)`` as text (an expression has no
    # declared type to convert by); the exports once called ``.astimezone()`` on that text
    bound = (
        on_sqlite(request.getfixturevalue("sqlite_engine"))
        if database == "sqlite"
        else nullcontext()
    )
    async with bound:
        who = await owner()
        pid = await project(who, category="goods", method="open_tender")
        # 07:30 CST on 1 November is still 31 October in UTC
        awarded = await lot(
            pid, budget_fen=100_000, award_fen=90_000, at=datetime(2026, 11, 1, 7, 30, tzinfo=CHINA)
        )
        failed_at = datetime(2026, 11, 15, 14, 0, 0, 500_000, tzinfo=CHINA)
        failed = await lot(
            pid, budget_fen=50_000, status="failed", failure_reason="TOO_FEW_BIDS", at=failed_at
        )
        expected = {awarded: "2026-11-01 07:30:00", failed: "2026-11-15 14:00:00"}
        await supervisor_client(client)

        response = await client.get("/reports/export.csv", params={"month": "2026-11"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
        assert {int(r["lot_id"]): r["concluded_at"] for r in rows} == expected
        assert response.headers["content-length"] == str(len(response.content))

        response = await client.get("/reports/export.xlsx", params={"month": "2026-11"})
        assert response.status_code == 200, response.text[:300]
        book = load_workbook(io.BytesIO(response.content))
        lots = list(book["Lots"].iter_rows(min_row=2, values_only=True))
        assert {int(str(r[0])): r[10] for r in lots} == expected


async def test_a_csv_export_that_cannot_be_written_is_an_error_not_a_cut_off_200(
    client: AsyncTestClient[Litestar], monkeypatch: pytest.MonkeyPatch
) -> None:
    from procurement.controllers import reports as controller

    who = await owner()
    await lot(await project(who, category="goods", method="open_tender"), budget_fen=1, award_fen=1)
    await supervisor_client(client)

    def broken(row: dict[str, Any]) -> list[Any]:
        raise RuntimeError("a line item that cannot be written")

    monkeypatch.setattr(controller, "line_item_values", broken)
    response = await client.get("/reports/export.csv", params={"month": "2026-11"})
    assert response.status_code == 500
    assert "attachment" not in response.headers.get("content-disposition", "")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-12-01", "to": "2026-11-01"}, "inverted"),
        ({"from": "2010-01-01", "to": "2026-11-01"}, "ten years"),
        ({"month": "1999-12"}, "between 2000 and 2100"),
        ({"month": "2026-13"}, "2026-11"),
        ({"from": "2026-11-01"}, "both from and to"),
        ({"from": "yesterday", "to": "2026-11-01"}, "date like"),
        ({"category": "food"}, "unknown category"),
        ({"method": "auction"}, "unknown method"),
        ({"colour": "red"}, "unknown filter colour"),
        ({"purchaser": "x"}, "organisation id"),
    ],
)
async def test_bad_report_parameters_get_a_clear_400_not_a_500(
    client: AsyncTestClient[Litestar], params: dict[str, str], message: str
) -> None:
    await supervisor_client(client)
    for path in ("/reports", "/reports/export.csv", "/reports/export.xlsx", "/reports/bulletin"):
        response = await client.get(path, params=params)
        assert response.status_code == 400, (path, response.text[:300])
        assert message in response.text


async def test_a_month_without_data_is_an_empty_report_page_not_an_error(
    client: AsyncTestClient[Litestar],
) -> None:
    await supervisor_client(client)
    page = await client.get("/reports", params={"month": "2031-02", "lang": "en"})
    assert page.status_code == 200
    assert 'id="empty"' in page.text
    assert "—" in page.text


async def test_a_purchaser_sees_only_its_own_unit_and_may_not_ask_for_another(
    client: AsyncTestClient[Litestar],
) -> None:
    seeded = await seed_000_month()
    mine = await actor(Role.PURCHASER)
    assert mine.organisation_id is not None
    pid = await project(
        Owner(mine.organisation_id, int(mine.user_id or 0)), category="goods", method="open_tender"
    )
    await lot(pid, budget_fen=1_000_000, award_fen=900_000)
    await login(client, mine.username)
    page = await client.get("/reports", params={"month": "2026-11"})
    assert "1141.86" not in page.text
    assert '<td class="num">0.90</td>' in page.text
    refused = await client.get(
        "/reports", params={"month": "2026-11", "purchaser": str(seeded.organisation_id)}
    )
    assert refused.status_code == 403


async def test_bidders_and_visitors_cannot_see_the_reports(
    client: AsyncTestClient[Litestar],
) -> None:
    assert (await client.get("/reports/export.csv")).status_code == 401
    bidder = await actor(Role.BIDDER)
    await login(client, bidder.username)
    assert (await client.get("/reports")).status_code == 403
