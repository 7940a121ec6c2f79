"""Working-day arithmetic (R-SUP-3): weekends, statutory holidays and adjusted working days,
checked on known weeks and by properties."""

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.workcalendar import BUSINESS_ZONE, WorkCalendar

PLAIN = WorkCalendar()


def shipped() -> WorkCalendar:
    """The calendar as the maintained package knows it (2004 – 2026)."""
    from chinese_calendar import constants

    return WorkCalendar(
        days_off=frozenset(d for d in constants.holidays if d.weekday() < 5),
        working_days=frozenset(constants.workdays),
    )


CHINA = shipped()


def bj(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=BUSINESS_ZONE)


def test_spec_examples_without_holidays_r_sup_3() -> None:
    monday = bj(2026, 11, 2, 10)
    assert PLAIN.add_working_days(monday, 5) == bj(2026, 11, 9, 10)
    saturday = bj(2026, 11, 7, 10)
    assert PLAIN.add_working_days(saturday, 5) == bj(2026, 11, 14, 0)


def test_spring_festival_2026_with_its_adjusted_saturdays_r_sup_3() -> None:
    """2026 Spring Festival: 15–23 Feb off; Saturday 14 Feb and Saturday 28 Feb worked."""
    assert CHINA.is_working_day(date(2026, 2, 14))
    assert not CHINA.is_working_day(date(2026, 2, 16))
    assert not CHINA.is_working_day(date(2026, 2, 23))
    assert CHINA.is_working_day(date(2026, 2, 28))
    # Friday 13 Feb 09:00 + 5 wd: Fri (15 h) + Sat 14 (24 h) + Tue 24 … Thu 26 (72 h) = 111 h,
    # the remaining 9 h fall on Friday 27 Feb.
    assert CHINA.add_working_days(bj(2026, 2, 13, 9), 5) == bj(2026, 2, 27, 9)


def test_national_day_2026_r_sup_3() -> None:
    """2026 National Day: 1–7 Oct off; Sunday 20 Sep and Saturday 10 Oct worked."""
    assert CHINA.is_working_day(date(2026, 9, 20))
    assert CHINA.is_working_day(date(2026, 10, 10))
    assert not CHINA.is_working_day(date(2026, 10, 5))
    # Wednesday 30 Sep 12:00 + 1 wd: 12 h on 30 Sep, then holidays to 7 Oct; 12 h on Thu 8 Oct.
    assert CHINA.add_working_days(bj(2026, 9, 30, 12), 1) == bj(2026, 10, 8, 12)


def test_agrees_with_the_package_on_every_day_it_knows() -> None:
    day = date(2004, 1, 1)
    while day <= date(2026, 12, 31):
        assert CHINA.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        PLAIN.add_working_days(datetime(2026, 1, 5, 9), 1)


instants = st.datetimes(
    min_value=datetime(2005, 1, 1),
    max_value=datetime(2026, 6, 30),
    timezones=st.just(BUSINESS_ZONE),
)


@given(instants, st.integers(min_value=0, max_value=15))
def test_adding_n_days_elapses_exactly_n_working_days(start: datetime, days: int) -> None:
    end = CHINA.add_working_days(start, days)
    assert end >= start
    assert CHINA.working_time_between(start, end) == timedelta(days=days)


@given(instants, st.integers(min_value=1, max_value=10), st.integers(min_value=1, max_value=10))
def test_adding_is_additive(start: datetime, a: int, b: int) -> None:
    assert CHINA.add_working_days(CHINA.add_working_days(start, a), b) == CHINA.add_working_days(
        start, a + b
    )


@given(instants, st.integers(min_value=1, max_value=10))
def test_a_deadline_never_lands_inside_a_day_off_except_at_its_start(
    start: datetime, days: int
) -> None:
    end = CHINA.add_working_days(start, days).astimezone(BUSINESS_ZONE)
    at_midnight = end.hour == end.minute == end.second == end.microsecond == 0
    # Either it lies on a working date, or it is the midnight that ends one.
    assert CHINA.is_working_day(end.date()) or (
        at_midnight and CHINA.is_working_day(end.date() - timedelta(days=1))
    )
