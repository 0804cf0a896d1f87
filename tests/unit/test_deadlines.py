"""Legal minimum time limits of a timeline (RULES §2 and §10(d))."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from procurement.calendar import WorkingDayCalendar
from procurement.clock import CHINA
from procurement.deadlines import (
    TimeLimits,
    Timeline,
    check_timeline,
    earliest_bid_deadline,
)
from procurement.exceptions import ValidationError
from procurement.lifecycle import ProcurementMethod, ProjectCategory

CAL = WorkingDayCalendar()
GOODS, WORKS = ProjectCategory.GOODS, ProjectCategory.WORKS
TENDER, INQUIRY = ProcurementMethod.OPEN_TENDER, ProcurementMethod.PRICE_INQUIRY
NOW = datetime(2026, 2, 20, 9, tzinfo=CHINA)


def at(day: str, hour: int = 9) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=CHINA)


def timeline(
    start: str, deadline: str, *, until_days: int = 7, clarification: str | None = None
) -> Timeline:
    begin = at(start)
    return Timeline(
        documents_from=begin,
        documents_until=begin + timedelta(days=until_days),
        clarification_deadline=at(clarification) if clarification else None,
        bid_deadline=at(deadline),
        opening_time=at(deadline),
    )


def violations(
    t: Timeline, category: ProjectCategory = GOODS, method: ProcurementMethod = TENDER
) -> list[str]:
    return [
        v.field
        for v in check_timeline(
            t, category=category, method=method, calendar=CAL, now=NOW
        ).violations
    ]


def test_rules_example_tender_issued_monday_2_march() -> None:
    # RULES §10(d): day 20 is Sunday 22 March; platform default moves it to Monday 23
    assert earliest_bid_deadline(date(2026, 3, 2), GOODS, TENDER, CAL) == date(2026, 3, 23)
    relaxed = TimeLimits(deadline_on_working_day=False)
    assert earliest_bid_deadline(date(2026, 3, 2), GOODS, TENDER, CAL, relaxed) == date(2026, 3, 22)


def test_twenty_days_exactly_is_enough_and_nineteen_is_not() -> None:
    assert violations(timeline("2026-03-02", "2026-03-23")) == []
    assert "bid_deadline" in violations(timeline("2026-03-04", "2026-03-23"))


def test_inquiry_needs_three_working_days() -> None:
    assert violations(timeline("2026-11-23", "2026-11-26", until_days=2), method=INQUIRY) == []
    assert "bid_deadline" in violations(
        timeline("2026-11-23", "2026-11-25", until_days=2), method=INQUIRY
    )


def test_deadline_on_a_sunday_is_refused() -> None:
    assert "bid_deadline" in violations(timeline("2026-03-02", "2026-03-29"))


def test_clarifications_need_fifteen_days_before_the_deadline() -> None:
    assert violations(timeline("2026-03-02", "2026-03-23", clarification="2026-03-08")) == []
    assert "clarification_deadline" in violations(
        timeline("2026-03-02", "2026-03-23", clarification="2026-03-09")
    )


def test_government_documents_need_five_working_days_works_five_days() -> None:
    # 2026-04-03 (Fri) + 4 days: Qingming 4-6 April leaves too few working days
    short = timeline("2026-04-03", "2026-04-27", until_days=4)
    assert "documents_until" in violations(short, GOODS)
    assert "documents_until" in violations(short, WORKS)
    assert "documents_until" not in violations(
        timeline("2026-04-03", "2026-04-27", until_days=5), WORKS
    )


def test_ordering_and_the_past_are_refused() -> None:
    t = timeline("2026-01-05", "2026-02-02")
    assert "bid_deadline" in violations(t)  # in the past relative to NOW
    backwards = Timeline(
        documents_from=at("2026-03-10"),
        documents_until=at("2026-03-09"),
        clarification_deadline=None,
        bid_deadline=at("2026-04-10"),
        opening_time=at("2026-04-09"),
    )
    fields = violations(backwards)
    assert "documents_until" in fields
    assert "opening_time" in fields


def test_errors_are_raised_with_every_violation_and_rule() -> None:
    check = check_timeline(
        timeline("2026-03-10", "2026-03-29"), category=GOODS, method=TENDER, calendar=CAL, now=NOW
    )
    with pytest.raises(ValidationError) as raised:
        check.raise_if_invalid()
    assert "GPL Art. 35" in str(raised.value)
    assert "non-working day" in str(raised.value)


def test_a_december_tender_with_a_2027_deadline_warns_and_does_not_crash() -> None:
    check = check_timeline(
        timeline("2026-12-14", "2027-01-05"),
        category=GOODS,
        method=TENDER,
        calendar=CAL,
        now=datetime(2026, 12, 1, tzinfo=CHINA),
    )
    assert check.ok
    assert "2027" in check.warnings[0]
