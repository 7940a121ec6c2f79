"""Getting a file in (R-MOB-1, R-MOB-2): in one request when small, or as a resumable
session — created with the total size and SHA-256, fed chunks at the offset the server
holds (a client that lost its connection asks for that offset and goes on from there), and
finished by checking the checksum and the content. Chunks are objects in the storage, so
any API process can take the next one. An upload belongs to its sender alone (404 to
anyone else) until it is attached to an event. A session nobody feeds for a day is
abandoned: a cron deletes it and its chunks (`purge_abandoned`)."""

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.attachments import (
    SIMPLE_MAX,
    UploadState,
    check_declared,
    check_offset,
    check_sha256,
    chunk_range,
)
from domain.errors import BadRequest, Conflict, Invalid, NotFound, TooLarge
from domain.principal import SYSTEM
from services import audit
from services.attachments_content import prepare
from services.clock import Clock
from services.context import Ctx
from services.db import system_session
from services.models import Upload
from services.storage import Storage

_FIELDS = (
    "id",
    "filename",
    "declared_type",
    "size",
    "sha256",
    "received",
    "state",
    "kind",
    "mime",
    "stored_size",
    "stored_sha256",
    "created_at",
    "updated_at",
)


# A resumable session untouched this long is abandoned.
ABANDONED_AFTER = timedelta(hours=24)
PURGE_BATCH = 500


def file_key(upload_id: uuid.UUID) -> str:
    """Where the finished file is kept; attachments point at it."""
    return f"files/{upload_id}"


def _chunk_key(upload_id: uuid.UUID, index: int) -> str:
    return f"uploads/{upload_id}/{index:06d}"


def _out(upload: Upload) -> dict[str, Any]:
    return {name: getattr(upload, name) for name in _FIELDS}


async def _own(ctx: Ctx, upload_id: uuid.UUID) -> Upload:
    """The caller's upload, locked: chunks of one upload are taken one at a time."""
    upload = await ctx.session.scalar(
        select(Upload)
        .where(Upload.id == upload_id, Upload.owner_id == ctx.principal.user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if upload is None:
        raise NotFound("upload_not_found")
    return upload


async def _audit(ctx: Ctx, action: str, upload: Upload, **after: Any) -> None:
    await audit.record(
        ctx,
        action=f"upload.{action}",
        target_type="upload",
        target_id=upload.id,
        unit_path=None,
        after={"filename": upload.filename, "size": upload.size, **after},
    )


async def create_upload(
    ctx: Ctx, *, filename: str, content_type: str | None, size: int, sha256: str
) -> dict[str, Any]:
    """A resumable upload session; its size is checked against the claimed kind's limit
    before a byte is sent."""
    check_declared(content_type, filename, size)
    now = ctx.now()
    upload = Upload(
        owner_id=ctx.principal.user_id,
        filename=filename,
        declared_type=content_type or "",
        size=size,
        sha256=check_sha256(sha256),
        state=UploadState.RECEIVING.value,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(upload)
    await ctx.session.flush()
    await _audit(ctx, "create", upload)
    return _out(upload)


async def get_upload(ctx: Ctx, upload_id: uuid.UUID) -> dict[str, Any]:
    """Where the upload stands; `received` is the offset to resume from."""
    return _out(await _own(ctx, upload_id))


async def put_chunk(
    ctx: Ctx, storage: Storage, upload_id: uuid.UUID, content_range: str | None, data: bytes
) -> dict[str, Any]:
    """Store one chunk. It must start where the received bytes end (409 with the offset
    otherwise) and be as long as its Content-Range says; a short one is refused whole."""
    upload = await _own(ctx, upload_id)
    if upload.state != UploadState.RECEIVING:
        raise Conflict("upload_not_receiving")
    start, end = chunk_range(content_range, upload.size)
    check_offset(start, upload.received)
    if len(data) != end - start:
        raise BadRequest("upload_chunk_incomplete", extra={"offset": upload.received})
    await storage.put(
        _chunk_key(upload.id, upload.chunks), data, content_type="application/octet-stream"
    )
    upload.received, upload.chunks = end, upload.chunks + 1
    upload.updated_at = ctx.now()
    await ctx.session.flush()
    await _audit(ctx, "chunk", upload, received=end)
    return _out(upload)


async def _discard_chunks(storage: Storage, upload: Upload) -> None:
    for index in range(upload.chunks):
        await storage.delete(_chunk_key(upload.id, index))


async def finish_upload(ctx: Ctx, storage: Storage, upload_id: uuid.UUID) -> dict[str, Any]:
    """Assemble the chunks, verify the SHA-256 and the content, store the file. A checksum
    that does not match empties the session (the bytes are not the file announced): the
    client sends them again from offset 0. Finishing twice answers the finished upload."""
    upload = await _own(ctx, upload_id)
    if upload.state != UploadState.RECEIVING:
        return _out(upload)
    if upload.received < upload.size:
        raise Conflict(
            "upload_incomplete", params={"received": upload.received, "size": upload.size}
        )
    data = b"".join(
        [await storage.get(_chunk_key(upload.id, index)) for index in range(upload.chunks)]
    )
    if hashlib.sha256(data).hexdigest() != upload.sha256:
        await _discard_chunks(storage, upload)
        upload.received, upload.chunks, upload.updated_at = 0, 0, ctx.now()
        await ctx.session.flush()
        await _audit(ctx, "checksum_mismatch", upload)
        raise Invalid("upload_checksum_mismatch", extra={"offset": 0}, keep_changes=True)
    await _store(ctx, storage, upload, data)
    await _discard_chunks(storage, upload)
    await _audit(ctx, "finish", upload, kind=upload.kind, mime=upload.mime)
    return _out(upload)


async def _store(ctx: Ctx, storage: Storage, upload: Upload, data: bytes) -> None:
    """Check and keep the file; the upload becomes ready to attach."""
    prepared = await prepare(data, label=upload.declared_type, filename=upload.filename)
    await storage.put(file_key(upload.id), prepared.data, content_type=prepared.type.mime)
    upload.state = UploadState.READY.value
    upload.kind, upload.mime = prepared.type.kind.value, prepared.type.mime
    upload.stored_size = len(prepared.data)
    upload.stored_sha256 = hashlib.sha256(prepared.data).hexdigest()
    upload.updated_at = ctx.now()
    await ctx.session.flush()


async def simple_upload(
    ctx: Ctx, storage: Storage, *, filename: str, content_type: str | None, data: bytes
) -> dict[str, Any]:
    """A small file in one request, checked and stored at once."""
    if len(data) > SIMPLE_MAX:
        raise TooLarge("attachment_too_large", params={"limit_mb": SIMPLE_MAX // (1024 * 1024)})
    if not data:
        raise Invalid("attachment_type_unsupported", params={"type": content_type or "?"})
    check_declared(content_type, filename, len(data))
    now = ctx.now()
    upload = Upload(
        owner_id=ctx.principal.user_id,
        filename=filename,
        declared_type=content_type or "",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        received=len(data),
        state=UploadState.RECEIVING.value,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(upload)
    await ctx.session.flush()
    await _store(ctx, storage, upload, data)
    await _audit(ctx, "finish", upload, kind=upload.kind, mime=upload.mime)
    return _out(upload)


async def purge_abandoned(
    maker: async_sessionmaker[AsyncSession], storage: Storage, clock: Clock
) -> int:
    """Delete the receiving sessions untouched for `ABANDONED_AFTER`, with their stored
    chunks, `PURGE_BATCH` at a time, each batch one statement and one audit batch. A
    session taking a chunk holds its lock and is skipped (it is not abandoned); the chunks
    go before the batch commits, so a storage failure leaves the sessions for the next
    run. Answers how many went."""
    cutoff = clock.now() - ABANDONED_AFTER
    total = 0
    while True:
        async with system_session(maker) as session:
            stale = (
                select(Upload.id)
                .where(Upload.state == UploadState.RECEIVING.value, Upload.updated_at < cutoff)
                .order_by(Upload.updated_at)
                .limit(PURGE_BATCH)
                .with_for_update(skip_locked=True)
            )
            gone = (
                await session.execute(
                    delete(Upload)
                    .where(Upload.id.in_(stale))
                    .returning(Upload.id, Upload.chunks, Upload.filename, Upload.size)
                )
            ).all()
            for row in gone:
                for index in range(row.chunks):
                    await storage.delete(_chunk_key(row.id, index))
            await audit.record_many(
                Ctx(session=session, principal=SYSTEM, clock=clock),
                action="upload.abandoned",
                target_type="upload",
                changes=[
                    audit.Change(
                        target_id=row.id,
                        unit_path=None,
                        after={"filename": row.filename, "size": row.size, "chunks": row.chunks},
                    )
                    for row in gone
                ],
            )
        total += len(gone)
        if len(gone) < PURGE_BATCH:
            return total
