"""Org units, grids and departments over the wire (GeoJSON geometry, WGS-84 lon/lat)."""

import uuid
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Input, Instant, Output
from domain.org import Level
from services.exporting import Column

Code = Annotated[str, Field(min_length=12, max_length=15, pattern=r"^\d{12}(\d{3})?$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str | None, Field(default=None, max_length=500)]
GeoJSONGeometry = Annotated[
    dict[str, Any],
    Field(
        description="GeoJSON geometry object (RFC 7946), lon/lat; converted from `crs` if given",
        json_schema_extra={
            "example": {
                "type": "Polygon",
                "coordinates": [[[75.98, 39.46], [75.99, 39.46], [75.99, 39.47], [75.98, 39.46]]],
            }
        },
    ),
]


class OrgUnitCreate(Input):
    code: Code
    name: Name
    level: Level
    parent_id: uuid.UUID | None = None
    geometry: GeoJSONGeometry | None = None


class OrgUnitUpdate(Input):
    name: Name | None = None
    geometry: GeoJSONGeometry | None = None
    reason: Reason = None


class OrgUnitOut(Output):
    id: uuid.UUID
    code: str
    name: str
    level: Level
    parent_id: uuid.UUID | None
    geometry: dict[str, Any] | None
    grid_leader_id: uuid.UUID | None
    household_target: int | None
    version: int
    created_at: Instant
    updated_at: Instant


class GridCreate(Input):
    code: Annotated[str, Field(pattern=r"^\d{15}$")]
    name: Name
    parent_id: uuid.UUID
    geometry: GeoJSONGeometry
    grid_leader_id: uuid.UUID | None = None
    household_target: Annotated[int | None, Field(ge=0, le=100_000)] = None
    reason: Reason = None


class GridUpdate(Input):
    name: Name | None = None
    geometry: GeoJSONGeometry | None = None
    grid_leader_id: uuid.UUID | None = None
    household_target: Annotated[int | None, Field(ge=0, le=100_000)] = None
    reason: Reason = None


class GridMerge(Input):
    grid_ids: Annotated[list[uuid.UUID], Field(min_length=2, max_length=20)]
    name: Name | None = None
    reason: Reason = None


class NewGridSpec(Input):
    code: Annotated[str, Field(pattern=r"^\d{15}$")]
    name: Name


class GridSplit(Input):
    line: GeoJSONGeometry
    new_grids: Annotated[list[NewGridSpec], Field(min_length=1, max_length=10)]
    reason: Reason = None


class GridMove(Input):
    target_grid_id: uuid.UUID
    reason: Reason = None


class MoveResult(Output):
    moved: dict[str, int]


class GridVersionOut(Output):
    id: uuid.UUID
    version: int
    operation: str
    code: str
    name: str
    level: Level
    parent_id: uuid.UUID | None
    attributes: dict[str, Any]
    reason: str | None
    actor_id: uuid.UUID | None
    valid_from: Instant
    valid_to: Instant | None
    geometry: dict[str, Any] | None


class UnitRefOut(Output):
    id: uuid.UUID
    code: str
    name: str
    level: Level


class LocateOut(Output):
    grid: OrgUnitOut
    ancestors: list[UnitRefOut]


class CoverageOut(Output):
    community_id: uuid.UUID
    grid_count: int
    area_m2: float
    covered_m2: float
    coverage_ratio: float
    gaps: dict[str, Any] | None


class DepartmentCreate(Input):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{2,32}$")]
    name: Name
    unit_id: uuid.UUID


class DepartmentUpdate(Input):
    name: Name


class DepartmentOut(Output):
    id: uuid.UUID
    code: str
    name: str
    unit_id: uuid.UUID
    version: int
    created_at: Instant
    updated_at: Instant


# Spreadsheet columns of org-unit and grid exports.
UNIT_COLUMNS = [
    Column("code", "编码"),
    Column("name", "名称"),
    Column("level", "层级"),
    Column("parent_id", "上级"),
    Column("household_target", "户数目标"),
    Column("created_at", "创建时间"),
    Column("updated_at", "更新时间"),
]

# The grid layout as of a time (R-GRID-2): each grid's version then.
GRID_VERSION_COLUMNS = [
    Column("code", "编码"),
    Column("name", "名称"),
    Column("parent_id", "上级"),
    Column("version", "版本"),
    Column("operation", "变更"),
    Column("valid_from", "生效时间"),
    Column("valid_to", "失效时间"),
]

DEPARTMENT_COLUMNS = [
    Column("code", "编码"),
    Column("name", "名称"),
    Column("unit_id", "所属单位"),
    Column("created_at", "创建时间"),
]
