"""Attachments of events (R-EVT-1, R-MOB-1): finished uploads attached at report time, by a
workflow action (feedback and completion photos, on-site verification) or later; listed and
downloaded within the event's jurisdiction; deleted (hidden, the record kept) with If-Match.
Every change is audited."""

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from domain.attachments import UploadState
from domain.errors import FieldError, Invalid, NotFound, PermissionDenied
from domain.permissions import Perm
from domain.versioning import check_version
from services import audit
from services.attachments_uploads import file_key
from services.context import Ctx
from services.events import visible
from services.models import Event, EventAttachment, Upload
from services.pagination import Page, paginate
from services.storage import Storage

COLUMNS = (
    EventAttachment.id,
    EventAttachment.event_id,
    EventAttachment.step_id,
    EventAttachment.action,
    EventAttachment.kind,
    EventAttachment.mime,
    EventAttachment.filename,
    EventAttachment.size,
    EventAttachment.sha256,
    EventAttachment.uploaded_by,
    EventAttachment.created_at,
    EventAttachment.version,
)


@dataclass(frozen=True)
class Target:
    """The event (and its step) an attachment goes to."""

    event_id: uuid.UUID
    path: str
    step_id: uuid.UUID | None
    action: str


async def _event(ctx: Ctx, event_id: uuid.UUID) -> Event:
    event = await ctx.session.scalar(
        select(Event).where(Event.id == event_id, visible(ctx.principal))
    )
    if event is None:
        raise NotFound("event_not_found")
    return event


async def attach_uploads(
    ctx: Ctx, target: Target, upload_ids: Sequence[uuid.UUID]
) -> list[dict[str, Any]]:
    """Attach the caller's finished, unused uploads; 422 `attachment_uploads_invalid` (and
    nothing attached) when any is not."""
    wanted = set(upload_ids)
    if not wanted:
        return []
    uploads = (
        await ctx.session.scalars(
            select(Upload)
            .where(
                Upload.id.in_(wanted),
                Upload.owner_id == ctx.principal.user_id,
                Upload.state == UploadState.READY.value,
            )
            .with_for_update()
            .order_by(Upload.created_at, Upload.id)
        )
    ).all()
    if len(uploads) != len(wanted):
        raise Invalid(
            "attachment_uploads_invalid",
            errors=[FieldError("attachment_ids", "attachment_uploads_invalid")],
        )
    attached = []
    for upload in uploads:
        assert upload.kind and upload.mime and upload.stored_sha256 and upload.stored_size
        row = EventAttachment(
            event_id=target.event_id,
            path=target.path,
            step_id=target.step_id,
            action=target.action,
            upload_id=upload.id,
            kind=upload.kind,
            mime=upload.mime,
            filename=upload.filename,
            size=upload.stored_size,
            sha256=upload.stored_sha256,
            storage_key=file_key(upload.id),
            uploaded_by=ctx.principal.user_id,
            created_at=ctx.now(),
        )
        upload.state, upload.updated_at = UploadState.ATTACHED.value, ctx.now()
        ctx.session.add(row)
        await ctx.session.flush()
        await audit.record(
            ctx,
            action="event_attachment.create",
            target_type="event_attachment",
            target_id=row.id,
            unit_path=target.path,
            after={
                "event_id": str(target.event_id),
                "action": target.action,
                "filename": row.filename,
                "kind": row.kind,
                "sha256": row.sha256,
            },
        )
        attached.append(row.id)
    return [await _one(ctx, target.event_id, attachment_id) for attachment_id in attached]


async def attach(ctx: Ctx, event_id: uuid.UUID, upload_id: uuid.UUID) -> dict[str, Any]:
    """Attach one finished upload to an event in jurisdiction, on its current step."""
    event = await _event(ctx, event_id)
    target = Target(event.id, event.path, event.current_step_id, "attach")
    [attached] = await attach_uploads(ctx, target, [upload_id])
    return attached


def _listed(event_id: uuid.UUID) -> Any:
    return select(*COLUMNS).where(
        EventAttachment.event_id == event_id, EventAttachment.deleted_at.is_(None)
    )


async def _one(ctx: Ctx, event_id: uuid.UUID, attachment_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(_listed(event_id).where(EventAttachment.id == attachment_id))
    ).one_or_none()
    if row is None:
        raise NotFound("attachment_not_found")
    return dict(row._mapping)


async def of_event(ctx: Ctx, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every attachment of an event the caller already sees, oldest first."""
    rows = await ctx.session.execute(
        _listed(event_id).order_by(EventAttachment.created_at, EventAttachment.id)
    )
    return [dict(row._mapping) for row in rows]


async def list_attachments(
    ctx: Ctx, event_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The event's attachments by file name."""
    await _event(ctx, event_id)
    return await paginate(
        ctx.session,
        _listed(event_id),
        key=(EventAttachment.filename, EventAttachment.id),
        limit=limit,
        cursor=cursor,
    )


@dataclass(frozen=True)
class Download:
    filename: str
    mime: str
    size: int
    sha256: str
    content: AsyncIterator[bytes]


async def download(
    ctx: Ctx, storage: Storage, event_id: uuid.UUID, attachment_id: uuid.UUID
) -> Download:
    """The attachment's bytes, streamed, when its event is in jurisdiction."""
    await _event(ctx, event_id)
    row = await ctx.session.scalar(
        select(EventAttachment).where(
            EventAttachment.id == attachment_id,
            EventAttachment.event_id == event_id,
            EventAttachment.deleted_at.is_(None),
        )
    )
    if row is None:
        raise NotFound("attachment_not_found")
    return Download(row.filename, row.mime, row.size, row.sha256, storage.stream(row.storage_key))


async def delete_attachment(
    ctx: Ctx, event_id: uuid.UUID, attachment_id: uuid.UUID, *, expected_version: int | None
) -> None:
    """Hide an attachment (the uploader, or a supervisor of the event); If-Match guards it."""
    await _event(ctx, event_id)
    row = await ctx.session.scalar(
        select(EventAttachment)
        .where(
            EventAttachment.id == attachment_id,
            EventAttachment.event_id == event_id,
            EventAttachment.deleted_at.is_(None),
        )
        .with_for_update()
    )
    if row is None:
        raise NotFound("attachment_not_found")
    check_version(expected_version, row.version)
    if row.uploaded_by != ctx.principal.user_id and not ctx.principal.can(Perm.EVENT_SUPERVISE):
        raise PermissionDenied("attachment_not_yours")
    row.deleted_at, row.deleted_by = ctx.now(), ctx.principal.user_id
    row.version += 1
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="event_attachment.delete",
        target_type="event_attachment",
        target_id=row.id,
        unit_path=row.path,
        before={"event_id": str(event_id), "filename": row.filename, "sha256": row.sha256},
    )
