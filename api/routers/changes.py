"""The change feed (R-API-3): event changes in the caller's jurisdiction since a cursor."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import requires
from api.schemas.common import PROBLEM_RESPONSES, Instant, Output
from domain.permissions import Perm
from services import changes
from services.context import Ctx
from services.pagination import MAX_LIMIT

router = APIRouter(prefix="/api/v1/changes", tags=["changes"], responses=PROBLEM_RESPONSES)


class ChangeOut(Output):
    event_id: uuid.UUID
    service_no: str
    action: str
    from_state: str | None
    to_state: str
    at: Instant
    # The event as it stands now.
    state: str
    category: str
    subtype: str
    grid_id: uuid.UUID


class FeedOut(Output):
    items: list[ChangeOut]
    # Ask with this next time; it stays the same while nothing new happens.
    next_cursor: str


@router.get("", response_model=FeedOut)
async def feed(
    ctx: Annotated[Ctx, requires(Perm.EVENT_READ)],
    since: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> FeedOut:
    """What happened to the events in jurisdiction since `since` (from the beginning
    without it), oldest first; no change is ever skipped, even one committed late."""
    return FeedOut.model_validate(await changes.changes(ctx, since=since, limit=limit))
