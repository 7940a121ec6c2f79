"""The command centre (R-CMD-1): one dashboard document polled with `If-None-Match`; the
live feed is the change feed (`GET /api/v1/changes?since=`)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response, status

from api.deps import requires
from api.schemas.common import PROBLEM_RESPONSES, Instant, Output
from domain.permissions import Perm
from services import command_centre
from services.context import Ctx

router = APIRouter(
    prefix="/api/v1/command-centre", tags=["command centre"], responses=PROBLEM_RESPONSES
)


class UnitCounts(Output):
    unit_id: uuid.UUID
    code: str
    name: str
    total: int
    open: int
    # Open events with an open yellow or red card on their current step.
    overdue: int
    red: int


class RedEvent(Output):
    id: uuid.UUID
    service_no: str
    title: str
    category: str
    state: str
    holder_unit_id: uuid.UUID | None
    holder_department_id: uuid.UUID | None
    holder_name: str | None
    red_since: Instant


class WorkerOnDuty(Output):
    user_id: uuid.UUID
    full_name: str
    location: dict[str, Any]
    reported_at: Instant


class NoticeLine(Output):
    id: uuid.UUID
    kind: str
    title: str
    target_type: str | None
    target_id: uuid.UUID | None
    created_at: Instant


class Notices(Output):
    unread: int
    latest: list[NoticeLine]


class CommandSummaryOut(Output):
    # Events per workflow state in jurisdiction.
    states: dict[str, int]
    open: int
    # Per unit one level below the caller's home.
    units: list[UnitCounts]
    red_events: list[RedEvent]
    workers_on_duty: int
    workers: list[WorkerOnDuty]
    notices: Notices


@router.get(
    "/summary",
    response_model=CommandSummaryOut,
    responses={status.HTTP_304_NOT_MODIFIED: {"description": "Unchanged since the ETag sent"}},
)
async def summary(
    ctx: Annotated[Ctx, requires(Perm.EVENT_READ)],
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The dashboard of the caller's jurisdiction. Its ETag digests what the board is made
    of, so a screen polling with `If-None-Match` gets 304 — without the board being built —
    until something changes."""
    tag = command_centre.digest((await command_centre.fingerprint(ctx)).encode())
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if command_centre.matches(if_none_match, tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = (
        CommandSummaryOut.model_validate(await command_centre.summary(ctx))
        .model_dump_json()
        .encode()
    )
    return Response(body, media_type="application/json", headers=headers)
