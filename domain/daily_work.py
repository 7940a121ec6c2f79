"""Daily work (R-DAY-1, R-DAY-2): the periodic report forms, their periods, deadlines and
roll-up, and the ledgers' kinds.

Reports are filed by communities (the level that does the investigating); a street's and a
district's figures are the roll-up of their children, so a parent's figure is always the sum
of its children's, also after a superior amended one of them. A period's report is due by
the end of a fixed number of days after the period ends; one filed later is flagged late."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Any

from domain.errors import FieldError, Invalid
from domain.org import Level


class Form(StrEnum):
    DISPUTE = "dispute"  # 矛盾纠纷排查调处
    HOTSPOT = "hotspot"  # 治安乱点整治


FORM_NAMES: dict[Form, str] = {Form.DISPUTE: "矛盾纠纷排查调处", Form.HOTSPOT: "治安乱点整治"}

# The figures of each form, in the order the form prints them.
FIGURES: dict[Form, dict[str, str]] = {
    Form.DISPUTE: {
        "investigations": "开展排查次数",
        "disputes_found": "排查出矛盾纠纷",
        "mediated": "调处矛盾纠纷",
        "resolved": "调处成功",
        "transferred": "移交有关部门",
        "prevented_escalations": "防止民转刑案件",
        "pending": "未化解",
    },
    Form.HOTSPOT: {
        "hotspots_found": "排查治安乱点",
        "rectified": "整治完成",
        "in_progress": "正在整治",
        "cases_solved": "破获案件",
        "persons_handled": "查处违法犯罪人员",
    },
}
# Figures that cannot exceed another of the same report.
_AT_MOST: dict[Form, tuple[tuple[str, str], ...]] = {
    Form.DISPUTE: (("resolved", "mediated"), ("mediated", "disputes_found")),
    Form.HOTSPOT: (("rectified", "hotspots_found"),),
}

FILING_LEVEL = Level.COMMUNITY


class PeriodKind(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# Due by the end of this many days after the period; reminded this many days before.
FILING_DAYS: dict[PeriodKind, int] = {
    PeriodKind.MONTH: 5,
    PeriodKind.QUARTER: 10,
    PeriodKind.YEAR: 15,
}
REMINDER_DAYS: dict[PeriodKind, int] = {
    PeriodKind.MONTH: 2,
    PeriodKind.QUARTER: 3,
    PeriodKind.YEAR: 5,
}

_PERIOD = re.compile(r"(?P<year>\d{4})(?:-(?:(?P<month>\d{2})|Q(?P<quarter>[1-4])))?")


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    text: str
    start: date
    # The first day after the period.
    end: date

    def deadline(self, zone: tzinfo) -> datetime:
        """The instant the report is due: the end of the last filing day, local time."""
        return datetime.combine(self.end + timedelta(days=FILING_DAYS[self.kind]), time(), zone)

    def reminders_from(self, zone: tzinfo) -> datetime:
        return self.deadline(zone) - timedelta(days=REMINDER_DAYS[self.kind])


def _next_month(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1)


def parse_period(text: str, field: str = "period") -> Period:
    """`2026-11` (a month), `2026-Q4` (a quarter) or `2026` (a year)."""
    match = _PERIOD.fullmatch(text)
    month = int(match["month"]) if match and match["month"] else None
    if match is None or (month is not None and not 1 <= month <= 12):
        raise Invalid("period_invalid", errors=[FieldError(field, "period_invalid")])
    year = int(match["year"])
    if month is not None:
        return Period(PeriodKind.MONTH, text, date(year, month, 1), _next_month(year, month))
    if match["quarter"]:
        first = (int(match["quarter"]) - 1) * 3 + 1
        return Period(PeriodKind.QUARTER, text, date(year, first, 1), _next_month(year, first + 2))
    return Period(PeriodKind.YEAR, text, date(year, 1, 1), date(year + 1, 1, 1))


def period_containing(kind: PeriodKind, day: date) -> Period:
    if kind == PeriodKind.MONTH:
        return parse_period(f"{day:%Y-%m}")
    if kind == PeriodKind.QUARTER:
        return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    return parse_period(str(day.year))


def reminder_due(now: datetime, zone: tzinfo) -> list[Period]:
    """The periods whose reports are in their reminder window at `now`: each kind's last
    finished period, once its reminders have started and while it is not yet due."""
    today = now.astimezone(zone).date()
    due = []
    for kind in PeriodKind:
        current = period_containing(kind, today)
        last = period_containing(kind, current.start - timedelta(days=1))
        if last.reminders_from(zone) <= now < last.deadline(zone):
            due.append(last)
    return due


def check_over(period: Period, now: datetime, zone: tzinfo) -> None:
    """A period is reported once it is over."""
    if now.astimezone(zone).date() < period.end:
        raise Invalid("period_not_over", errors=[FieldError("period", "period_not_over")])


def check_figures(form: Form, figures: Mapping[str, Any]) -> dict[str, int]:
    """Every figure of the form as a non-negative whole number (missing ones are 0);
    unknown figures and impossible combinations are refused."""
    names = FIGURES[form]
    errors = [
        FieldError(f"figures.{key}", "figures_invalid", {"detail": f"未知项目 {key}"})
        for key in figures
        if key not in names
    ]
    clean: dict[str, int] = {}
    for key in names:
        value = figures.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors.append(
                FieldError(
                    f"figures.{key}", "figures_invalid", {"detail": f"{names[key]}须为非负整数"}
                )
            )
        else:
            clean[key] = value
    if not errors:
        for part, whole in _AT_MOST[form]:
            if clean[part] > clean[whole]:
                detail = f"{names[part]}不能多于{names[whole]}"
                errors.append(FieldError(f"figures.{part}", "figures_invalid", {"detail": detail}))
    if errors:
        raise Invalid(
            "figures_invalid", params={"detail": errors[0].params["detail"]}, errors=errors
        )
    return clean


def roll_up(form: Form, children: Iterable[Mapping[str, int]]) -> dict[str, int]:
    """The parent's figures: the sum of its children's, figure by figure."""
    total = dict.fromkeys(FIGURES[form], 0)
    for figures in children:
        for key in total:
            total[key] += int(figures.get(key, 0))
    return total


class LedgerKind(StrEnum):
    MEETING = "meeting"
    DOCUMENT = "document"
    ACTIVITY = "activity"
    SPECIAL_WORK = "special_work"
    WORK_LOG = "work_log"


LEDGER_SUBTYPES: dict[LedgerKind, dict[str, str]] = {
    LedgerKind.MEETING: {
        "stability_committee": "党委维稳工作会议",
        "full_committee": "全委会",
        "five_department": "五部门联席会议",
        "leading_group": "领导小组会议",
        "centre_regular": "中心例会",
        "other": "其他会议",
    },
    LedgerKind.DOCUMENT: {
        "responsibility_letter": "责任书",
        "performance_file": "绩效档案",
        "commendation": "表彰奖励",
        "funding": "经费保障",
        "other": "其他文件",
    },
    LedgerKind.ACTIVITY: {
        "open_affairs": "政务公开",
        "risk_assessment": "风险评估",
        "leader_research": "领导调研",
        "special_campaign": "专项行动",
        "other": "其他活动",
    },
    LedgerKind.SPECIAL_WORK: {"special_work": "专项工作"},
    LedgerKind.WORK_LOG: {
        "help_education": "帮教工作日志",
        "patrol": "巡逻工作日志",
        "other": "其他工作日志",
    },
}


def check_ledger_entry(
    kind: LedgerKind, subtype: str, year: int, occurred_on: date, doc_no: str | None
) -> None:
    """The sub-type fits the kind, the date lies in the ledger's year, and a document
    carries its number (文号)."""
    errors = []
    if subtype not in LEDGER_SUBTYPES[kind]:
        errors.append(FieldError("subtype", "ledger_subtype_invalid"))
    if occurred_on.year != year:
        errors.append(FieldError("occurred_on", "ledger_year_mismatch"))
    if kind == LedgerKind.DOCUMENT and not doc_no:
        errors.append(FieldError("doc_no", "ledger_doc_no_required"))
    if errors:
        raise Invalid(errors[0].code, errors=errors)


# The files one ledger entry may carry (R-DAY-2: documents and special work with attachments).
MAX_LEDGER_FILES = 20
