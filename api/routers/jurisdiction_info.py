"""Jurisdiction information (R-JURINFO-1): each unit's profile (辖区信息) and the rosters (花名册)
of its political and self-governance organisations."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import Paging, StorageDep, requires
from api.etag import expected_version
from api.exporting import ExportFormat, export_list
from api.registry_routes import IfMatch, shown
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.places import ROSTER_COLUMNS, ProfileIn, ProfileOut, RosterEntryOut
from domain.permissions import Perm
from services import jurisdiction_info
from services.context import Ctx
from services.jurisdiction_info import RosterFilter
from services.registry import unit_for_record
from services.teams import MEMBERS

router = APIRouter(
    prefix="/api/v1/org-units/{unit_id}", tags=["jurisdiction-info"], responses=PROBLEM_RESPONSES
)


@router.get("/profile", response_model=ProfileOut)
async def get_profile(
    unit_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.TEAM_READ)]
) -> ProfileOut:
    """The unit's profile; one nobody has written yet is empty, with ETag "0"."""
    return shown(response, ProfileOut, await jurisdiction_info.get_profile(ctx, unit_id))


@router.put("/profile", response_model=ProfileOut)
async def put_profile(
    unit_id: uuid.UUID,
    body: ProfileIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.TEAM_WRITE)],
    if_match: IfMatch = None,
) -> ProfileOut:
    """Replace the profile (text sections and images: addresses, or photos uploaded through
    `/api/v1/uploads`, which the profile then keeps); `If-Match` guards it."""
    data = await jurisdiction_info.put_profile(
        ctx,
        unit_id,
        sections=body.model_dump(exclude={"images"}),
        images=[image.model_dump(exclude_none=True, mode="json") for image in body.images],
        expected_version=expected_version(if_match),
    )
    return shown(response, ProfileOut, data)


@router.get(
    "/profile/images/{upload_id}",
    response_class=StreamingResponse,
    responses={200: {"content": {"image/*": {}}}},
)
async def get_profile_image(
    unit_id: uuid.UUID,
    upload_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.TEAM_READ)],
    storage: StorageDep,
) -> StreamingResponse:
    """A photo the profile shows, as stored (re-encoded without its EXIF)."""
    image = await jurisdiction_info.profile_image(ctx, unit_id, upload_id)
    return StreamingResponse(
        storage.stream(image.storage_key),
        media_type=image.mime,
        headers={"X-Content-Type-Options": "nosniff"},
    )


@router.get("/roster", response_model=PageOut[RosterEntryOut])
async def list_roster(
    unit_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.TEAM_READ)],
    page: Paging,
    filters: Annotated[RosterFilter, Depends()],
) -> PageOut[RosterEntryOut]:
    """Active members of the unit's 综治/党/自治/群防群治/志愿者 organisations by name
    (`include_subunits` for the whole subtree)."""
    result = await jurisdiction_info.list_roster(
        ctx, unit_id, filters, limit=page.limit, cursor=page.cursor
    )
    return PageOut[RosterEntryOut].model_validate(result, from_attributes=True)


@router.get("/roster/export", response_class=StreamingResponse)
async def export_roster(
    unit_id: uuid.UUID,
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Annotated[RosterFilter, Depends()],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    await unit_for_record(ctx, unit_id)
    return await export_list(
        request,
        ctx,
        jurisdiction_info.roster_query(ctx, unit_id, filters).order_by(*MEMBERS.order),
        ROSTER_COLUMNS,
        fmt=format,
        filename="花名册",
        target_type="team_member",
        filters={**vars(filters), "unit_id": unit_id},
        mask=MEMBERS.mask,
        convert=MEMBERS.export_row,
    )
