"""Daily work (R-DAY-1, R-DAY-2): report forms, roll-ups and ledgers."""

import uuid
from datetime import date
from typing import Annotated

from pydantic import Field, field_validator

from api.schemas.common import Input, Instant, Output
from domain.daily_work import MAX_LEDGER_FILES, Form, LedgerKind
from domain.patches import refuse_null
from services.exporting import Column

Period = Annotated[str, Field(min_length=4, max_length=7, examples=["2026-11", "2026-Q4", "2026"])]
Figures = dict[str, int]


class ReportIn(Input):
    unit_id: uuid.UUID
    form: Form
    period: Period
    figures: dict[str, object] = Field(examples=[{"disputes_found": 4, "mediated": 4}])
    note: Annotated[str | None, Field(max_length=2000)] = None


class AmendIn(Input):
    figures: dict[str, object]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ReportOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    form: str
    period_kind: str
    period: str
    figures: Figures
    note: str | None
    deadline_at: Instant
    filed_at: Instant
    filed_by: uuid.UUID | None
    late: bool
    amended_at: Instant | None
    amended_by: uuid.UUID | None
    version: int


class RollupChildOut(Output):
    unit_id: uuid.UUID
    name: str
    level: str
    figures: Figures
    filed: int
    late: int
    expected: int


class RollupOut(Output):
    unit_id: uuid.UUID
    name: str
    level: str
    form: str
    form_name: str
    period: str
    period_kind: str
    deadline_at: Instant
    figures: Figures
    # Communities under the unit that filed, of those expected, and how many late.
    filed: int
    late: int
    expected: int
    children: list[RollupChildOut]


Year = Annotated[int, Field(ge=2000, le=2100)]


class LedgerIn(Input):
    unit_id: uuid.UUID
    year: Year
    kind: LedgerKind
    subtype: Annotated[str, Field(min_length=1, max_length=32)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    doc_no: Annotated[str | None, Field(max_length=64)] = None
    occurred_on: date
    content: Annotated[str, Field(max_length=20_000)] = ""
    # Finished uploads (`/api/v1/uploads`) the entry takes as its files.
    attachment_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_LEDGER_FILES)] = Field(
        default_factory=list
    )


class LedgerPatch(Input):
    subtype: Annotated[str | None, Field(min_length=1, max_length=32)] = None
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    doc_no: Annotated[str | None, Field(max_length=64)] = None
    occurred_on: date | None = None
    content: Annotated[str | None, Field(max_length=20_000)] = None
    # The entry's files from now on: those it keeps and new uploads it takes.
    attachment_ids: Annotated[list[uuid.UUID] | None, Field(max_length=MAX_LEDGER_FILES)] = None

    # `doc_no` is the one field null clears.
    _required = field_validator("subtype", "title", "occurred_on", "content", "attachment_ids")(
        refuse_null
    )


class LedgerFileOut(Output):
    upload_id: uuid.UUID
    filename: str
    mime: str
    size: int
    url: str


class LedgerOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    year: int
    kind: str
    subtype: str
    title: str
    doc_no: str | None
    occurred_on: date
    content: str
    attachments: list[LedgerFileOut]
    version: int
    created_at: Instant
    updated_at: Instant


REPORT_COLUMNS = [
    Column("unit_name", "单位"),
    Column("form", "报表"),
    Column("period", "期间"),
    Column("figures", "数据"),
    Column("deadline_at", "截止时间"),
    Column("filed_at", "填报时间"),
    Column("late", "逾期"),
    Column("amended_at", "上级修正时间"),
]

LEDGER_COLUMNS = [
    Column("unit_name", "单位"),
    Column("year", "年度"),
    Column("kind", "台账"),
    Column("subtype", "类型"),
    Column("title", "标题"),
    Column("doc_no", "文号"),
    Column("occurred_on", "日期"),
    Column("content", "内容"),
]
