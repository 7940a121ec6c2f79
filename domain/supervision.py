"""Time-limit supervision of a step (R-SUP-1, R-SUP-2, R-SUP-6, R-SUP-7): which automatic
cards a step earns and when, its indicator light, and the reminders before its deadlines.

Pure: the clock (`now`) and the working-day calendar are parameters. Hour limits are natural
hours; day limits are working days (R-SUP-3).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.workcalendar import WorkCalendar


class Level(StrEnum):
    NORMAL = "normal"
    YELLOW = "yellow"
    RED = "red"


class Rule(StrEnum):
    ACCEPT_24H = "accept_24h"
    ACCEPT_48H = "accept_48h"
    ACCEPT_12H_PRIORITY = "accept_12h_priority"
    HANDLE_5WD = "handle_5wd"
    HANDLE_10WD = "handle_10wd"


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


RULE_LEVEL: dict[Rule, Level] = {
    Rule.ACCEPT_24H: Level.YELLOW,
    Rule.ACCEPT_48H: Level.RED,
    Rule.ACCEPT_12H_PRIORITY: Level.RED,
    Rule.HANDLE_5WD: Level.YELLOW,
    Rule.HANDLE_10WD: Level.RED,
}
DEDUCTION: dict[Level, int] = {Level.NORMAL: 0, Level.YELLOW: -5, Level.RED: -10}
LIGHT_YELLOW_SHARE = 0.8


@dataclass(frozen=True)
class StepTimes:
    assigned_at: datetime
    accepted_at: datetime | None = None
    # The first feedback or the completion stops the handling clock (R-SUP-2).
    first_feedback_at: datetime | None = None
    finished_at: datetime | None = None
    # A major or urgent event: one 12-hour acceptance card replaces the 24 h / 48 h ones.
    priority: bool = False


@dataclass(frozen=True)
class Deadline:
    rule: Rule
    level: Level
    due_at: datetime


def deadlines(step: StepTimes, calendar: WorkCalendar) -> list[Deadline]:
    """Every card deadline of the step's current phase, earliest first. Stored on the step
    when it changes; the sweep issues the ones whose time has come."""
    if step.finished_at is not None:
        return []
    if step.accepted_at is None:
        if step.priority:
            rules = [(Rule.ACCEPT_12H_PRIORITY, step.assigned_at + timedelta(hours=12))]
        else:
            rules = [
                (Rule.ACCEPT_24H, step.assigned_at + timedelta(hours=24)),
                (Rule.ACCEPT_48H, step.assigned_at + timedelta(hours=48)),
            ]
    elif step.first_feedback_at is None:
        rules = [
            (Rule.HANDLE_5WD, calendar.add_working_days(step.accepted_at, 5)),
            (Rule.HANDLE_10WD, calendar.add_working_days(step.accepted_at, 10)),
        ]
    else:
        rules = []
    return [Deadline(rule, RULE_LEVEL[rule], due) for rule, due in rules]


def due_cards(step: StepTimes, now: datetime, calendar: WorkCalendar) -> list[Deadline]:
    """The cards due by `now`: each (step, rule) fires at most once, which the caller's unique
    constraint guarantees; a red card does not remove an earlier yellow one."""
    return [d for d in deadlines(step, calendar) if d.due_at <= now]


def light(
    step: StepTimes, now: datetime, calendar: WorkCalendar, *, expedited: bool = False
) -> Light:
    """R-SUP-7: green below 80 % of the current limit, yellow from 80 % to 100 %, red beyond;
    an expedited event is red throughout."""
    if expedited:
        return Light.RED
    if step.finished_at is not None:
        return Light.GREEN
    share = _elapsed_share(step, now, calendar)
    if share is None or share < LIGHT_YELLOW_SHARE:
        return Light.GREEN
    return Light.YELLOW if share <= 1 else Light.RED


def _elapsed_share(step: StepTimes, now: datetime, calendar: WorkCalendar) -> float | None:
    if step.accepted_at is None:
        limit = timedelta(hours=12 if step.priority else 24)
        return (now - step.assigned_at) / limit
    if step.first_feedback_at is None:
        elapsed = calendar.working_time_between(step.accepted_at, now)
        return elapsed / timedelta(days=5)
    return None


class ReminderKind(StrEnum):
    ACCEPT_SOON = "accept_soon"
    HANDLE_SOON = "handle_soon"


@dataclass(frozen=True)
class Reminder:
    kind: ReminderKind
    at: datetime
    deadline: datetime


def reminders(step: StepTimes, calendar: WorkCalendar) -> list[Reminder]:
    """R-SUP-6: 2 hours before the first acceptance limit; 1 working day before the 5-day
    handling limit."""
    first = next(iter(deadlines(step, calendar)), None)
    if first is None:
        return []
    if first.rule in (Rule.ACCEPT_24H, Rule.ACCEPT_12H_PRIORITY):
        return [Reminder(ReminderKind.ACCEPT_SOON, first.due_at - timedelta(hours=2), first.due_at)]
    assert step.accepted_at is not None
    at = calendar.add_working_days(step.accepted_at, 4)
    return [Reminder(ReminderKind.HANDLE_SOON, at, first.due_at)]
