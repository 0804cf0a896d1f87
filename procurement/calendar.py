"""Working days 工作日 on the official Chinese calendar (ARCHITECTURE §2 "Working days").

Legal time limits in working days skip weekends and statutory holidays and count the make-up
working weekends 调休 (RULES conventions). A day's status comes from the admins' override
table first, then the ``chinese-calendar`` library; for a year the library does not know (it
raises NotImplementedError outside 2004-2026) only weekends are days off and the year is
reported as unconfirmed, because a tender published in December already has deadlines in a
year whose schedule the State Council announces only weeks before. The triggering day is
never counted (Civil Code Art. 201).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Protocol

import chinese_calendar

from procurement.exceptions import ValidationError

MAX_SEARCH_DAYS = 3660
"""Give up looking for a working day after ten years: only a broken override table gets here."""

_ONE_DAY = timedelta(days=1)
_PROBE_DAY = (6, 1)  # an ordinary day: asking about it tells whether the year is known


class HolidayLibrary(Protocol):
    """What the calendar needs from ``chinese_calendar`` (a stand-in can be passed in tests)."""

    def is_workday(self, day: date) -> bool:
        """Whether ``day`` is a working day; NotImplementedError for an unknown year."""
        ...


class WorkingDayCalendar:
    """Answers "is this a working day?" and counts working days, never crashing on a date.

    Args:
        overrides: the admins' holiday table, day → is a working day. Entering a year's days
            is how an admin records the State Council's schedule for a new year, so a year
            with any override counts as confirmed.
        library: the holiday data, ``chinese_calendar`` unless a test passes another.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        library: HolidayLibrary = chinese_calendar,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._override_years = frozenset(day.year for day in self._overrides)
        self._library = library
        self._known_years: dict[int, bool] = {}

    def _library_answer(self, day: date) -> bool | None:
        """The library's answer, or None when it does not know the year."""
        if self._known_years.get(day.year) is False:
            return None
        try:
            answer = bool(self._library.is_workday(day))
        except NotImplementedError:
            self._known_years[day.year] = False
            return None
        self._known_years[day.year] = True
        return answer

    def is_confirmed(self, year: int) -> bool:
        """Whether the official schedule of ``year`` is known (from the library or admins)."""
        if year in self._override_years:
            return True
        if year not in self._known_years:
            self._library_answer(date(year, *_PROBE_DAY))
        return self._known_years[year]

    def is_working_day(self, day: date) -> bool:
        """Override if there is one, else the library, else Monday to Friday."""
        if day in self._overrides:
            return self._overrides[day]
        answer = self._library_answer(day)
        return day.weekday() < 5 if answer is None else answer

    def unconfirmed_years(self, start: date, end: date) -> list[int]:
        """Years from ``start`` to ``end`` (inclusive, either order) without a known schedule.

        A deadline computed across such a year counted weekends only: warn the admins and the
        purchaser (ARCHITECTURE §2).
        """
        first, last = sorted((start.year, end.year))
        return [year for year in range(first, last + 1) if not self.is_confirmed(year)]

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it.

        A period ending on a holiday moves to the next working day (Civil Code Art. 203).

        Raises:
            ValidationError: no working day before the end of the representable calendar
                (only for dates near year 9999 or an override table without working days).
        """
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_working_day(day):
                return day
            day = _step(day, 1)
        raise ValidationError("no working day found within ten years after {day}", day=day)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself is not counted.

        RULES conventions (Civil Code Art. 201): a notice on Monday 2026-11-23 plus 3 working
        days is Thursday 2026-11-26. ``n = 0`` gives ``start``; a negative ``n`` counts
        backwards (the ``|n|``-th working day before ``start``).

        Raises:
            ValidationError: the result would leave the representable calendar.
        """
        direction = 1 if n >= 0 else -1
        day = start
        for _ in range(abs(n)):
            day = _step(day, direction)
            gap = 0
            while not self.is_working_day(day):
                gap += 1
                if gap > MAX_SEARCH_DAYS:
                    raise ValidationError("no working day found within ten years of {day}", day=day)
                day = _step(day, direction)
        return day

    def working_days_between(self, a: date, b: date) -> int:
        """Working days after ``a`` up to and including ``b``; 0 when ``b`` is not after ``a``.

        So ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n ≥ 0``.
        """
        count = 0
        day = a
        while day < b:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count


def _step(day: date, direction: int) -> date:
    """The next (or previous) calendar day, as a user error at the ends of the calendar."""
    try:
        return day + direction * _ONE_DAY
    except OverflowError:
        raise ValidationError("{day} is at the end of the calendar", day=day) from None
