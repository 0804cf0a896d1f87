"""Working days on the official calendar, overrides, and years the library does not know."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from procurement.calendar import WorkingDayCalendar

CAL = WorkingDayCalendar()


def test_national_day_week_is_off_and_makeup_saturday_is_on() -> None:
    assert not CAL.is_working_day(date(2026, 10, 1))
    assert not CAL.is_working_day(date(2026, 10, 7))
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday 调休 working day


def test_spring_festival_2026() -> None:
    assert not CAL.is_working_day(date(2026, 2, 17))  # 初一
    assert CAL.is_working_day(date(2026, 2, 14))  # Saturday made a working day


def test_rules_example_inquiry_notice_on_monday_23_november() -> None:
    # RULES §10(d): working days 11-24, 11-25, 11-26 -> earliest deadline Thursday 26th
    assert CAL.add_working_days(date(2026, 11, 23), 3) == date(2026, 11, 26)


def test_triggering_day_is_not_counted() -> None:
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 24)) == 1


def test_2027_counts_weekends_only_and_is_unconfirmed() -> None:
    assert not CAL.is_confirmed(2027)
    assert CAL.unconfirmed_years(date(2026, 12, 20), date(2027, 1, 15)) == [2027]
    assert CAL.is_working_day(date(2027, 1, 1))  # not yet known as a holiday
    assert not CAL.is_working_day(date(2027, 1, 2))  # Saturday


def test_admin_overrides_beat_the_library_and_confirm_the_year() -> None:
    cal = WorkingDayCalendar(overrides={date(2027, 1, 1): False, date(2026, 10, 1): True})
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2026, 10, 1))
    assert cal.is_confirmed(2027)


def test_next_working_day_skips_the_whole_holiday() -> None:
    assert CAL.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)


@given(
    st.dates(min_value=date(2004, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(min_value=0, max_value=40),
)
def test_adding_and_counting_working_days_agree(start: date, count: int) -> None:
    end = CAL.add_working_days(start, count)
    assert CAL.working_days_between(start, end) == count
    if count:
        assert CAL.is_working_day(end)
        assert CAL.working_days_between(start, end - timedelta(days=1)) == count - 1


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)))
def test_never_crashes_on_a_date(day: date) -> None:
    assert isinstance(CAL.is_working_day(day), bool)
