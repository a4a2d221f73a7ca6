"""The organisation's business-day calendar (weekends, holidays, time zone) for SLA deadlines.

A deadline of ``n`` business days falls at the same local wall-clock time on the ``n``-th business day
after the start: a Friday 15:00 submission with a 5-day SLA is due the next Friday at 15:00 (or later
when holidays intervene). Deadlines are computed once, when the clock starts, and stored on the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from accountability.config import policy

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekend days (0 = Monday), holiday dates and the organisation's time zone."""

    tz: ZoneInfo
    weekend: frozenset[int]
    holidays: frozenset[dt.date]

    def is_business_day(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_business_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """The moment ``days`` business days after ``start`` (aware datetime, same local time)."""
        if days < 0:
            raise ValueError("days must be zero or more")
        local = start.astimezone(self.tz)
        day, counted = local.date(), 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                counted += 1
        if days == 0:
            return start
        return dt.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=self.tz)

    def business_days_between(self, start: dt.datetime, end: dt.datetime) -> int:
        """Whole business days from ``start``'s local date to ``end``'s (0 when end is not later)."""
        first, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        count, day = 0, first
        while day < last:
            day += dt.timedelta(days=1)
            if self.is_business_day(day):
                count += 1
        return count


def calendar_from(section: dict) -> BusinessCalendar:
    """Build a calendar from the policy's ``calendar`` section."""
    return BusinessCalendar(
        tz=ZoneInfo(section["timezone"]),
        weekend=frozenset(WEEKDAYS.index(day) for day in section["weekend"]),
        holidays=frozenset(dt.date.fromisoformat(str(d)) for d in section.get("holidays", [])),
    )


def business_calendar() -> BusinessCalendar:
    """The organisation's calendar from the governance policy."""
    return calendar_from(policy()["calendar"])
