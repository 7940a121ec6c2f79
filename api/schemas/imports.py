"""Imports, the import pool and claims, and comparisons over the wire (SPEC §4)."""

import uuid
from typing import Annotated, Any, Literal

from fastapi import UploadFile
from pydantic import Field

from api.schemas.common import Input, Instant, Output
from domain.coords import Crs
from domain.imports import Nature
from services.exporting import Column


class TemplateColumnOut(Output):
    key: str
    header: str


class TemplateOut(Output):
    registry: str
    label: str
    nature: Nature
    kind: str
    columns: list[TemplateColumnOut]


class ImportIn(Input):
    """The multipart form of an upload."""

    registry: str = Field(description="a template's registry code")
    district_id: uuid.UUID
    crs: Crs = Field(
        default=Crs.WGS84,
        description="coordinate system of locations whose row leaves 坐标系 blank; kept as WGS-84",
    )
    file: UploadFile = Field(description="XLSX, CSV (UTF-8 or GBK) or XML")


class ComparisonIn(Input):
    registry: str = Field(description="the template the file follows")
    unit_id: uuid.UUID = Field(description="compared with this unit's subtree")
    source: str = Field(min_length=1, max_length=100, description="the department")
    file: UploadFile = Field(description="XLSX, CSV (UTF-8 or GBK) or XML")


class ImportOut(Output):
    id: uuid.UUID
    registry: str
    district_id: uuid.UUID
    filename: str
    format: Literal["csv", "xlsx", "xml"]
    crs: Crs
    state: Literal["queued", "running", "done", "cancelled", "failed"]
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    percent: float = Field(description="share of the file read, 0–100")
    error: str | None
    created_by: uuid.UUID | None
    created_at: Instant
    started_at: Instant | None
    finished_at: Instant | None
    version: int


class RejectionOut(Output):
    row_no: int = Field(description="the row as the spreadsheet numbers it (header = 1)")
    field: str
    header: str
    reason: str
    message: str


class RejectionPage(Output):
    items: list[RejectionOut]
    next_cursor: str | None
    total: int


class PoolRowOut(Output):
    id: uuid.UUID
    import_id: uuid.UUID
    row_no: int
    registry: str
    district_id: uuid.UUID
    grid_id: uuid.UUID | None
    grid_code: str | None
    name: str | None
    id_number: str | None
    values: dict[str, Any]
    version: int
    claimed: str | None = Field(description="claimed, with_duplicate, merged or skipped")
    record_id: uuid.UUID | None
    claimed_at: Instant | None


class SideBySideField(Output):
    field: str
    header: str
    row: Any
    record: Any
    differs: bool


class SideBySide(Output):
    record_id: uuid.UUID
    fields: list[SideBySideField]


class PoolRowDetail(PoolRowOut):
    duplicates: list[uuid.UUID] = Field(description="pool rows claimed together with this one")
    existing: SideBySide | None = Field(
        default=None, description="the active record of the same identity in the grid"
    )


RowIds = Annotated[list[uuid.UUID], Field(min_length=1, max_length=500)]


class ClaimIn(Input):
    grid_id: uuid.UUID
    row_ids: RowIds


class ClaimSucceeded(Output):
    row_id: uuid.UUID
    record_id: uuid.UUID
    with_: list[uuid.UUID] = Field(alias="with", description="pool duplicates claimed too")


class ClaimError(Output):
    field: str
    header: str
    code: str


class ClaimFailed(Output):
    row_id: uuid.UUID
    reason: Literal["incomplete", "duplicate", "claimed", "not_found", "grid_outside_district"]
    errors: list[ClaimError] | None = None
    existing: SideBySide | None = None


class ClaimOut(Output):
    grid_id: uuid.UUID
    succeeded: list[ClaimSucceeded]
    failed: list[ClaimFailed]


class FixIn(Input):
    values: dict[str, str | bool | None] = Field(
        description="column keys → corrected values; null removes one"
    )


class MergeIn(Input):
    grid_id: uuid.UUID


class ResolutionOut(Output):
    row_id: uuid.UUID
    record_id: uuid.UUID | None
    outcome: Literal["merged", "skipped"]


IMPORT_COLUMNS = [
    Column("filename", "文件名"),
    Column("registry", "数据类别"),
    Column("state", "状态"),
    Column("rows_read", "读取行数"),
    Column("rows_accepted", "入池行数"),
    Column("rows_rejected", "退回行数"),
    Column("percent", "进度"),
    Column("created_at", "导入时间"),
]
REJECTION_COLUMNS = [
    Column("row_no", "行号"),
    Column("header", "字段"),
    Column("message", "原因"),
]
POOL_COLUMNS = [
    Column("registry", "数据类别"),
    Column("row_no", "行号"),
    Column("grid_code", "网格编码"),
    Column("name", "姓名/名称"),
    Column("id_number", "证件号码"),
    Column("claimed", "认领结果"),
]


class ComparisonOut(Output):
    id: uuid.UUID
    registry: str
    unit_id: uuid.UUID
    source: str
    filename: str
    rows_read: int
    missing_here: int = Field(description="in the file, not in the registry")
    missing_there: int = Field(description="in the registry, not in the file")
    conflicts: int = Field(description="fields the file states differently")
    created_by: uuid.UUID | None
    created_at: Instant


class ComparisonUnitOut(Output):
    unit_id: uuid.UUID
    code: str
    name: str
    missing_here: int
    missing_there: int
    conflict: int


class ComparisonDetail(ComparisonOut):
    units: list[ComparisonUnitOut] = Field(description="per unit in jurisdiction")


Outcome = Literal["missing_here", "missing_there", "conflict"]


class ComparisonLineOut(Output):
    id: int
    unit_id: uuid.UUID
    unit_code: str
    outcome: Outcome
    key: str = Field(description="the identity matched on: ID number or licence number")
    name: str | None
    field: str | None
    header: str | None
    here: str | None = Field(description="the registry's value")
    there: str | None = Field(description="the file's value")
    row_no: int | None
    record_id: uuid.UUID | None


class ComparisonLinePage(Output):
    items: list[ComparisonLineOut]
    next_cursor: str | None
    total: int


COMPARISON_LINE_COLUMNS = [
    Column("unit_code", "单位编码"),
    Column("outcome", "比对结果"),
    Column("key", "证件号码/信用代码"),
    Column("name", "姓名/名称"),
    Column("header", "字段"),
    Column("here", "本系统"),
    Column("there", "部门数据"),
    Column("row_no", "部门数据行号"),
]
COMPARISON_COLUMNS = [
    Column("filename", "文件名"),
    Column("source", "数据来源"),
    Column("registry", "数据类别"),
    Column("rows_read", "比对行数"),
    Column("missing_here", "本系统缺少"),
    Column("missing_there", "部门数据缺少"),
    Column("conflicts", "字段不一致"),
    Column("created_at", "比对时间"),
]
