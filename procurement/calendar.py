"""Working days on the official Chinese calendar (ARCHITECTURE §2 "Working days").

A day's status comes from the admins' override table first, then the ``chinese-calendar``
library (weekends, public holidays and make-up working weekends 调休); for a year the
library does not know (it raises NotImplementedError past 2026) only weekends count and the
year is reported as unconfirmed. The triggering day is never counted (Civil Code Art. 201).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from types import ModuleType

import chinese_calendar

MAX_SPAN_DAYS = 3660


class WorkingDayCalendar:
    """Answers "is this a working day?" and counts working days, never crashing on a date."""

    def __init__(
        self, overrides: Mapping[date, bool] | None = None, library: ModuleType = chinese_calendar
    ) -> None:
        self._overrides = dict(overrides or {})
        self._library = library

    def _library_answer(self, day: date) -> bool | None:
        try:
            return bool(self._library.is_workday(day))
        except NotImplementedError:
            return None

    def is_confirmed(self, year: int) -> bool:
        """Whether the official schedule for ``year`` is known (library or overrides)."""
        if any(d.year == year for d in self._overrides):
            return True
        return self._library_answer(date(year, 6, 1)) is not None

    def is_working_day(self, day: date) -> bool:
        """Override, else library, else Monday-Friday."""
        if day in self._overrides:
            return self._overrides[day]
        answer = self._library_answer(day)
        return day.weekday() < 5 if answer is None else answer

    def unconfirmed_years(self, start: date, end: date) -> list[int]:
        """Years between ``start`` and ``end`` whose holiday schedule is not known yet."""
        return [y for y in range(start.year, end.year + 1) if not self.is_confirmed(y)]

    def next_working_day(self, day: date) -> date:
        """``day`` itself if it is a working day, else the next one."""
        for _ in range(MAX_SPAN_DAYS):
            if self.is_working_day(day):
                return day
            day += timedelta(days=1)
        raise ValueError("no working day within ten years")

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself is not counted)."""
        if count < 0:
            raise ValueError("count must not be negative")
        day = start
        for _ in range(count):
            day = self.next_working_day(day + timedelta(days=1))
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if end ≤ start)."""
        if (end - start).days > MAX_SPAN_DAYS:
            raise ValueError("span longer than ten years")
        count = 0
        day = start + timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += timedelta(days=1)
        return count
