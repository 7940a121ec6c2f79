"""Offline sync for the grid worker's app (R-MOB-2): `POST /api/v1/sync`."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request

from api.deps import requires
from api.errors import language
from api.routers.changes import ChangeOut
from api.schemas.common import PROBLEM_RESPONSES, FieldProblem, Output
from api.schemas.mobile import VisitOut
from domain.messages import render
from domain.permissions import Perm
from domain.sync import Refusal, SyncIn
from services import sync
from services.context import Ctx

router = APIRouter(prefix="/api/v1/sync", tags=["mobile"], responses=PROBLEM_RESPONSES)


class OpError(Output):
    code: str
    message: str
    errors: list[FieldProblem]


class TrackCounts(Output):
    received: int
    stored: int
    duplicates: int


class OpResultOut(Output):
    op_id: uuid.UUID
    # created | applied | already_applied | conflict | rejected
    status: str
    target_type: str | None = None
    target_id: uuid.UUID | None = None
    version: int | None = None
    # A track upload's counts.
    detail: TrackCounts | None = None
    # A conflict: the record as the server has it now; merge and resend with its version.
    server: VisitOut | None = None
    # A rejection: why, in the caller's language.
    error: OpError | None = None


class PullOut(Output):
    events: list[ChangeOut]
    visits: list[VisitOut]
    # Send as `since` next time; unchanged while nothing new has happened.
    next_cursor: str
    more: bool


class SyncOut(Output):
    results: list[OpResultOut]
    changes: PullOut


def _rendered(result: dict[str, Any], lang: str) -> dict[str, Any]:
    if result.get("error") is None:
        return result
    refusal = Refusal.stored(result["error"])
    return {
        **result,
        "error": {
            "code": refusal.code,
            "message": render(refusal.code, refusal.params, lang),
            "errors": [
                {"field": e.field, "message": render(e.code, e.params, lang)}
                for e in refusal.errors
            ],
        },
    }


@router.post("", response_model=SyncOut)
async def sync_batch(
    body: SyncIn, request: Request, ctx: Annotated[Ctx, requires(Perm.SELF_READ)]
) -> SyncOut:
    """Apply queued operations in order, each on its own (one rejected operation leaves the
    others applied), then pull what changed in my jurisdiction since `since`. Each
    operation needs the permission its own route needs."""
    data = await sync.sync(ctx, body)
    lang = language(request)
    data["results"] = [_rendered(result, lang) for result in data["results"]]
    return SyncOut.model_validate(data)
