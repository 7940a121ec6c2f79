"""Standard addresses (楼宇/地址库, R-MAP-3): register, typo-tolerant search, building view.

Also the request helpers the house routes share (`sent_fields`, `tagged`, `export_rows`).
"""

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Select

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import MEDIA_TYPES, ExportFormat, export_response
from api.geometry import read_geometry
from api.schemas.common import PROBLEM_RESPONSES, Input, PageOut
from api.schemas.houses import (
    AddressCreate,
    AddressOut,
    AddressUpdate,
    BuildingOut,
    RestoreIn,
    StatusChangeIn,
    StatusChangeOut,
)
from domain.coords import Crs
from domain.permissions import Perm
from domain.registry import Status
from services import addresses, rentals
from services.addresses import AddressFilters
from services.context import Ctx
from services.exporting import Column, scoped_rows

M = TypeVar("M", bound=BaseModel)

router = APIRouter(prefix="/api/v1/addresses", tags=["addresses"], responses=PROBLEM_RESPONSES)

EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {MEDIA_TYPES[f].split(";")[0]: {} for f in ExportFormat},
        "description": "CSV or XLSX",
    }
}
Format = Annotated[ExportFormat, Query(alias="format")]
Search = Annotated[str | None, Query(max_length=100)]
UnitFilter = Annotated[uuid.UUID | None, Query(description="records in this unit's subtree")]


def sent_fields(body: Input, crs: Crs) -> dict[str, Any]:
    """The fields a body actually sent; a GeoJSON `location` becomes a WGS-84 point, converted
    from `crs` (R-GRID-4)."""
    values = body.model_dump(exclude_unset=True)
    if values.get("location") is not None:
        values["location"] = read_geometry(
            values["location"], crs, allowed=("Point",), field="location"
        )
    return values


def tagged(model: type[M], record: dict[str, Any], response: Response) -> M:
    """The record as `model`, its version as the ETag."""
    set_etag(response, record["version"])
    return model.model_validate(record)


def export_rows(
    request: Request, ctx: Ctx, stmt: Select[*tuple[Any, ...]]
) -> AsyncIterator[dict[str, Any]]:
    """The export's rows, read after the response starts in a session of their own made like
    the request's (`request_session` is the pool's sessionmaker in production; tests bind it
    to their rolled-back connection, so exports see what the test wrote)."""
    return scoped_rows(
        request.app.state.request_session, ctx.principal, stmt, addresses.export_dict
    )


def address_filters(
    unit_id: UnitFilter = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="typo-tolerant: text or pinyin initials (xydd, 西域打道 → 西域大道)",
        ),
    ] = None,
    status: Status | None = None,
) -> AddressFilters:
    return AddressFilters(unit_id=unit_id, q=q, status=status)


Filters = Annotated[AddressFilters, Depends(address_filters)]

EXPORT_COLUMNS = [
    Column("full_text", "标准地址"),
    Column("road", "道路"),
    Column("house_number", "门牌号"),
    Column("building", "楼栋"),
    Column("lon", "经度"),
    Column("lat", "纬度"),
    Column("status", "状态"),
    Column("status_reason", "注销原因"),
    Column("updated_at", "更新时间"),
]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AddressOut)
async def create_address(
    body: AddressCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> AddressOut:
    """Register a standard address in a grid; its (normalised) text is unique among active
    addresses (409 `address_taken`)."""
    out = tagged(AddressOut, await addresses.create_address(ctx, sent_fields(body, crs)), response)
    response.headers["Location"] = f"/api/v1/addresses/{out.id}"
    return out


@router.get("", response_model=PageOut[AddressOut])
async def list_addresses(
    ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)], page: Paging, filters: Filters
) -> PageOut[AddressOut]:
    """By full text; with `q`, best match first (keyset cursor over score and id)."""
    result = await addresses.list_addresses(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[AddressOut].model_validate(result, from_attributes=True)


@router.get("/export", response_class=StreamingResponse, responses=EXPORT_RESPONSES)
async def export_addresses(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Filters,
    fmt: Format = ExportFormat.CSV,
) -> StreamingResponse:
    """The list with its filters as CSV or XLSX (R-EXP-1); addresses hold no personal data."""
    stmt = await addresses.export_addresses(ctx, filters)
    return export_response(
        export_rows(request, ctx, stmt), EXPORT_COLUMNS, fmt=fmt, filename="标准地址"
    )


@router.get("/{address_id}", response_model=AddressOut)
async def get_address(
    address_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)]
) -> AddressOut:
    return tagged(AddressOut, await addresses.get_address(ctx, address_id), response)


@router.patch("/{address_id}", response_model=AddressOut)
async def update_address(
    address_id: uuid.UUID,
    body: AddressUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
    crs: Crs = Crs.WGS84,
) -> AddressOut:
    record = await addresses.update_address(
        ctx, address_id, sent_fields(body, crs), expected_version=expected_version(if_match)
    )
    return tagged(AddressOut, record, response)


@router.post("/{address_id}/deregister", response_model=AddressOut)
async def deregister_address(
    address_id: uuid.UUID,
    body: StatusChangeIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> AddressOut:
    """注销 with reason and time; refused while active houses point at it."""
    record = await addresses.deregister_address(
        ctx, address_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return tagged(AddressOut, record, response)


@router.post("/{address_id}/restore", response_model=AddressOut)
async def restore_address(
    address_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    body: RestoreIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> AddressOut:
    record = await addresses.restore_address(
        ctx,
        address_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return tagged(AddressOut, record, response)


@router.get("/{address_id}/history", response_model=list[StatusChangeOut])
async def address_history(
    address_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)]
) -> list[StatusChangeOut]:
    history = await addresses.address_history(ctx, address_id)
    return [StatusChangeOut.model_validate(change) for change in history]


@router.get("/{address_id}/building", response_model=BuildingOut)
async def building(
    address_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)], page: Paging
) -> BuildingOut:
    """以房找人 (R-MAP-3): the address, a keyset page of its rooms (active houses there), each
    with its residents and rental records; personal fields masked per caller (R-JUR-3)."""
    view = await rentals.building(ctx, address_id, limit=page.limit, cursor=page.cursor)
    return BuildingOut.model_validate(view, from_attributes=True)
