"""Events and the closed-loop workflow (R-EVT-1, R-EVT-2, R-WF-1 … R-WF-6, R-SUP-7)."""

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime

from api.deps import Paging, requires
from api.etag import expected_version
from api.exporting import ExportFormat, export_list
from api.registry_routes import located, shown
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.duplicates import EventReported
from api.schemas.events import (
    EVENT_COLUMNS,
    ActionIn,
    EventCreate,
    EventOut,
    EventSummary,
    ProcessOut,
    SubtypeOut,
)
from api.schemas.supervision import CancelSupervisionIn, SuperviseIn, SupervisionOut
from domain.coords import Crs
from domain.events import Category
from domain.permissions import Perm
from domain.supervision import Level
from domain.workflow import State
from services import event_actions, events, supervision
from services.context import Ctx
from services.events import Box, EventFilter

router = APIRouter(prefix="/api/v1/events", tags=["events"], responses=PROBLEM_RESPONSES)
dictionary_router = APIRouter(
    prefix="/api/v1/dictionaries", tags=["events"], responses=PROBLEM_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=EventReported)
async def report_event(
    body: EventCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.EVENT_REPORT)],
    crs: Crs = Crs.WGS84,
) -> EventReported:
    """Report an event; the first step goes to the community containing the grid, or, with
    `resolve_on_spot`, the event is recorded as resolved and closed (R-EVT-2). Finished
    uploads in `attachment_ids` are attached; `likely_duplicates` lists the open events it
    may repeat (R-EVT-3)."""
    values = located(body.model_dump(exclude={"resolve_on_spot", "result"}), crs)
    data = await events.report_event(
        ctx, values, resolve_on_spot=body.resolve_on_spot, result=body.result
    )
    return shown(response, EventReported, data, f"/api/v1/events/{data['id']}")


def _filter(
    box: Box | None = None,
    category: Category | None = None,
    state: State | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    is_major: bool | None = None,
    is_urgent: bool | None = None,
    expedited: bool | None = None,
    supervised: bool | None = None,
) -> EventFilter:
    """The list's filters (R-WF-6): box, category, state, search, reporting time and flags."""
    return EventFilter(
        box=box,
        category=category,
        state=state,
        q=q,
        since=since,
        until=until,
        is_major=is_major,
        is_urgent=is_urgent,
        expedited=expedited,
        supervised=supervised,
    )


Filters = Annotated[EventFilter, Depends(_filter)]


@router.get("", response_model=PageOut[EventSummary])
async def list_events(
    ctx: Annotated[Ctx, requires(Perm.EVENT_READ)], page: Paging, flt: Filters
) -> PageOut[EventSummary]:
    """Events in jurisdiction by service number; `box` selects a work box (R-WF-6)."""
    result = await events.list_events(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[EventSummary].model_validate(result, from_attributes=True)


@router.get("/counts", response_model=dict[str, int])
async def box_counts(ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]) -> dict[str, int]:
    """How many events each work box holds (badges, R-WF-6)."""
    return await events.box_counts(ctx)


@router.get("/export", response_class=StreamingResponse)
async def export_events(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Filters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        events.events_query(ctx, flt),
        EVENT_COLUMNS,
        fmt=format,
        filename="事件",
        target_type="event",
        filters=dataclasses.asdict(flt),
        mask=events.EVENT_MASK,
        convert=await events.row_converter(ctx),
    )


@router.get("/{event_id}", response_model=EventOut)
async def get_event(
    event_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]
) -> EventOut:
    return shown(response, EventOut, await events.get_event(ctx, event_id))


@router.get("/{event_id}/process", response_model=ProcessOut)
async def event_process(
    event_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]
) -> ProcessOut:
    """The process graph (R-WF-4), the current state and the caller's available actions."""
    return ProcessOut.model_validate(await event_actions.process_of(ctx, event_id))


@router.get("/{event_id}/supervisions", response_model=list[SupervisionOut])
async def event_supervisions(
    event_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]
) -> list[SupervisionOut]:
    """The event's supervision cards, automatic and manual, oldest first (R-SUP-1)."""
    cards = await supervision.event_supervisions(ctx, event_id)
    return [SupervisionOut.model_validate(card) for card in cards]


# Declared before the generic action route: these two take their own bodies (R-SUP-1).
@router.post("/{event_id}/actions/supervise", response_model=EventOut)
async def supervise(
    event_id: uuid.UUID,
    body: SuperviseIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.EVENT_SUPERVISE)],
    if_match: Annotated[str | None, Header()] = None,
) -> EventOut:
    """A manual supervision card on the current step; yellow and red deduct (R-SUP-5)."""
    data = await supervision.supervise(
        ctx,
        event_id,
        level=Level(body.level),
        opinion=body.opinion,
        expected_version=expected_version(if_match),
    )
    return shown(response, EventOut, data)


@router.post("/{event_id}/actions/cancel-supervision", response_model=EventOut)
async def cancel_supervision(
    event_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.EVENT_SUPERVISE)],
    body: CancelSupervisionIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> EventOut:
    """Cancel the named open manual card, or the latest one; its deduction is reversed."""
    data = await supervision.cancel_supervision(
        ctx,
        event_id,
        (body or CancelSupervisionIn()).supervision_id,
        expected_version=expected_version(if_match),
    )
    return shown(response, EventOut, data)


@router.post("/{event_id}/actions/{action}", response_model=EventOut)
async def take_action(
    event_id: uuid.UUID,
    action: str,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.EVENT_READ)],
    body: ActionIn | None = None,
    if_match: Annotated[str | None, Header()] = None,
) -> EventOut:
    """One workflow action (R-WF-1). Handling actions need `event:handle`, marks and
    instructions `event:supervise`; 409 `transition_not_allowed` when the state forbids it."""
    data = await event_actions.take_action(
        ctx,
        event_id,
        event_actions.parse_action(action),
        (body or ActionIn()).model_dump(),
        expected_version=expected_version(if_match),
    )
    return shown(response, EventOut, data)


@dictionary_router.get("/event_subtype", response_model=list[SubtypeOut])
async def event_subtypes(ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]) -> list[SubtypeOut]:
    """The shipped event sub-type dictionary (R-EVT-1)."""
    return [SubtypeOut.model_validate(item) for item in events.subtype_dictionary()]
