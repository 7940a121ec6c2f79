"""The grid worker's app (R-MOB-1): my grid, field reports and the alarm, the visit log,
check-in/check-out, GPS tracks and their playback, my history; and the handbooks it reads.
Look-ups within my grid are the registries' own lists, which jurisdiction already limits
to the caller's grid (see `clients/mobile-contract/`)."""

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from api.deps import Paging, requires
from api.etag import expected_version
from api.registry_routes import shown
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.events import EventOut
from api.schemas.mobile import (
    CheckInOut,
    DayTrackOut,
    HandbookIn,
    HandbookOut,
    HandbookPatch,
    HistoryOut,
    SummaryOut,
    TrackUploadOut,
    VisitOut,
)
from domain.mobile import AlarmIn, CheckInIn, FieldEventIn, TrackBatchIn, VisitIn, VisitPatch
from domain.permissions import Perm
from services import handbooks, mobile, tracks, visits
from services.context import Ctx

router = APIRouter(prefix="/api/v1/mobile", tags=["mobile"], responses=PROBLEM_RESPONSES)
handbook_router = APIRouter(
    prefix="/api/v1/handbooks", tags=["mobile"], responses=PROBLEM_RESPONSES
)

IfMatch = Annotated[str | None, Header()]


@router.get("/summary", response_model=SummaryOut)
async def summary(ctx: Annotated[Ctx, requires(Perm.SELF_READ)]) -> SummaryOut:
    """My grid at a glance: registered people, houses and places, open events, my to-do,
    unread notifications and my open check-in."""
    return SummaryOut.model_validate(await mobile.summary(ctx))


@router.post("/events", status_code=status.HTTP_201_CREATED, response_model=EventOut)
async def report_event(
    body: FieldEventIn, response: Response, ctx: Annotated[Ctx, requires(Perm.EVENT_REPORT)]
) -> EventOut:
    """Report an event at a GPS point (`crs` may be `gcj02`); its grid is the one covering
    the point."""
    data = await mobile.report_from_field(ctx, body)
    return shown(response, EventOut, data, f"/api/v1/events/{data['id']}")


@router.post("/alarms", status_code=status.HTTP_201_CREATED, response_model=EventOut)
async def raise_alarm(
    body: AlarmIn, response: Response, ctx: Annotated[Ctx, requires(Perm.EVENT_REPORT)]
) -> EventOut:
    """Emergency alarm: one tap makes an urgent event where the worker stands."""
    data = await mobile.raise_alarm(ctx, body)
    return shown(response, EventOut, data, f"/api/v1/events/{data['id']}")


@router.post("/visits", status_code=status.HTTP_201_CREATED, response_model=VisitOut)
async def create_visit(
    body: VisitIn, response: Response, ctx: Annotated[Ctx, requires(Perm.VISIT_WRITE)]
) -> VisitOut:
    """A 民情日记 entry in a grid, linked to a person or house of that grid."""
    data = await visits.create_visit(ctx, body)
    return shown(response, VisitOut, data, f"/api/v1/mobile/visits/{data['id']}")


@router.get("/visits", response_model=PageOut[VisitOut])
async def list_visits(
    ctx: Annotated[Ctx, requires(Perm.VISIT_READ)],
    page: Paging,
    mine: bool = False,
    person_id: uuid.UUID | None = None,
    house_id: uuid.UUID | None = None,
) -> PageOut[VisitOut]:
    """Visit log entries in jurisdiction (`mine`: only my own), latest change first."""
    result = await visits.list_visits(
        ctx,
        mine=mine,
        person_id=person_id,
        house_id=house_id,
        limit=page.limit,
        cursor=page.cursor,
    )
    return PageOut[VisitOut].model_validate(result, from_attributes=True)


@router.get("/visits/{visit_id}", response_model=VisitOut)
async def get_visit(
    visit_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.VISIT_READ)]
) -> VisitOut:
    return shown(response, VisitOut, await visits.get_visit(ctx, visit_id))


@router.patch("/visits/{visit_id}", response_model=VisitOut)
async def update_visit(
    visit_id: uuid.UUID,
    body: VisitPatch,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.VISIT_WRITE)],
    if_match: IfMatch = None,
) -> VisitOut:
    """Change an entry; 412 when `If-Match` names an older version."""
    data = await visits.update_visit(
        ctx, visit_id, body, expected_version=expected_version(if_match)
    )
    return shown(response, VisitOut, data)


@router.post("/check-ins", status_code=status.HTTP_201_CREATED, response_model=CheckInOut)
async def check_in(
    body: CheckInIn, ctx: Annotated[Ctx, requires(Perm.POSITION_REPORT)]
) -> CheckInOut:
    """Check in here and now (409 `check_in_open` while one is open)."""
    return CheckInOut.model_validate(await tracks.check_in(ctx, body.point()))


@router.post("/check-ins/check-out", response_model=CheckInOut)
async def check_out(
    body: CheckInIn, ctx: Annotated[Ctx, requires(Perm.POSITION_REPORT)]
) -> CheckInOut:
    """Check out of the open check-in (409 `no_open_check_in` when none is open)."""
    return CheckInOut.model_validate(await tracks.check_out(ctx, body.point()))


@router.get("/check-ins", response_model=PageOut[CheckInOut])
async def my_check_ins(
    ctx: Annotated[Ctx, requires(Perm.POSITION_REPORT)], page: Paging
) -> PageOut[CheckInOut]:
    """My check-ins, newest first."""
    result = await tracks.my_check_ins(ctx, limit=page.limit, cursor=page.cursor)
    return PageOut[CheckInOut].model_validate(result, from_attributes=True)


@router.post("/tracks", response_model=TrackUploadOut)
async def upload_track(
    body: TrackBatchIn, ctx: Annotated[Ctx, requires(Perm.POSITION_REPORT)]
) -> TrackUploadOut:
    """A batch of my GPS track points; points already stored are counted, not stored again."""
    return TrackUploadOut.model_validate(await tracks.upload_track(ctx, body))


@router.get("/tracks/{user_id}", response_model=DayTrackOut)
async def day_track(
    user_id: uuid.UUID, day: date, ctx: Annotated[Ctx, requires(Perm.TRACK_READ)]
) -> DayTrackOut:
    """Playback of a worker's track over one business day (`day`, YYYY-MM-DD)."""
    return DayTrackOut.model_validate(await tracks.day_track(ctx, user_id, day))


@router.get("/history", response_model=PageOut[HistoryOut])
async def history(
    ctx: Annotated[Ctx, requires(Perm.SELF_READ)], page: Paging
) -> PageOut[HistoryOut]:
    """Everything I recorded, newest first."""
    result = await mobile.history(ctx, limit=page.limit, cursor=page.cursor)
    return PageOut[HistoryOut].model_validate(result, from_attributes=True)


@handbook_router.post("", status_code=status.HTTP_201_CREATED, response_model=HandbookOut)
async def create_handbook(
    body: HandbookIn, response: Response, ctx: Annotated[Ctx, requires(Perm.HANDBOOK_WRITE)]
) -> HandbookOut:
    """Publish a handbook for a unit and everyone under it."""
    data = await handbooks.create_handbook(ctx, body.model_dump())
    return shown(response, HandbookOut, data, f"/api/v1/handbooks/{data['id']}")


@handbook_router.get("", response_model=PageOut[HandbookOut])
async def list_handbooks(
    ctx: Annotated[Ctx, requires(Perm.HANDBOOK_READ)],
    page: Paging,
    category: Annotated[str | None, Query(max_length=32)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> PageOut[HandbookOut]:
    """Handbooks of my unit, the units above it and, for managers, the units below."""
    result = await handbooks.list_handbooks(
        ctx, category=category, q=q, limit=page.limit, cursor=page.cursor
    )
    return PageOut[HandbookOut].model_validate(result, from_attributes=True)


@handbook_router.get("/{handbook_id}", response_model=HandbookOut)
async def get_handbook(
    handbook_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.HANDBOOK_READ)]
) -> HandbookOut:
    return shown(response, HandbookOut, await handbooks.get_handbook(ctx, handbook_id))


@handbook_router.patch("/{handbook_id}", response_model=HandbookOut)
async def update_handbook(
    handbook_id: uuid.UUID,
    body: HandbookPatch,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.HANDBOOK_WRITE)],
    if_match: IfMatch = None,
) -> HandbookOut:
    data = await handbooks.update_handbook(
        ctx,
        handbook_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return shown(response, HandbookOut, data)
