"""Actual houses (R-HOUSE-1) with their residents, and rentals (R-HOUSE-2) with tenants.

Owners', landlords' and residents' personal fields are masked for callers without pii:read
(R-JUR-3), in lists, single records and exports alike.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version
from api.exporting import ExportFormat, export_response
from api.routers.addresses import (
    EXPORT_RESPONSES,
    Format,
    Search,
    UnitFilter,
    export_rows,
    sent_fields,
    tagged,
)
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.houses import (
    HouseCreate,
    HouseDetailOut,
    HouseOut,
    HouseUpdate,
    RentalCreate,
    RentalDetailOut,
    RentalOut,
    RentalUpdate,
    RestoreIn,
    StatusChangeIn,
    StatusChangeOut,
)
from domain.addresses import HazardLevel
from domain.coords import Crs
from domain.permissions import Perm
from domain.registry import Status
from services import houses, masking, rentals
from services.context import Ctx
from services.exporting import Column
from services.houses import HouseFilters
from services.rentals import RentalFilters

router = APIRouter(prefix="/api/v1", tags=["houses"], responses=PROBLEM_RESPONSES)

IfMatch = Annotated[str | None, Header()]


def house_filters(
    unit_id: UnitFilter = None,
    q: Search = None,
    use: Annotated[str | None, Query(max_length=32)] = None,
    status: Status | None = None,
) -> HouseFilters:
    """`q`: part of the house number, address or owner's name, or a full owner ID number."""
    return HouseFilters(unit_id=unit_id, q=q, use=use, status=status)


def rental_filters(
    unit_id: UnitFilter = None,
    q: Search = None,
    hazard_level: HazardLevel | None = None,
    status: Status | None = None,
) -> RentalFilters:
    """`q`: part of the house number, address or landlord's name, or a full landlord ID."""
    return RentalFilters(unit_id=unit_id, q=q, hazard_level=hazard_level, status=status)


HouseQuery = Annotated[HouseFilters, Depends(house_filters)]
RentalQuery = Annotated[RentalFilters, Depends(rental_filters)]

HOUSE_COLUMNS = [
    Column("house_no", "房屋编号"),
    Column("address", "房屋地址"),
    Column("building", "楼栋"),
    Column("unit_no", "单元"),
    Column("room", "房间号"),
    Column("use", "房屋用途"),
    Column("structure", "房屋结构"),
    Column("area", "面积（平方米）"),
    Column("owner_name", "产权人"),
    Column("owner_id_number", "产权人身份证号"),
    Column("owner_phone", "产权人电话"),
    Column("lon", "经度"),
    Column("lat", "纬度"),
    Column("status", "状态"),
    Column("status_reason", "注销原因"),
    Column("updated_at", "更新时间"),
]
RENTAL_COLUMNS = [
    Column("house_no", "房屋编号"),
    Column("address", "出租房地址"),
    Column("landlord_name", "房东姓名"),
    Column("landlord_id_number", "房东身份证号"),
    Column("landlord_phone", "联系电话"),
    Column("rooms", "房间数"),
    Column("nature", "出租房性质"),
    Column("category", "出租房类别"),
    Column("use", "出租用途"),
    Column("structure", "出租房结构"),
    Column("hazard_level", "隐患程度"),
    Column("status", "状态"),
    Column("status_reason", "注销原因"),
    Column("updated_at", "更新时间"),
]


# --------------------------------------------------------------------------- houses


@router.post("/houses", status_code=status.HTTP_201_CREATED, response_model=HouseDetailOut)
async def create_house(
    body: HouseCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> HouseDetailOut:
    """Register a house in a grid; its house number must not be an active house's (409
    `house_no_taken`). Address text and location default to the standard address's."""
    out = tagged(HouseDetailOut, await houses.create_house(ctx, sent_fields(body, crs)), response)
    response.headers["Location"] = f"/api/v1/houses/{out.id}"
    return out


@router.get("/houses", response_model=PageOut[HouseOut])
async def list_houses(
    ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)], page: Paging, filters: HouseQuery
) -> PageOut[HouseOut]:
    result = await houses.list_houses(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[HouseOut].model_validate(result, from_attributes=True)


@router.get("/houses/export", response_class=StreamingResponse, responses=EXPORT_RESPONSES)
async def export_houses(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: HouseQuery,
    fmt: Format = ExportFormat.CSV,
) -> StreamingResponse:
    """The list with its filters as CSV or XLSX, masked like the list (R-EXP-1)."""
    rows = await masking.export_view(
        ctx,
        export_rows(request, ctx, await houses.export_houses(ctx, filters)),
        houses.HOUSE_MASK,
        target_type=houses.HOUSE,
        filters=vars(filters),
    )
    return export_response(rows, HOUSE_COLUMNS, fmt=fmt, filename="实有房屋")


@router.get("/houses/{house_id}", response_model=HouseDetailOut)
async def get_house(
    house_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)]
) -> HouseDetailOut:
    """The house with its residents (以房管人)."""
    return tagged(HouseDetailOut, await houses.get_house(ctx, house_id), response)


@router.patch("/houses/{house_id}", response_model=HouseDetailOut)
async def update_house(
    house_id: uuid.UUID,
    body: HouseUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    if_match: IfMatch = None,
    crs: Crs = Crs.WGS84,
) -> HouseDetailOut:
    """A new house number already held by an active house is refused (409 `house_no_taken`)."""
    record = await houses.update_house(
        ctx, house_id, sent_fields(body, crs), expected_version=expected_version(if_match)
    )
    return tagged(HouseDetailOut, record, response)


@router.post("/houses/{house_id}/reveal", response_model=HouseDetailOut)
async def reveal_house(
    house_id: uuid.UUID,
    body: StatusChangeIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PII_REVEAL)],
) -> HouseDetailOut:
    """The owner's and residents' full details on demand, the reason audited (R-JUR-3)."""
    record = await houses.reveal_house(ctx, house_id, reason=body.reason)
    return tagged(HouseDetailOut, record, response)


@router.post("/houses/{house_id}/deregister", response_model=HouseDetailOut)
async def deregister_house(
    house_id: uuid.UUID,
    body: StatusChangeIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    if_match: IfMatch = None,
) -> HouseDetailOut:
    """注销 with reason and time; refused while people live there or it is let."""
    record = await houses.deregister_house(
        ctx, house_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return tagged(HouseDetailOut, record, response)


@router.post("/houses/{house_id}/restore", response_model=HouseDetailOut)
async def restore_house(
    house_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    body: RestoreIn | None = None,
    if_match: IfMatch = None,
) -> HouseDetailOut:
    """Refused (409 `house_no_taken`) if an active house took the number meanwhile."""
    record = await houses.restore_house(
        ctx,
        house_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return tagged(HouseDetailOut, record, response)


@router.get("/houses/{house_id}/history", response_model=list[StatusChangeOut])
async def house_history(
    house_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)]
) -> list[StatusChangeOut]:
    history = await houses.house_history(ctx, house_id)
    return [StatusChangeOut.model_validate(change) for change in history]


@router.post(
    "/houses/{house_id}/rental", status_code=status.HTTP_201_CREATED, response_model=RentalDetailOut
)
async def create_rental(
    house_id: uuid.UUID,
    body: RentalCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
) -> RentalDetailOut:
    """Register the house as let; one active rental per house (409 `duplicate_active_record`)."""
    record = await rentals.create_rental(ctx, house_id, body.model_dump(exclude_unset=True))
    out = tagged(RentalDetailOut, record, response)
    response.headers["Location"] = f"/api/v1/rentals/{out.id}"
    return out


# --------------------------------------------------------------------------- rentals


@router.get("/rentals", response_model=PageOut[RentalOut])
async def list_rentals(
    ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)], page: Paging, filters: RentalQuery
) -> PageOut[RentalOut]:
    result = await rentals.list_rentals(ctx, filters, limit=page.limit, cursor=page.cursor)
    return PageOut[RentalOut].model_validate(result, from_attributes=True)


@router.get("/rentals/export", response_class=StreamingResponse, responses=EXPORT_RESPONSES)
async def export_rentals(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: RentalQuery,
    fmt: Format = ExportFormat.CSV,
) -> StreamingResponse:
    """The list with its filters as CSV or XLSX, masked like the list (R-EXP-1)."""
    rows = await masking.export_view(
        ctx,
        export_rows(request, ctx, await rentals.export_rentals(ctx, filters)),
        rentals.RENTAL_MASK,
        target_type=rentals.RENTAL,
        filters=vars(filters),
    )
    return export_response(rows, RENTAL_COLUMNS, fmt=fmt, filename="出租房")


@router.get("/rentals/{rental_id}", response_model=RentalDetailOut)
async def get_rental(
    rental_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)]
) -> RentalDetailOut:
    """The rental with its tenants (the people living in the house)."""
    return tagged(RentalDetailOut, await rentals.get_rental(ctx, rental_id), response)


@router.patch("/rentals/{rental_id}", response_model=RentalDetailOut)
async def update_rental(
    rental_id: uuid.UUID,
    body: RentalUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    if_match: IfMatch = None,
) -> RentalDetailOut:
    record = await rentals.update_rental(
        ctx,
        rental_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return tagged(RentalDetailOut, record, response)


@router.post("/rentals/{rental_id}/reveal", response_model=RentalDetailOut)
async def reveal_rental(
    rental_id: uuid.UUID,
    body: StatusChangeIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PII_REVEAL)],
) -> RentalDetailOut:
    """The landlord's and tenants' full details on demand, the reason audited (R-JUR-3)."""
    record = await rentals.reveal_rental(ctx, rental_id, reason=body.reason)
    return tagged(RentalDetailOut, record, response)


@router.post("/rentals/{rental_id}/deregister", response_model=RentalDetailOut)
async def deregister_rental(
    rental_id: uuid.UUID,
    body: StatusChangeIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    if_match: IfMatch = None,
) -> RentalDetailOut:
    """No longer rented (不再出租): deregistered with reason and time."""
    record = await rentals.deregister_rental(
        ctx, rental_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return tagged(RentalDetailOut, record, response)


@router.post("/rentals/{rental_id}/restore", response_model=RentalDetailOut)
async def restore_rental(
    rental_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOUSE_WRITE)],
    body: RestoreIn | None = None,
    if_match: IfMatch = None,
) -> RentalDetailOut:
    """Let again; refused if the house is deregistered or has another active rental."""
    record = await rentals.restore_rental(
        ctx,
        rental_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return tagged(RentalDetailOut, record, response)


@router.get("/rentals/{rental_id}/history", response_model=list[StatusChangeOut])
async def rental_history(
    rental_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.HOUSE_READ)]
) -> list[StatusChangeOut]:
    history = await rentals.rental_history(ctx, rental_id)
    return [StatusChangeOut.model_validate(change) for change in history]
