"""Time as an injected dependency, so deadlines can be tested without waiting (STYLE)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def china_time(moment: datetime) -> str:
    """A moment as a message states it: China Standard Time, which deadlines are set in.

    Stored moments are UTC; a refusal that said "the bid deadline 2026-12-28T01:00:00+00:00
    has passed" made the bidder convert a deadline it knows as 09:00.
    """
    return f"{moment.astimezone(CHINA):%Y-%m-%d %H:%M:%S} (UTC+8)"


class Clock(Protocol):
    """Source of the current time; the server clock is authoritative (ETM Art. 27-28)."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """The current time from the operating system, in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and demo data."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware time")
        self._at = at

    def now(self) -> datetime:
        """The time the clock was set to."""
        return self._at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._at += delta


SYSTEM_CLOCK: Clock = SystemClock()
