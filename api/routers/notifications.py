"""In-app notifications (站内信): the caller's own."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.tags import NOTIFICATION_COLUMNS, NotificationOut, NotificationPageOut, ReadAllOut
from domain.errors import PermissionDenied
from domain.permissions import Perm
from services import notifications
from services.context import Ctx

router = APIRouter(
    prefix="/api/v1/notifications", tags=["notifications"], responses=PROBLEM_RESPONSES
)

Unread = Annotated[bool | None, Query(description="true: unread only; false: read only")]
Search = Annotated[str | None, Query(max_length=64, description="Words in title or body")]


@router.get("", response_model=NotificationPageOut)
async def list_notifications(
    ctx: Annotated[Ctx, requires(Perm.NOTIFICATION_READ)],
    page: Paging,
    unread: Unread = None,
    q: Search = None,
) -> NotificationPageOut:
    """The caller's notifications, newest first, with the unread count for the badge."""
    result = await notifications.list_notifications(
        ctx, unread=unread, q=q, limit=page.limit, cursor=page.cursor
    )
    return NotificationPageOut.model_validate(result, from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_notifications(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    unread: Unread = None,
    q: Search = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    if not ctx.principal.can(Perm.NOTIFICATION_READ):
        raise PermissionDenied()
    return await export_list(
        request,
        ctx,
        notifications.notifications_query(ctx, unread=unread, q=q),
        NOTIFICATION_COLUMNS,
        fmt=format,
        filename="站内通知",
        target_type="notification",
        filters={"unread": unread, "q": q},
    )


@router.post("/read-all", response_model=ReadAllOut)
async def read_all(ctx: Annotated[Ctx, requires(Perm.NOTIFICATION_READ)]) -> ReadAllOut:
    return ReadAllOut(updated=await notifications.mark_all_read(ctx))


@router.post("/{notification_id}/read", response_model=NotificationOut)
async def read_one(
    notification_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.NOTIFICATION_READ)]
) -> NotificationOut:
    """Mark one of the caller's notifications read (another user's: 404)."""
    return NotificationOut.model_validate(await notifications.mark_read(ctx, notification_id))
