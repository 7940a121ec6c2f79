"""Org units: the territorial tree (R-ORG-1)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.geometry import read_geometry
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.org import UNIT_COLUMNS, CoverageOut, OrgUnitCreate, OrgUnitOut, OrgUnitUpdate
from domain.coords import Crs
from domain.org import Level
from domain.permissions import Perm
from services import grids, org_units
from services.context import Ctx

router = APIRouter(prefix="/api/v1/org-units", tags=["org-units"], responses=PROBLEM_RESPONSES)

UNIT_SHAPES = ("Polygon", "MultiPolygon")


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrgUnitOut)
async def create_org_unit(
    body: OrgUnitCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ORG_WRITE)],
    crs: Crs = Crs.WGS84,
) -> OrgUnitOut:
    """Create a city, district, street or community (grids: `POST /api/v1/grids`)."""
    geometry = (
        read_geometry(body.geometry, crs, allowed=UNIT_SHAPES, field="geometry")
        if body.geometry
        else None
    )
    unit = await org_units.create_unit(
        ctx,
        code=body.code,
        name=body.name,
        level=body.level,
        parent_id=body.parent_id,
        geometry=geometry,
    )
    set_etag(response, unit["version"])
    response.headers["Location"] = f"/api/v1/org-units/{unit['id']}"
    return OrgUnitOut.model_validate(unit)


def unit_filters(
    parent_id: uuid.UUID | None = None,
    level: Level | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> org_units.UnitFilters:
    return org_units.UnitFilters(parent_id=parent_id, level=level, q=q)


UnitFiltersDep = Annotated[org_units.UnitFilters, Depends(unit_filters)]


@router.get("", response_model=PageOut[OrgUnitOut])
async def list_org_units(
    ctx: Annotated[Ctx, requires(Perm.ORG_READ)], page: Paging, filters: UnitFiltersDep
) -> PageOut[OrgUnitOut]:
    result = await org_units.list_units(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[OrgUnitOut].model_validate(result, from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_org_units(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: UnitFiltersDep,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered list as CSV or XLSX (R-EXP-1)."""
    return await export_list(
        request,
        ctx,
        org_units.units_query(ctx, filters),
        UNIT_COLUMNS,
        fmt=format,
        filename="组织机构",
        target_type="org_unit",
        filters=vars(filters),
    )


@router.get("/{unit_id}", response_model=OrgUnitOut)
async def get_org_unit(
    unit_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.ORG_READ)]
) -> OrgUnitOut:
    unit = await org_units.get_unit(ctx, unit_id)
    set_etag(response, unit["version"])
    return OrgUnitOut.model_validate(unit)


@router.patch("/{unit_id}", response_model=OrgUnitOut)
async def update_org_unit(
    unit_id: uuid.UUID,
    body: OrgUnitUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ORG_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
    crs: Crs = Crs.WGS84,
) -> OrgUnitOut:
    geometry = (
        read_geometry(body.geometry, crs, allowed=UNIT_SHAPES, field="geometry")
        if body.geometry
        else None
    )
    unit = await org_units.update_unit(
        ctx,
        unit_id,
        expected_version=expected_version(if_match),
        name=body.name,
        geometry=geometry,
        reason=body.reason,
    )
    set_etag(response, unit["version"])
    return OrgUnitOut.model_validate(unit)


@router.delete("/{unit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_org_unit(
    unit_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.ORG_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
    reason: Annotated[str | None, Query(max_length=500)] = None,
) -> None:
    await org_units.delete_unit(
        ctx, unit_id, expected_version=expected_version(if_match), reason=reason
    )


@router.get("/{unit_id}/coverage", response_model=CoverageOut)
async def community_coverage(
    unit_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.GRID_READ)]
) -> CoverageOut:
    """Share of a community covered by its grids, and the gaps as geometry (R-GRID-3)."""
    return CoverageOut.model_validate(await grids.coverage(ctx, unit_id))
