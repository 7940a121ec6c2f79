"""R-ANA-1 trend arithmetic: buckets, the year before (同比), the bucket before (环比)."""

from datetime import date

from domain.analysis import Granularity, bucket_start, buckets, change, trend, window, year_before

DAY, WEEK, MONTH = Granularity.DAY, Granularity.WEEK, Granularity.MONTH


def test_r_ana_1_buckets_start_on_the_day_the_monday_and_the_first() -> None:
    day = date(2026, 11, 26)  # a Thursday
    assert bucket_start(day, DAY) == day
    assert bucket_start(day, WEEK) == date(2026, 11, 23)
    assert bucket_start(day, MONTH) == date(2026, 11, 1)
    assert buckets(date(2026, 11, 15), date(2027, 2, 3), MONTH) == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]
    assert buckets(date(2026, 11, 26), date(2026, 12, 1), WEEK) == [
        date(2026, 11, 23),
        date(2026, 11, 30),
    ]


def test_r_ana_1_the_year_before() -> None:
    assert year_before(date(2026, 1, 1), MONTH) == date(2025, 1, 1)
    assert year_before(date(2026, 11, 23), WEEK) == date(2025, 11, 24)
    assert year_before(date(2028, 2, 29), DAY) == date(2027, 2, 28)
    assert window(date(2026, 3, 5), MONTH) == date(2025, 3, 1)
    assert window(date(2026, 3, 5), DAY) == date(2025, 3, 5)


def test_r_ana_1_change_ratios() -> None:
    assert change(15, 10) == 0.5
    assert change(5, 10) == -0.5
    assert change(1, 3) == -0.6667
    assert change(7, 0) is None


def test_r_ana_1_trend_with_year_on_year_and_month_on_month() -> None:
    counts = {date(2025, 1, 1): 4, date(2025, 12, 1): 10, date(2026, 1, 1): 6, date(2026, 2, 1): 9}
    points = trend(counts, date(2026, 1, 10), date(2026, 3, 2), MONTH)
    assert [(p.start, p.value, p.year_before, p.previous, p.yoy, p.mom) for p in points] == [
        (date(2026, 1, 1), 6, 4, 10, 0.5, -0.4),
        (date(2026, 2, 1), 9, 0, 6, None, 0.5),
        (date(2026, 3, 1), 0, 0, 9, None, -1.0),
    ]
