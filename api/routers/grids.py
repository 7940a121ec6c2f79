"""Grids (R-GRID-1 … R-GRID-4). Coordinates may be sent as GCJ-02 or BD-09 with `crs`."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.geometry import parse_bbox, read_line, read_point, read_polygon
from api.schemas.common import PROBLEM_RESPONSES, PageOut, in_business_zone
from api.schemas.org import (
    GRID_VERSION_COLUMNS,
    UNIT_COLUMNS,
    GridCreate,
    GridMerge,
    GridMove,
    GridSplit,
    GridUpdate,
    GridVersionOut,
    LocateOut,
    MoveResult,
    OrgUnitOut,
)
from domain.coords import Crs
from domain.org import Level
from domain.permissions import Perm
from services import grids, org_units
from services.context import Ctx
from services.models import OrgUnitVersion

router = APIRouter(prefix="/api/v1/grids", tags=["grids"], responses=PROBLEM_RESPONSES)


def _created(response: Response, grid: dict[str, object]) -> OrgUnitOut:
    out = OrgUnitOut.model_validate(grid)
    set_etag(response, out.version)
    response.headers["Location"] = f"/api/v1/grids/{out.id}"
    return out


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrgUnitOut)
async def create_grid(
    body: GridCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.GRID_WRITE)],
    crs: Crs = Crs.WGS84,
) -> OrgUnitOut:
    """Draw a grid inside its community; overlaps and overhangs come back with geometry."""
    grid = await grids.create_grid(
        ctx,
        code=body.code,
        name=body.name,
        parent_id=body.parent_id,
        geometry=read_polygon(body.geometry, crs),
        grid_leader_id=body.grid_leader_id,
        household_target=body.household_target,
        reason=body.reason,
    )
    return _created(response, grid)


@router.get("", response_model=PageOut[OrgUnitOut] | PageOut[GridVersionOut])
async def list_grids(
    ctx: Annotated[Ctx, requires(Perm.GRID_READ)],
    page: Paging,
    parent_id: uuid.UUID | None = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    as_of: Annotated[datetime | None, Query(description="the layout as it stood then")] = None,
) -> PageOut[OrgUnitOut] | PageOut[GridVersionOut]:
    box = parse_bbox(bbox) if bbox else None
    if as_of is not None:
        as_of = in_business_zone(as_of)
        versions = await grids.grids_as_of(
            ctx, as_of, limit=page.limit, cursor=page.cursor, parent_id=parent_id, q=q, bbox=box
        )
        return PageOut[GridVersionOut].model_validate(versions, from_attributes=True)
    filters = org_units.UnitFilters(parent_id=parent_id, level=Level.GRID, q=q, bbox=box)
    result = await org_units.list_units(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[OrgUnitOut].model_validate(result, from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_grids(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    parent_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")] = None,
    as_of: Annotated[datetime | None, Query(description="the layout as it stood then")] = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered grid list as CSV or XLSX (R-EXP-1), the live layout or as of a time."""
    box = parse_bbox(bbox) if bbox else None
    if as_of is not None:
        at = in_business_zone(as_of)
        stmt = grids.grids_as_of_query(ctx, at, parent_id=parent_id, q=q, bbox=box)
        filters: dict[str, object] = {"parent_id": parent_id, "q": q, "bbox": bbox, "as_of": at}
        return await export_list(
            request,
            ctx,
            stmt.order_by(OrgUnitVersion.code),
            GRID_VERSION_COLUMNS,
            fmt=format,
            filename="网格",
            target_type="org_unit",
            filters=filters,
            convert=grids.version_row,
        )
    unit_filters = org_units.UnitFilters(parent_id=parent_id, level=Level.GRID, q=q, bbox=box)
    return await export_list(
        request,
        ctx,
        org_units.units_query(ctx, unit_filters),
        UNIT_COLUMNS,
        fmt=format,
        filename="网格",
        target_type="org_unit",
        filters={**vars(unit_filters), "bbox": bbox},
    )


@router.get("/locate", response_model=LocateOut)
async def locate_grid(
    ctx: Annotated[Ctx, requires(Perm.GRID_READ)],
    lon: float,
    lat: float,
    crs: Crs = Crs.WGS84,
) -> LocateOut:
    """The grid containing a point and its chain of parents (R-GRID-3)."""
    return LocateOut.model_validate(await grids.locate(ctx, read_point(lon, lat, crs)))


@router.post("/merge", response_model=OrgUnitOut)
async def merge_grids(
    body: GridMerge, response: Response, ctx: Annotated[Ctx, requires(Perm.GRID_WRITE)]
) -> OrgUnitOut:
    """Merge sibling grids into the first one listed; the others are retired."""
    grid = await grids.merge_grids(ctx, body.grid_ids, name=body.name, reason=body.reason)
    out = OrgUnitOut.model_validate(grid)
    set_etag(response, out.version)
    return out


@router.get("/{grid_id}", response_model=OrgUnitOut)
async def get_grid(
    grid_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.GRID_READ)]
) -> OrgUnitOut:
    out = OrgUnitOut.model_validate(await org_units.get_unit(ctx, grid_id, level=Level.GRID))
    set_etag(response, out.version)
    return out


@router.patch("/{grid_id}", response_model=OrgUnitOut)
async def update_grid(
    grid_id: uuid.UUID,
    body: GridUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.GRID_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
    crs: Crs = Crs.WGS84,
) -> OrgUnitOut:
    """Adjust or reshape a grid; the previous version is kept (R-GRID-2)."""
    sent = body.model_fields_set - {"reason"}
    changes = grids.GridChanges(
        fields=frozenset(sent),
        name=body.name,
        geometry=read_polygon(body.geometry, crs) if body.geometry else None,
        grid_leader_id=body.grid_leader_id,
        household_target=body.household_target,
    )
    grid = await grids.update_grid(
        ctx, grid_id, changes, expected_version=expected_version(if_match), reason=body.reason
    )
    out = OrgUnitOut.model_validate(grid)
    set_etag(response, out.version)
    return out


@router.delete("/{grid_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_grid(
    grid_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.GRID_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> None:
    """Refused with 409 `grid_has_records` while records remain: move them first."""
    await grids.delete_grid(
        ctx, grid_id, expected_version=expected_version(if_match), reason=reason
    )


@router.get("/{grid_id}/history", response_model=list[GridVersionOut])
async def grid_history(
    grid_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.GRID_READ)]
) -> list[GridVersionOut]:
    return [GridVersionOut.model_validate(v) for v in await grids.history(ctx, grid_id)]


@router.post("/{grid_id}/split", response_model=list[OrgUnitOut])
async def split_grid(
    grid_id: uuid.UUID,
    body: GridSplit,
    ctx: Annotated[Ctx, requires(Perm.GRID_WRITE)],
    crs: Crs = Crs.WGS84,
) -> list[OrgUnitOut]:
    """Cut by a line: the grid keeps the largest piece, `new_grids` name the others."""
    result = await grids.split_grid(
        ctx,
        grid_id,
        read_line(body.line, crs),
        [grids.NewGrid(code=g.code, name=g.name) for g in body.new_grids],
        reason=body.reason,
    )
    return [OrgUnitOut.model_validate(g) for g in result]


@router.post("/{grid_id}/move-records", response_model=MoveResult)
async def move_grid_records(
    grid_id: uuid.UUID, body: GridMove, ctx: Annotated[Ctx, requires(Perm.GRID_WRITE)]
) -> MoveResult:
    """Re-home every record of this grid to another grid in one transaction."""
    moved = await grids.move_grid_records(ctx, grid_id, body.target_grid_id, reason=body.reason)
    return MoveResult(moved=moved)
