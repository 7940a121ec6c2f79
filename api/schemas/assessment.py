"""Assessment (R-ASM-1 … R-ASM-5): ledger lines, rule sets, scores, reviews and findings."""

import uuid
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from api.schemas.common import Input, Instant, Output
from domain.assessment import FindingKind, Kind, Signal
from services.exporting import Column

# One decimal, as the ledger keeps them (R-ASM-2).
Points = Annotated[Decimal, Field(max_digits=4, decimal_places=1, ge=-100, le=100)]
PERIOD_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2]))?$"


class LedgerLineOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    period: str
    points: float
    item_code: str
    reason: str
    event_id: uuid.UUID | None
    step_id: uuid.UUID | None
    supervision_id: uuid.UUID | None
    action_id: uuid.UUID | None
    appeal_id: uuid.UUID | None
    review_id: uuid.UUID | None
    finding_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    created_at: Instant


LEDGER_COLUMNS = [
    Column("period", "考核周期"),
    Column("points", "分值"),
    Column("item_code", "考核项"),
    Column("reason", "原因"),
    Column("event_id", "事件"),
    Column("created_at", "记账时间"),
]


class RuleItemIn(Input):
    code: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=1, max_length=200)
    points: Points
    # Bound to a system signal: automatic; without one: scored by hand.
    signal: Signal | None = None
    cap: Annotated[Decimal, Field(max_digits=5, decimal_places=1, gt=0)] | None = None


class RuleItemOut(Output):
    code: str
    text: str
    points: float
    signal: str | None
    cap: float | None
    automatic: bool


class RuleSetCreate(Input):
    owner_unit_id: uuid.UUID
    year: int = Field(ge=2000, le=2100)
    kind: Kind
    name: str = Field(min_length=1, max_length=200)
    # Without items the set starts from the shipped defaults of its kind (R-ASM-3).
    items: list[RuleItemIn] | None = Field(default=None, max_length=200)


class RuleSetUpdate(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    items: list[RuleItemIn] | None = Field(default=None, max_length=200)


class RuleSetCopyIn(Input):
    year: int = Field(ge=2000, le=2100)


class RuleSetSummary(Output):
    id: uuid.UUID
    owner_unit_id: uuid.UUID
    year: int
    kind: str
    name: str
    state: str
    copied_from_id: uuid.UUID | None
    version: int
    created_at: Instant
    updated_at: Instant


class RuleSetOut(RuleSetSummary):
    items: list[RuleItemOut]


RULE_SET_COLUMNS = [
    Column("year", "年度"),
    Column("kind", "考核对象"),
    Column("name", "名称"),
    Column("state", "状态"),
]


class ScoreOut(Output):
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    name: str
    kind: str
    period: str
    deductions: float
    bonuses: float
    score: float
    # good ≥ 90, pass ≥ 80, fail below (map colouring).
    band: Literal["good", "pass", "fail"]
    # Annual results only: below 80 fails (R-ASM-2).
    passed: bool | None
    rank: int
    lines: int


REVIEW_COLUMNS = [
    Column("period", "考核周期"),
    Column("kind", "考核对象"),
    Column("unit_id", "单位"),
    Column("department_id", "部门"),
    Column("state", "状态"),
    Column("self_comment", "自评意见"),
    Column("comment", "评议意见"),
    Column("submitted_at", "提交时间"),
    Column("scored_at", "评分时间"),
]
SCORE_COLUMNS = [
    Column("name", "名称"),
    Column("kind", "考核对象"),
    Column("period", "考核周期"),
    Column("deductions", "扣分"),
    Column("bonuses", "加分"),
    Column("score", "得分"),
    Column("rank", "排名"),
]


class ReviewOpen(Input):
    unit_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    period: str = Field(pattern=PERIOD_PATTERN)


class ManualScoreIn(Input):
    code: str = Field(min_length=1, max_length=32)
    points: Points
    note: str | None = Field(default=None, max_length=500)


class ReviewUpdate(Input):
    """The self-evaluation (by the assessed unit) or the superior's scores, by state."""

    scores: list[ManualScoreIn] | None = Field(default=None, max_length=100)
    comment: str | None = Field(default=None, max_length=2000)


class ManualScoreOut(Output):
    code: str
    points: float
    note: str | None


class ReviewOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    kind: str
    period: str
    state: str
    self_scores: list[ManualScoreOut]
    self_comment: str | None
    scores: list[ManualScoreOut]
    comment: str | None
    submitted_at: Instant | None
    scored_at: Instant | None
    archived_at: Instant | None
    version: int
    created_at: Instant
    updated_at: Instant


class FindingCreate(Input):
    """考核认定: the kind found, on which event, against which community or grid, and why."""

    kind: FindingKind
    event_id: uuid.UUID
    unit_id: uuid.UUID
    note: str = Field(min_length=1, max_length=2000)


class FindingRevoke(Input):
    reason: str = Field(min_length=1, max_length=2000)


class FindingOut(Output):
    id: uuid.UUID
    kind: FindingKind
    event_id: uuid.UUID
    unit_id: uuid.UUID
    period: str
    note: str
    recorded_by: uuid.UUID | None
    recorder_unit_id: uuid.UUID | None
    revoked_at: Instant | None
    revoked_by: uuid.UUID | None
    revoke_reason: str | None
    version: int
    created_at: Instant
    updated_at: Instant


FINDING_COLUMNS = [
    Column("period", "考核周期"),
    Column("kind", "认定类型"),
    Column("unit_id", "责任单位"),
    Column("event_id", "事件"),
    Column("note", "认定说明"),
    Column("created_at", "认定时间"),
    Column("revoked_at", "撤销时间"),
    Column("revoke_reason", "撤销原因"),
]
