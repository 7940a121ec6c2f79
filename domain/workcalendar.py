"""The Chinese working-day calendar and working-time arithmetic (R-SUP-3).

Weekends and statutory holidays are off; adjusted working days (调休补班, e.g. a Saturday) are
on. The calendar is data: the service loads the stored exceptions; nothing here does I/O.
"N working days after T" is the instant when N×24 hours of time lying on working dates have
elapsed since T, counted in the business time zone.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

BUSINESS_ZONE = ZoneInfo("Asia/Shanghai")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """Exceptions to the Monday–Friday week: days off on weekdays, working weekend days."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    working_days: frozenset[date] = field(default_factory=frozenset)
    zone: tzinfo = BUSINESS_ZONE

    def is_working_day(self, day: date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The instant `days`×24 h of working time after `start` (an aware datetime)."""
        return self.add_working_time(start, days * DAY)

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if amount < timedelta(0):
            raise ValueError("amount must not be negative")
        moment = start.astimezone(self.zone)
        remaining = amount
        while True:
            day_end = _next_midnight(moment)
            if self.is_working_day(moment.date()):
                available = day_end - moment
                if remaining <= available:
                    return (moment + remaining).astimezone(start.tzinfo)
                remaining -= available
            moment = day_end

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time elapsed from `start` to `end` (zero when end ≤ start)."""
        moment = start.astimezone(self.zone)
        end = end.astimezone(self.zone)
        total = timedelta(0)
        while moment < end:
            day_end = min(_next_midnight(moment), end)
            if self.is_working_day(moment.date()):
                total += day_end - moment
            moment = day_end
        return total


def _next_midnight(moment: datetime) -> datetime:
    # China keeps no daylight saving time, so local midnights are exactly a day apart.
    midnight = datetime.combine(moment.date(), datetime.min.time(), tzinfo=moment.tzinfo)
    return midnight + DAY
