"""Trend arithmetic for the statistics (R-ANA-1): buckets of a day, a week or a month, the
bucket a year before (同比) and the one before (环比), and the change ratios between them."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Granularity(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def bucket_start(day: date, granularity: Granularity) -> date:
    """The first day of the bucket holding `day` (weeks start on Monday, like ISO weeks)."""
    if granularity == Granularity.DAY:
        return day
    if granularity == Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def shift(start: date, granularity: Granularity, steps: int) -> date:
    """The bucket `steps` buckets after (negative: before) the bucket starting at `start`."""
    if granularity == Granularity.DAY:
        return start + timedelta(days=steps)
    if granularity == Granularity.WEEK:
        return start + timedelta(weeks=steps)
    return _add_months(start, steps)


def year_before(start: date, granularity: Granularity) -> date:
    """The same bucket a year earlier: the same month, the same ISO week number's Monday
    (52 weeks back), or the same calendar day (29 February falls back to the 28th)."""
    if granularity == Granularity.MONTH:
        return _add_months(start, -12)
    if granularity == Granularity.WEEK:
        return start - timedelta(weeks=52)
    try:
        return start.replace(year=start.year - 1)
    except ValueError:
        return start.replace(year=start.year - 1, day=28)


def buckets(first: date, last: date, granularity: Granularity) -> list[date]:
    """Every bucket from the one holding `first` to the one holding `last`, in order."""
    current, end = bucket_start(first, granularity), bucket_start(last, granularity)
    out = []
    while current <= end:
        out.append(current)
        current = shift(current, granularity, 1)
    return out


def change(value: int, base: int) -> float | None:
    """(value − base) / base, rounded to four places; none when there is no base to compare."""
    if base == 0:
        return None
    return round((value - base) / base, 4)


@dataclass(frozen=True)
class TrendPoint:
    start: date
    value: int
    year_before: int
    previous: int
    # 同比 and 环比 as ratios (0.25 = +25 %).
    yoy: float | None
    mom: float | None


def trend(
    counts: dict[date, int], first: date, last: date, granularity: Granularity
) -> list[TrendPoint]:
    """The trend from `first` to `last` out of counts per bucket start (which must also
    cover the year before and the bucket before the first)."""
    points = []
    for start in buckets(first, last, granularity):
        value = counts.get(start, 0)
        earlier = counts.get(year_before(start, granularity), 0)
        previous = counts.get(shift(start, granularity, -1), 0)
        points.append(
            TrendPoint(
                start, value, earlier, previous, change(value, earlier), change(value, previous)
            )
        )
    return points


def window(first: date, granularity: Granularity) -> date:
    """The earliest day whose count a trend starting at `first` needs."""
    start = bucket_start(first, granularity)
    return min(year_before(start, granularity), shift(start, granularity, -1))
