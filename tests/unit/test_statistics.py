"""The pure parts of the reports: filters, the model of the table, the bulletin, timeliness."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.controllers.reports import rate_axis
from procurement.exceptions import ValidationError
from procurement.reports import (
    GroupRow,
    Line,
    build_report,
    bulletin_paragraphs,
    month_period,
    parse_filters,
    trailing_months,
)
from procurement.timeliness import DeadlineItem, group_by_unit, light_for, summarise

TODAY = date(2026, 11, 25)


def row(**values: object) -> GroupRow:
    base: dict[str, object] = {
        "bucket": 0,
        "category": "goods",
        "method": "open_tender",
        "status": "awarded",
        "failure_reason": "",
        "reference_kind": "budget",
        "lots": 1,
        "budget_fen": 0,
        "award_fen": 0,
        "reference_fen": 0,
        "days_sum": 0.0,
        "days_count": 0,
    }
    base.update(values)
    return GroupRow(**base)  # type: ignore[arg-type]


def test_no_period_means_the_current_month_in_china_standard_time() -> None:
    filters = parse_filters({}, today=TODAY)
    assert (filters.period.start, filters.period.end) == (date(2026, 11, 1), date(2026, 11, 30))
    low, high = filters.period.utc_bounds
    assert low == datetime(2026, 11, 1, tzinfo=CHINA)
    assert (low.hour, low.day) == (16, 31)
    assert high - low == timedelta(days=30)


def test_a_date_range_covers_both_end_days() -> None:
    filters = parse_filters({"from": "2026-02-01", "to": "2026-02-28"}, today=TODAY)
    assert filters.period.is_month
    assert filters.query() == {"month": "2026-02"}
    part = parse_filters({"from": "2026-02-03", "to": "2026-02-03"}, today=TODAY)
    assert part.period.label == "2026-02-03 – 2026-02-03"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "2026-03-01", "to": "2026-02-01"}, "inverted"),
        ({"from": "2001-01-01", "to": "2026-01-01"}, "ten years"),
        ({"month": "1990-01"}, "2000"),
        ({"month": "2026-00"}, "2026-11"),
        ({"month": "2026-11", "from": "2026-11-01"}, "either month"),
        ({"category": "weapons"}, "unknown category"),
        ({"sort": "desc"}, "unknown filter"),
    ],
)
def test_bad_filters_are_refused_with_a_message_naming_the_problem(
    params: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_filters(params, today=TODAY)


def test_the_trailing_twelve_months_cross_the_year() -> None:
    months = trailing_months(date(2026, 2, 10), 12)
    assert [m.label for m in months][:2] == ["2025-03", "2025-04"]
    assert months[-1] == month_period(2026, 2)


def test_the_rate_is_the_weighted_rate_never_the_mean_of_lot_rates() -> None:
    report = build_report(
        [
            row(budget_fen=123_456_700, award_fen=109_902_300),
            row(budget_fen=87_654_321, award_fen=80_000_000),
            row(budget_fen=50_000_000, award_fen=45_505_600),
        ]
    )
    assert report.government.rate_text == "9.84 %"
    assert report.government.saved_wan == Decimal("25.70")


def test_works_use_the_reference_and_government_lines_the_budget() -> None:
    report = build_report(
        [
            row(
                category="works",
                reference_kind="reserve",
                budget_fen=900,
                reference_fen=800,
                award_fen=700,
            ),
            row(
                category="services",
                method="competitive_negotiation",
                budget_fen=100,
                reference_fen=100,
                award_fen=90,
            ),
            row(method="price_inquiry", budget_fen=50, reference_fen=50, award_fen=40),
        ]
    )
    assert (report.works.reference_fen, report.works.saved_fen) == (800, 100)
    assert (report.government.reference_fen, report.government.events) == (150, 2)
    assert (report.inquiries.events, report.inquiries.award_fen) == (1, 40)
    assert report.by_method["price_inquiry"].award_fen == 40


def test_failed_lots_only_count_in_the_rates_and_reasons() -> None:
    report = build_report(
        [
            row(budget_fen=100, award_fen=90),
            row(status="failed", failure_reason="TOO_FEW_BIDS", lots=2, budget_fen=0),
            row(status="cancelled", lots=1),
        ]
    )
    assert report.government.reference_fen == 100
    assert report.failure_reasons == {"TOO_FEW_BIDS": 2, "CANCELLED": 1}
    assert report.award_rate == Decimal(1) / 4


@given(
    lots=st.lists(st.tuples(st.integers(1, 10**13), st.integers(0, 1000)), min_size=1, max_size=30)
)
def test_a_line_rounds_only_once_at_display(lots: list[tuple[int, int]]) -> None:
    line = Line()
    for budget, permille in lots:
        line.add(row(budget_fen=budget, award_fen=budget * permille // 1000))
    exact_saved = sum((Decimal(b - b * p // 1000) for b, p in lots), Decimal(0)) / 100 / 10_000
    assert line.saved_wan == exact_saved.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_an_empty_period_reads_as_zeros_and_dashes_in_the_bulletin() -> None:
    text = bulletin_paragraphs(build_report([]), "zh")
    assert text[0].startswith("月内政府集中采购共举行0次招投标(其中网上询价采购0次)")
    assert "节约率为—" in text[0]


CALENDAR = WorkingDayCalendar()


def item(due: datetime, unit: int = 1) -> DeadlineItem:
    return DeadlineItem(
        kind="question",
        label_zh="答复",
        label_en="Answer",
        unit_id=unit,
        unit_name=f"单位{unit}",
        subject="Q1",
        link="/",
        due=due,
        rule="GPL-R Art. 52",
    )


def test_an_item_is_red_after_its_due_time_yellow_within_a_working_day_else_green() -> None:
    friday = datetime(2026, 11, 27, 15, tzinfo=CHINA)
    assert light_for(friday - timedelta(minutes=1), friday, CALENDAR) == "red"
    # due next Monday evening: within one working day of Friday
    assert light_for(datetime(2026, 11, 30, 18, tzinfo=CHINA), friday, CALENDAR) == "yellow"
    assert light_for(datetime(2026, 12, 2, 9, tzinfo=CHINA), friday, CALENDAR) == "green"


def test_units_with_overdue_items_come_first() -> None:
    now = datetime(2026, 11, 25, 10, tzinfo=CHINA)
    statuses = summarise(
        [item(now + timedelta(days=10), unit=1), item(now - timedelta(hours=1), unit=2)],
        now,
        CALENDAR,
    )
    groups = group_by_unit(statuses)
    assert [g.unit_id for g in groups] == [2, 1]
    assert groups[0].count("red") == 1


@given(st.lists(st.one_of(st.none(), st.floats(-300, 300, allow_nan=False)), max_size=12))
def test_the_savings_rate_axis_holds_every_rate(rates: list[float | None]) -> None:
    low, high = rate_axis(rates)
    assert low % 5 == 0
    assert high % 5 == 0
    assert low <= 0
    assert high >= 20
    assert all(low <= rate <= high for rate in rates if rate is not None)
    if all(rate is None or 0 <= rate <= 20 for rate in rates):
        assert (low, high) == (0, 20)  # the usual axis when every month fits it
    assert rate_axis([7.05, 90.7, None]) == (0, 95)
    assert rate_axis([-5e-324]) == (-5, 20)  # the division rounds it to -0.0
