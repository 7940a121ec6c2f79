"""Assessment rules (考核细则, R-ASM-1 … R-ASM-5): who is assessed, the shipped items with the
system signals bound to them, the validation of a rule set, scores and the review states.

Pure: the services read the ledger and the rule sets and hand the numbers in.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from domain.errors import Conflict, FieldError, Invalid, PermissionDenied
from domain.supervision import DEDUCTION
from domain.supervision import Level as CardLevel

BASE_SCORE = Decimal(100)
# R-ASM-2: an annual score below 80 fails.
PASS_MARK = Decimal(80)
# Map colouring of results (R-ASM-5): good from 90, passing from 80, failing below.
GOOD_MARK = Decimal(90)
# R-ASM-4: a month's deductions of 5 points or more make the superior jointly liable.
JOINT_THRESHOLD = Decimal(5)
MAX_ITEM_POINTS = Decimal(100)


class Kind(StrEnum):
    """The assessed kinds (R-ASM-1): grid posts, communities, streets, districts (they carry
    their streets' joint liability, R-ASM-4) and departments."""

    GRID_WORKER = "grid_worker"
    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"
    DEPARTMENT = "department"


KIND_NAMES: dict[Kind, str] = {
    Kind.GRID_WORKER: "网格员（网格）",
    Kind.COMMUNITY: "社区",
    Kind.STREET: "街道",
    Kind.DISTRICT: "区县",
    Kind.DEPARTMENT: "职能部门",
}
_LEVEL_KIND = {
    "grid": Kind.GRID_WORKER,
    "community": Kind.COMMUNITY,
    "street": Kind.STREET,
    "district": Kind.DISTRICT,
}


def kind_of(level: str | None) -> Kind | None:
    """The kind assessed for an org unit level; None for a department's caller to decide
    and for a city, which is not assessed."""
    return _LEVEL_KIND.get(level or "")


class Signal(StrEnum):
    """The system signals automatic items are bound to (R-ASM-3)."""

    SUPERVISION_YELLOW = "supervision_yellow"
    SUPERVISION_RED = "supervision_red"
    ACCEPT_OVERDUE = "accept_overdue"
    ACCEPT_OVERDUE_3D = "accept_overdue_3d"
    ACCEPT_OVERDUE_30D = "accept_overdue_30d"
    INVESTIGATE_OVERDUE = "investigate_overdue"
    HANDLE_OVERDUE = "handle_overdue"
    VERIFY_UNSATISFIED = "verify_unsatisfied"
    VERIFY_NOT_IMPLEMENTED = "verify_not_implemented"
    VERIFY_LATE = "verify_late"
    APPEAL_UPHELD = "appeal_upheld"
    MAJOR_SATISFIED = "major_satisfied"
    ENTRIES_NONE = "entries_none"
    ENTRIES_BOTTOM3 = "entries_bottom3"
    ENTRIES_TOP3 = "entries_top3"
    MONTHLY_ACCEPTED = "monthly_accepted"
    MONTHLY_CLEAN = "monthly_clean"
    YEAR_MOST_CASES = "year_most_cases"
    YEAR_DISPUTES_TOP3 = "year_disputes_top3"
    JOINT_LIABILITY = "joint_liability"
    # Assessment findings (考核认定) recorded by a superior on an event.
    PETITION_UNCOLLECTED = "petition_uncollected"
    DISPUTE_PUSHED_UP = "dispute_pushed_up"
    WRONG_SUBMISSION = "wrong_submission"
    ESCALATION_UNCOOPERATIVE = "escalation_uncooperative"
    # Derived from the workflow history and the findings.
    CLOSE_LATE = "close_late"
    YEAR_NO_WRONG_SUBMISSION = "year_no_wrong_submission"


class FindingKind(StrEnum):
    """What a superior finds on an event (考核认定, R-ASM-3): each is the signal of its item."""

    PETITION_UNCOLLECTED = Signal.PETITION_UNCOLLECTED.value  # 越级/群体上访
    DISPUTE_PUSHED_UP = Signal.DISPUTE_PUSHED_UP.value  # 可化解矛盾上推
    WRONG_SUBMISSION = Signal.WRONG_SUBMISSION.value  # 错报引起投诉
    ESCALATION_UNCOOPERATIVE = Signal.ESCALATION_UNCOOPERATIVE.value  # 上报后不配合处置


# The levels a finding charges: the community side of R-ASM-3 (communities and their grids).
FINDING_LEVELS = frozenset({"community", "grid"})


# Cards are charged by the supervision sweep, whose deduction column holds whole points.
CARD_SIGNALS = frozenset({Signal.SUPERVISION_YELLOW, Signal.SUPERVISION_RED})


@dataclass(frozen=True)
class Item:
    """One line of a rule set: negative points deduct, positive add; automatic when bound to
    a signal, else scored by hand; `cap` bounds the item's total (absolute) per period."""

    code: str
    text: str
    points: Decimal
    signal: Signal | None = None
    cap: Decimal | None = None


def _i(code: str, text: str, points: int, cap: int | None = None) -> Item:
    return Item(
        code, text, Decimal(points), Signal(code), Decimal(cap) if cap is not None else None
    )


_CARDS = (
    _i("supervision_yellow", "超时督办黄牌", DEDUCTION[CardLevel.YELLOW]),
    _i("supervision_red", "超时督办红牌", DEDUCTION[CardLevel.RED]),
)
_COMMUNITY_SIDE = (
    _i("petition_uncollected", "矛盾纠纷未排查化解导致越级上访或群体性上访", -5),
    _i("dispute_pushed_up", "社区能化解的矛盾未就地化解而推诿上交", -1),
    _i("wrong_submission", "错报并引起投诉", -1, cap=10),
    _i("verify_late", "办结结果未当日评价", -1),
    _i("close_late", "未当日点击办结或未落实", -1, cap=10),
    _i("appeal_upheld", "恶意评价“不满意”经申诉成立", -2),
    _i("escalation_uncooperative", "上报后不配合处置（投诉属实）", -2),
    _i("entries_bottom3", "月度录入量排名后三名", -3),
    _i("entries_none", "月度无录入", -5),
    _i("entries_top3", "月度录入量排名前三名", 2),
    _i("year_no_wrong_submission", "全年无错报", 5),
    _i("year_disputes_top3", "全年矛盾纠纷办结量前三名", 5),
)
_HANDLER_SIDE = (
    _i("accept_overdue", "签收超时", -1),
    _i("accept_overdue_3d", "签收超时3天以上（累计扣3分）", -3),
    _i("accept_overdue_30d", "签收超时30天以上（累计扣10分）", -10),
    _i("investigate_overdue", "调查超时（签收后5个工作日未反馈）", -1),
    _i("handle_overdue", "办理超时（签收后10个工作日未反馈或办结）", -1),
    _i("verify_unsatisfied", "核查评价“不满意”", -2),
    _i("verify_not_implemented", "未在承诺时限办结或核查“未落实”", -2),
    _i("major_satisfied", "重大事件处置群众满意", 2, cap=10),
)
# The department/street side's volume bonuses (R-ASM-3).
_HANDLER_BONUSES = (
    _i("monthly_accepted", "月受理社区案件10件以上，每多3件加1分", 1, cap=10),
    _i("monthly_clean", "月受理5件以上且无超时、不满意、未落实", 2),
    _i("year_most_cases", "全年办件量最多", 5),
)
_JOINT = (_i("joint_liability", "下级月扣分达5分，按扣分件数连带扣分", -1),)

# The shipped defaults (R-ASM-3): what a unit is charged while no rule set is enabled for
# its kind and year, and what a new rule set starts from when there is no last year's.
DEFAULT_ITEMS: dict[Kind, tuple[Item, ...]] = {
    Kind.GRID_WORKER: (*_CARDS, *_HANDLER_SIDE, *_COMMUNITY_SIDE),
    Kind.COMMUNITY: (*_CARDS, *_HANDLER_SIDE, *_COMMUNITY_SIDE),
    Kind.STREET: (*_CARDS, *_HANDLER_SIDE, *_HANDLER_BONUSES, *_JOINT),
    Kind.DISTRICT: (*_CARDS, *_HANDLER_SIDE, *_HANDLER_BONUSES, *_JOINT),
    Kind.DEPARTMENT: (*_CARDS, *_HANDLER_SIDE, *_HANDLER_BONUSES),
}


def defaults_document() -> dict[str, dict[str, dict[str, str | None]]]:
    """The defaults as the JSON the database's item resolution reads: kind → signal →
    {code, points, cap}."""
    return {
        kind.value: {
            item.signal.value: {
                "code": item.code,
                "points": str(item.points),
                "cap": str(item.cap) if item.cap is not None else None,
            }
            for item in items
            if item.signal is not None
        }
        for kind, items in DEFAULT_ITEMS.items()
    }


_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)


def check_items(items: list[Item]) -> None:
    """A rule set's items: codes unique and well-formed, points non-zero with at most one
    decimal and at most 100, each signal bound once; whole points and no cap on the card
    items (the sweep charges one card at a time); a cap at least one item's worth."""
    errors: list[FieldError] = []
    codes: set[str] = set()
    signals: set[Signal] = set()
    for n, item in enumerate(items):
        at = f"items[{n}]"
        if not _CODE.fullmatch(item.code):
            errors.append(FieldError(f"{at}.code", "assessment_item_code_invalid"))
        elif item.code in codes:
            errors.append(FieldError(f"{at}.code", "assessment_item_code_taken"))
        codes.add(item.code)
        if item.points == 0 or abs(item.points) > MAX_ITEM_POINTS or _decimals(item.points) > 1:
            errors.append(FieldError(f"{at}.points", "assessment_points_invalid"))
        if item.signal is not None:
            if item.signal in signals:
                errors.append(FieldError(f"{at}.signal", "assessment_signal_taken"))
            signals.add(item.signal)
            if item.signal in CARD_SIGNALS and (item.cap is not None or _decimals(item.points)):
                errors.append(FieldError(f"{at}.points", "assessment_card_points_whole"))
        if item.cap is not None and item.cap < abs(item.points):
            errors.append(FieldError(f"{at}.cap", "assessment_cap_invalid"))
    if errors:
        raise Invalid("assessment_rules_invalid", errors=errors)


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def accepted_bonus_quantity(accepted: int) -> int:
    """R-ASM-3 "≥10 community cases accepted in a month, +1 per further 3": one at ten, one
    more for every three beyond."""
    return 0 if accepted < 10 else 1 + (accepted - 10) // 3


class Band(StrEnum):
    GOOD = "good"
    PASS = "pass"
    FAIL = "fail"


@dataclass(frozen=True)
class Score:
    deductions: Decimal
    bonuses: Decimal
    score: Decimal
    band: Band
    # Only a year's result passes or fails (R-ASM-2); None for a month.
    passed: bool | None


def score(deductions: Decimal, bonuses: Decimal, *, annual: bool) -> Score:
    """R-ASM-2: 100 + bonuses − deductions (deductions as a positive total); an annual score
    below 80 fails — 79.9 fails, 80 passes."""
    total = BASE_SCORE + bonuses - deductions
    band = Band.GOOD if total >= GOOD_MARK else Band.PASS if total >= PASS_MARK else Band.FAIL
    return Score(deductions, bonuses, total, band, (total >= PASS_MARK) if annual else None)


# Manual assessment (R-ASM-5): the assessed unit evaluates itself and submits; its direct
# superior scores it and submits, which charges the points; the superior archives it.
class ReviewState(StrEnum):
    SELF_EVALUATING = "self_evaluating"
    SUBMITTED = "submitted"
    SCORED = "scored"
    ARCHIVED = "archived"


class ReviewRole(StrEnum):
    ASSESSED = "assessed"
    SUPERIOR = "superior"


class ReviewAction(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    ARCHIVE = "archive"


REVIEW_TRANSITIONS: dict[tuple[ReviewState, ReviewAction], tuple[ReviewRole, ReviewState]] = {
    (ReviewState.SELF_EVALUATING, ReviewAction.EDIT): (
        ReviewRole.ASSESSED,
        ReviewState.SELF_EVALUATING,
    ),
    (ReviewState.SELF_EVALUATING, ReviewAction.SUBMIT): (
        ReviewRole.ASSESSED,
        ReviewState.SUBMITTED,
    ),
    (ReviewState.SUBMITTED, ReviewAction.EDIT): (ReviewRole.SUPERIOR, ReviewState.SUBMITTED),
    (ReviewState.SUBMITTED, ReviewAction.SUBMIT): (ReviewRole.SUPERIOR, ReviewState.SCORED),
    (ReviewState.SCORED, ReviewAction.ARCHIVE): (ReviewRole.SUPERIOR, ReviewState.ARCHIVED),
}


def decide_review(
    state: ReviewState, action: ReviewAction, roles: frozenset[ReviewRole]
) -> ReviewState:
    """The review's next state; 409 `review_transition_not_allowed` when the state does not
    allow the action, 403 `review_not_yours` when the caller is not the one to take it."""
    found = REVIEW_TRANSITIONS.get((state, action))
    if found is None:
        raise Conflict(
            "review_transition_not_allowed", params={"state": state.value, "action": action.value}
        )
    role, target = found
    if role not in roles:
        raise PermissionDenied("review_not_yours", params={"action": action.value})
    return target


@dataclass(frozen=True)
class ManualScore:
    code: str
    points: Decimal
    note: str | None = None


def check_manual_scores(scores: list[ManualScore], items: list[Item], field: str) -> None:
    """Scores given by hand: each for a manual item of the rule set, once, with the item's
    sign and at most its points (its cap when it has one), one decimal at most."""
    manual = {item.code: item for item in items if item.signal is None}
    errors: list[FieldError] = []
    seen: set[str] = set()
    for n, given in enumerate(scores):
        at = f"{field}[{n}]"
        item = manual.get(given.code)
        if item is None or given.code in seen:
            errors.append(FieldError(f"{at}.code", "assessment_manual_item_unknown"))
            continue
        seen.add(given.code)
        limit = item.cap if item.cap is not None else abs(item.points)
        same_sign = given.points == 0 or (given.points > 0) == (item.points > 0)
        if not same_sign or abs(given.points) > limit or _decimals(given.points) > 1:
            errors.append(FieldError(f"{at}.points", "assessment_points_out_of_range"))
    if errors:
        raise Invalid("assessment_scores_invalid", errors=errors)


def ledger_period(period: str) -> str:
    """The ledger month a review's points land in: the month itself, or December of an
    annual review's year."""
    return period if len(period) == 7 else f"{period}-12"
