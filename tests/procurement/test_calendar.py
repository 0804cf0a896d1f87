"""Working days on the official calendar, admins' overrides, and years the library lacks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from procurement.calendar import WorkingDayCalendar
from procurement.exceptions import ValidationError

CAL = WorkingDayCalendar()


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


class WeekdaysOnly:
    """A stand-in holiday library that knows only 2030 and treats it as Monday-Friday."""

    def __init__(self) -> None:
        self.calls = 0

    def is_workday(self, day: date) -> bool:
        self.calls += 1
        if day.year != 2030:
            raise NotImplementedError(day.year)
        return day.weekday() < 5


def test_national_day_week_2026_is_off_from_1_to_7_october() -> None:
    assert [CAL.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 7))] == [
        False
    ] * 7


def test_national_day_2026_make_up_days_are_sunday_20_september_and_saturday_10_october() -> None:
    assert CAL.is_working_day(date(2026, 9, 20))  # Sunday 调休
    assert CAL.is_working_day(date(2026, 10, 10))  # Saturday 调休
    assert not CAL.is_working_day(date(2026, 10, 11))  # an ordinary Sunday


def test_spring_festival_2026_is_off_from_15_to_23_february() -> None:
    assert not any(CAL.is_working_day(d) for d in days(date(2026, 2, 15), date(2026, 2, 23)))
    assert CAL.is_working_day(date(2026, 2, 24))


def test_spring_festival_2026_make_up_saturdays_14_and_28_february_are_working_days() -> None:
    assert CAL.is_working_day(date(2026, 2, 14))
    assert CAL.is_working_day(date(2026, 2, 28))


def test_ordinary_weekdays_work_and_weekends_rest() -> None:
    assert CAL.is_working_day(date(2026, 3, 2))  # Monday
    assert not CAL.is_working_day(date(2026, 3, 22))  # Sunday


def test_rules_example_three_working_days_after_monday_23_november_2026_is_thursday() -> None:
    assert CAL.add_working_days(date(2026, 11, 23), 3) == date(2026, 11, 26)
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 26)) == 3


def test_the_triggering_day_is_not_counted() -> None:
    assert CAL.add_working_days(date(2026, 11, 23), 0) == date(2026, 11, 23)
    assert CAL.add_working_days(date(2026, 11, 23), 1) == date(2026, 11, 24)
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 23)) == 0
    assert CAL.working_days_between(date(2026, 11, 23), date(2026, 11, 24)) == 1


def test_counting_backwards_is_zero_and_adding_backwards_goes_to_earlier_working_days() -> None:
    assert CAL.working_days_between(date(2026, 11, 26), date(2026, 11, 23)) == 0
    assert CAL.add_working_days(date(2026, 11, 26), -3) == date(2026, 11, 23)
    assert CAL.add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)


def test_adding_working_days_across_national_day_counts_the_make_up_saturday() -> None:
    # 30 Sep (Wed) + 1 → 8 Oct (Thu); + 3 → Saturday 10 Oct, a 调休 working day.
    # After Friday 25 Sep up to Monday 12 Oct: 28, 29, 30 Sep, 8, 9, 10, 12 Oct.
    assert CAL.add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert CAL.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CAL.working_days_between(date(2026, 9, 25), date(2026, 10, 12)) == 7


def test_next_working_day_is_the_day_itself_or_the_first_after_the_holiday() -> None:
    assert CAL.next_working_day(date(2026, 3, 2)) == date(2026, 3, 2)
    assert CAL.next_working_day(date(2026, 3, 22)) == date(2026, 3, 23)
    assert CAL.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert CAL.next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)


def test_2027_falls_back_to_weekends_only_and_is_unconfirmed() -> None:
    assert not CAL.is_confirmed(2027)
    assert CAL.is_confirmed(2026)
    assert CAL.is_working_day(date(2027, 1, 1))  # a Friday, not yet known as New Year's Day
    assert not CAL.is_working_day(date(2027, 1, 2))  # Saturday
    assert CAL.add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 1)


def test_unconfirmed_years_lists_only_the_unknown_years_in_either_order() -> None:
    assert CAL.unconfirmed_years(date(2026, 12, 20), date(2027, 1, 15)) == [2027]
    assert CAL.unconfirmed_years(date(2029, 1, 1), date(2026, 1, 1)) == [2027, 2028, 2029]
    assert CAL.unconfirmed_years(date(2026, 1, 1), date(2026, 12, 31)) == []
    assert CAL.unconfirmed_years(date(2003, 6, 1), date(2004, 6, 1)) == [2003]


def test_overrides_beat_the_library_both_ways() -> None:
    cal = WorkingDayCalendar(overrides={date(2026, 10, 1): True, date(2026, 3, 2): False})
    assert cal.is_working_day(date(2026, 10, 1))
    assert not cal.is_working_day(date(2026, 3, 2))
    assert cal.next_working_day(date(2026, 3, 2)) == date(2026, 3, 3)


def test_an_admins_table_for_2027_confirms_the_year_and_sets_its_holidays() -> None:
    new_year = {date(2027, 1, 1): False}
    cal = WorkingDayCalendar(overrides=new_year)
    assert cal.is_confirmed(2027)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.unconfirmed_years(date(2026, 12, 1), date(2027, 2, 1)) == []


def test_an_injected_library_is_used_and_asked_once_per_unknown_year() -> None:
    library = WeekdaysOnly()
    cal = WorkingDayCalendar(library=library)
    assert cal.is_confirmed(2030)
    assert not cal.is_confirmed(2031)
    calls = library.calls
    assert cal.working_days_between(date(2030, 12, 31), date(2031, 12, 31)) == 261
    assert library.calls == calls  # 2031 is known to be unknown: no more questions


def test_the_ends_of_the_calendar_give_a_clear_error_not_a_crash() -> None:
    assert CAL.is_working_day(date.max)
    assert CAL.is_working_day(date.min)
    with pytest.raises(ValidationError, match="end of the calendar"):
        CAL.add_working_days(date.max, 1)
    with pytest.raises(ValidationError, match="end of the calendar"):
        CAL.add_working_days(date.min, -1)
    assert CAL.next_working_day(date(9999, 12, 25)) == date(9999, 12, 27)  # Sat → Mon


def test_a_calendar_without_any_working_day_stops_searching() -> None:
    start = date(2027, 1, 1)
    closed = WorkingDayCalendar(overrides={start + timedelta(days=i): False for i in range(3700)})
    with pytest.raises(ValidationError, match="no working day"):
        closed.next_working_day(start)
    with pytest.raises(ValidationError, match="no working day"):
        closed.add_working_days(start, 1)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(min_value=0, max_value=40),
)
def test_adding_and_counting_working_days_agree(start: date, n: int) -> None:
    end = CAL.add_working_days(start, n)
    assert CAL.working_days_between(start, end) == n
    if n:
        assert CAL.is_working_day(end)
        assert CAL.working_days_between(start, end - timedelta(days=1)) == n - 1


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    st.integers(min_value=1, max_value=40),
)
def test_adding_backwards_undoes_adding_forwards_from_a_working_day(start: date, n: int) -> None:
    working_start = CAL.next_working_day(start)
    assert CAL.add_working_days(CAL.add_working_days(working_start, n), -n) == working_start


@given(st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31)))
def test_known_years_follow_the_library_exactly(day: date) -> None:
    import chinese_calendar

    assert CAL.is_working_day(day) == chinese_calendar.is_workday(day)


@given(st.dates())
def test_never_crashes_on_any_date(day: date) -> None:
    assert isinstance(CAL.is_working_day(day), bool)
    assert isinstance(CAL.is_confirmed(day.year), bool)
    if day.year >= 2027 or day.year < 2004:
        assert CAL.is_working_day(day) == (day.weekday() < 5)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)))
def test_next_working_day_is_the_first_working_day_on_or_after(day: date) -> None:
    found = CAL.next_working_day(day)
    assert CAL.is_working_day(found)
    assert all(not CAL.is_working_day(d) for d in days(day, found - timedelta(days=1)))
