"""Supervision rules at their boundaries (R-SUP-1, R-SUP-2, R-SUP-6, R-SUP-7)."""

from datetime import datetime, timedelta

import pytest

from domain.supervision import (
    DEDUCTION,
    Level,
    Light,
    ReminderKind,
    Rule,
    StepTimes,
    deadlines,
    due_cards,
    light,
    reminders,
)
from domain.workcalendar import BUSINESS_ZONE, WorkCalendar

CAL = WorkCalendar()
MINUTE = timedelta(minutes=1)
MONDAY_9 = datetime(2026, 11, 2, 9, tzinfo=BUSINESS_ZONE)


def rules_due(step: StepTimes, at: datetime) -> list[Rule]:
    return [d.rule for d in due_cards(step, at, CAL)]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(hours=24) - MINUTE, []),
        (timedelta(hours=24), [Rule.ACCEPT_24H]),
        (timedelta(hours=48) - MINUTE, [Rule.ACCEPT_24H]),
        (timedelta(hours=48), [Rule.ACCEPT_24H, Rule.ACCEPT_48H]),
    ],
)
def test_acceptance_cards_in_natural_hours_r_sup_2(offset: timedelta, expected: list[Rule]) -> None:
    step = StepTimes(assigned_at=MONDAY_9)
    assert rules_due(step, MONDAY_9 + offset) == expected


def test_hours_are_natural_even_over_a_weekend_r_sup_2() -> None:
    friday_18 = datetime(2026, 11, 6, 18, tzinfo=BUSINESS_ZONE)
    step = StepTimes(assigned_at=friday_18)
    assert rules_due(step, friday_18 + timedelta(hours=24)) == [Rule.ACCEPT_24H]


def test_major_or_urgent_gets_one_12h_red_card_instead_r_sup_2() -> None:
    step = StepTimes(assigned_at=MONDAY_9, priority=True)
    assert rules_due(step, MONDAY_9 + timedelta(hours=12) - MINUTE) == []
    assert rules_due(step, MONDAY_9 + timedelta(hours=12)) == [Rule.ACCEPT_12H_PRIORITY]
    assert rules_due(step, MONDAY_9 + timedelta(days=30)) == [Rule.ACCEPT_12H_PRIORITY]
    assert [d.level for d in deadlines(step, CAL)] == [Level.RED]


def test_handling_cards_in_working_days_after_acceptance_r_sup_2() -> None:
    step = StepTimes(assigned_at=MONDAY_9, accepted_at=MONDAY_9 + timedelta(hours=1))
    five = datetime(2026, 11, 9, 10, tzinfo=BUSINESS_ZONE)
    ten = datetime(2026, 11, 16, 10, tzinfo=BUSINESS_ZONE)
    assert rules_due(step, five - MINUTE) == []
    assert rules_due(step, five) == [Rule.HANDLE_5WD]
    assert rules_due(step, ten - MINUTE) == [Rule.HANDLE_5WD]
    assert rules_due(step, ten) == [Rule.HANDLE_5WD, Rule.HANDLE_10WD]


def test_first_feedback_or_completion_stops_the_clock_r_sup_2() -> None:
    accepted = MONDAY_9 + timedelta(hours=1)
    late = MONDAY_9 + timedelta(days=30)
    with_feedback = StepTimes(MONDAY_9, accepted_at=accepted, first_feedback_at=accepted)
    finished = StepTimes(MONDAY_9, accepted_at=accepted, finished_at=accepted)
    assert rules_due(with_feedback, late) == []
    assert rules_due(finished, late) == []


def test_deductions_per_level_r_sup_1() -> None:
    assert DEDUCTION == {Level.NORMAL: 0, Level.YELLOW: -5, Level.RED: -10}


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (timedelta(hours=19), Light.GREEN),
        (timedelta(hours=19, minutes=12), Light.YELLOW),  # exactly 80 % of 24 h
        (timedelta(hours=24), Light.YELLOW),
        (timedelta(hours=24, minutes=1), Light.RED),
    ],
)
def test_indicator_light_r_sup_7(elapsed: timedelta, expected: Light) -> None:
    step = StepTimes(assigned_at=MONDAY_9)
    assert light(step, MONDAY_9 + elapsed, CAL) == expected


def test_expedited_is_red_throughout_r_sup_7() -> None:
    step = StepTimes(assigned_at=MONDAY_9)
    assert light(step, MONDAY_9, CAL, expedited=True) == Light.RED


def test_light_in_working_time_while_handling_r_sup_7() -> None:
    accepted = MONDAY_9
    step = StepTimes(MONDAY_9, accepted_at=accepted)
    # 4 working days later (Friday 09:00) is exactly 80 % of the 5-day limit.
    assert light(step, datetime(2026, 11, 6, 8, 59, tzinfo=BUSINESS_ZONE), CAL) == Light.GREEN
    assert light(step, datetime(2026, 11, 6, 9, tzinfo=BUSINESS_ZONE), CAL) == Light.YELLOW
    # The weekend does not count: Sunday evening is still before the limit.
    assert light(step, datetime(2026, 11, 8, 23, tzinfo=BUSINESS_ZONE), CAL) == Light.YELLOW
    assert light(step, datetime(2026, 11, 9, 9, 1, tzinfo=BUSINESS_ZONE), CAL) == Light.RED


def test_reminders_before_deadlines_r_sup_6() -> None:
    waiting = reminders(StepTimes(assigned_at=MONDAY_9), CAL)
    assert [(r.kind, r.at) for r in waiting] == [
        (ReminderKind.ACCEPT_SOON, MONDAY_9 + timedelta(hours=22))
    ]
    handling = reminders(StepTimes(MONDAY_9, accepted_at=MONDAY_9), CAL)
    assert [(r.kind, r.at) for r in handling] == [
        (ReminderKind.HANDLE_SOON, datetime(2026, 11, 6, 9, tzinfo=BUSINESS_ZONE))
    ]
