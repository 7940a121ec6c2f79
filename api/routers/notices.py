"""Notices and announcements (R-NOTE-1): a unit's notice to its subtree or to named persons,
in the app and optionally by SMS; recipients read them in their notifications."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse
from pydantic import Field

from api.deps import Paging, requires
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, Input, Instant, Output, PageOut
from domain.errors import PermissionDenied
from domain.permissions import Perm
from services import notices
from services.context import Ctx
from services.exporting import Column
from services.models import Notice

router = APIRouter(prefix="/api/v1/notices", tags=["notices"], responses=PROBLEM_RESPONSES)


class NoticeIn(Input):
    unit_id: uuid.UUID = Field(description="The issuing unit; the notice reaches its subtree")
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=5000)]
    # Named persons (个人通知) instead of the whole subtree (公告).
    user_ids: Annotated[list[uuid.UUID] | None, Field(max_length=500)] = None
    sms: bool = False


class NoticeOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID
    audience: str
    title: str
    body: str
    sms: bool
    recipients: int
    texted: int
    author_id: uuid.UUID | None
    created_at: Instant


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NoticeOut)
async def send_notice(
    body: NoticeIn, ctx: Annotated[Ctx, requires(Perm.NOTICE_WRITE)]
) -> NoticeOut:
    """Issue a notice; every recipient gets a notification (and a text with `sms`)."""
    data = await notices.send_notice(
        ctx,
        unit_id=body.unit_id,
        title=body.title,
        body=body.body,
        user_ids=body.user_ids,
        sms=body.sms,
    )
    return NoticeOut.model_validate(data)


@router.get("", response_model=PageOut[NoticeOut])
async def list_notices(
    ctx: Annotated[Ctx, requires(Perm.NOTICE_WRITE)], page: Paging
) -> PageOut[NoticeOut]:
    """Notices issued at or below the caller's unit, newest first."""
    items, following, total = await notices.list_notices(ctx, limit=page.limit, cursor=page.cursor)
    return PageOut[NoticeOut](
        items=[NoticeOut.model_validate(item) for item in items], next_cursor=following, total=total
    )


NOTICE_COLUMNS = [
    Column("created_at", "发布时间"),
    Column("title", "标题"),
    Column("body", "内容"),
    Column("audience", "对象"),
    Column("recipients", "接收人数"),
    Column("sms", "短信"),
    Column("texted", "已发短信"),
]


@router.get("/export", response_class=StreamingResponse)
async def export_notices(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The notices issued in jurisdiction, newest first, as CSV or XLSX (R-EXP-1), for those
    who issue them."""
    if not ctx.principal.can(Perm.NOTICE_WRITE):
        raise PermissionDenied()
    return await export_list(
        request,
        ctx,
        notices.notices_query(ctx).order_by(Notice.created_at.desc(), Notice.id.desc()),
        NOTICE_COLUMNS,
        fmt=format,
        filename="通知公告",
        target_type="notice",
        filters={},
    )


@router.get("/{notice_id}", response_model=NoticeOut)
async def get_notice(
    notice_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.NOTICE_WRITE)]
) -> NoticeOut:
    return NoticeOut.model_validate(await notices.get_notice(ctx, notice_id))
