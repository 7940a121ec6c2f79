"""The hotline desk (热线, R-CIT-1): caller look-up, call registration, call-backs."""

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.registry_routes import located
from api.schemas.citizens import CALL_COLUMNS, CallbackIn, CallIn, CallOut, LookupOut
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.people import Phone
from domain.citizens import CallNature
from domain.coords import Crs
from domain.permissions import Perm
from services import hotline
from services.context import Ctx
from services.hotline import CallFilter

router = APIRouter(prefix="/api/v1/hotline", tags=["hotline"], responses=PROBLEM_RESPONSES)


def _filter(
    nature: CallNature | None = None,
    callback_due: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> CallFilter:
    return CallFilter(nature=nature, callback_due=callback_due, q=q)


Filters = Annotated[CallFilter, Depends(_filter)]


def _shown(response: Response, data: dict[str, object]) -> CallOut:
    out = CallOut.model_validate(data)
    set_etag(response, out.version)
    return out


@router.get("/callers", response_model=LookupOut)
async def look_up(
    phone: Annotated[Phone, Query()], ctx: Annotated[Ctx, requires(Perm.HOTLINE_WRITE)]
) -> LookupOut:
    """Who is calling: a new caller, or a known one with their calls (in jurisdiction)."""
    return LookupOut.model_validate(await hotline.look_up(ctx, phone))


@router.post("/calls", status_code=status.HTTP_201_CREATED, response_model=CallOut)
async def register_call(
    body: CallIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOTLINE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> CallOut:
    """Register a call; unless it is a nuisance call, its event enters the workflow."""
    values = body.model_dump()
    if body.event is not None:
        values["event"] = located(body.event.model_dump(), crs)
    out = _shown(response, await hotline.register_call(ctx, values))
    response.headers["Location"] = f"/api/v1/hotline/calls/{out.id}"
    return out


@router.get("/calls", response_model=PageOut[CallOut])
async def list_calls(
    ctx: Annotated[Ctx, requires(Perm.HOTLINE_WRITE)], page: Paging, flt: Filters
) -> PageOut[CallOut]:
    """Calls in jurisdiction; `callback_due=true` lists the call-backs owed."""
    result = await hotline.list_calls(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[CallOut].model_validate(result, from_attributes=True)


@router.get("/calls/export", response_class=StreamingResponse)
async def export_calls(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Filters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        hotline.calls_query(ctx, flt),
        CALL_COLUMNS,
        fmt=format,
        filename="热线来电",
        target_type="hotline_call",
        filters=dataclasses.asdict(flt),
        mask=hotline.CALL_MASK,
    )


@router.get("/calls/{call_id}", response_model=CallOut)
async def get_call(
    call_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.HOTLINE_WRITE)]
) -> CallOut:
    return _shown(response, await hotline.get_call(ctx, call_id))


@router.post("/calls/{call_id}/callback", response_model=CallOut)
async def record_callback(
    call_id: uuid.UUID,
    body: CallbackIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HOTLINE_WRITE)],
    if_match: Annotated[str | None, Header()] = None,
) -> CallOut:
    """How the call-back went, once the event was handled."""
    data = await hotline.record_callback(
        ctx,
        call_id,
        reached=body.reached,
        satisfaction=body.satisfaction,
        note=body.note,
        expected_version=expected_version(if_match),
    )
    return _shown(response, data)
