"""Uploads and event attachments (R-EVT-1, R-MOB-1, R-MOB-2) and likely duplicates
(R-EVT-3)."""

import base64
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, Header, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, StorageDep, requires
from api.etag import expected_version, set_etag
from api.schemas.attachments import (
    FILE_RESPONSES,
    AttachIn,
    AttachmentOut,
    UploadCreate,
    UploadFileIn,
    UploadOut,
)
from api.schemas.common import PROBLEM_RESPONSES, PageOut, problem_responses
from api.schemas.duplicates import DuplicateOut
from domain.attachments import CHUNK_MAX, MIB, SIMPLE_MAX, content_disposition
from domain.errors import TooLarge
from domain.permissions import Perm
from services import attachments, attachments_uploads, duplicates
from services.context import Ctx

uploads_router = APIRouter(
    prefix="/api/v1/uploads", tags=["attachments"], responses=problem_responses(413)
)
router = APIRouter(prefix="/api/v1/events", tags=["attachments"], responses=PROBLEM_RESPONSES)


Uploader = Annotated[Ctx, requires(Perm.ATTACHMENT_UPLOAD)]


async def _capped_body(request: Request, cap: int, code: str) -> bytes:
    """The request body, refused as soon as it grows past `cap`."""
    data = bytearray()
    async for piece in request.stream():
        data += piece
        if len(data) > cap:
            raise TooLarge(code, params={"limit_mb": cap // MIB})
    return bytes(data)


@uploads_router.post("", status_code=status.HTTP_201_CREATED, response_model=UploadOut)
async def create_upload(body: UploadCreate, response: Response, ctx: Uploader) -> UploadOut:
    """A resumable upload: announce the file's size and SHA-256, then PUT its chunks."""
    data = await attachments_uploads.create_upload(ctx, **body.model_dump())
    response.headers["Location"] = f"/api/v1/uploads/{data['id']}"
    return UploadOut.model_validate(data)


@uploads_router.post("/file", status_code=status.HTTP_201_CREATED, response_model=UploadOut)
async def upload_file(
    form: Annotated[UploadFileIn, Form()], ctx: Uploader, storage: StorageDep
) -> UploadOut:
    """A small file (up to 10 MB) in one multipart request, checked and stored at once."""
    file = form.file
    data = await file.read(SIMPLE_MAX + 1)
    return UploadOut.model_validate(
        await attachments_uploads.simple_upload(
            ctx,
            storage,
            filename=file.filename or "file",
            content_type=file.content_type,
            data=data,
        )
    )


@uploads_router.get("/{upload_id}", response_model=UploadOut)
async def get_upload(upload_id: uuid.UUID, ctx: Uploader) -> UploadOut:
    """Where an upload stands: `received` is the offset to resume from."""
    return UploadOut.model_validate(await attachments_uploads.get_upload(ctx, upload_id))


@uploads_router.put("/{upload_id}", response_model=UploadOut)
async def put_chunk(
    upload_id: uuid.UUID,
    request: Request,
    ctx: Uploader,
    storage: StorageDep,
    content_range: Annotated[str, Header()],
) -> UploadOut:
    """One chunk (raw bytes, at most 8 MB) with `Content-Range: bytes START-END/TOTAL`; it
    must start at the received offset (409 `upload_offset_mismatch` names it)."""
    data = await _capped_body(request, CHUNK_MAX, "upload_chunk_too_large")
    return UploadOut.model_validate(
        await attachments_uploads.put_chunk(ctx, storage, upload_id, content_range, data)
    )


@uploads_router.post("/{upload_id}/finish", response_model=UploadOut)
async def finish_upload(upload_id: uuid.UUID, ctx: Uploader, storage: StorageDep) -> UploadOut:
    """Verify the SHA-256 and the content and store the file; then it can be attached."""
    return UploadOut.model_validate(
        await attachments_uploads.finish_upload(ctx, storage, upload_id)
    )


@router.get("/{event_id}/attachments", response_model=PageOut[AttachmentOut])
async def list_attachments(
    event_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.EVENT_READ)], page: Paging
) -> PageOut[AttachmentOut]:
    result = await attachments.list_attachments(ctx, event_id, limit=page.limit, cursor=page.cursor)
    return PageOut[AttachmentOut].model_validate(result, from_attributes=True)


@router.post(
    "/{event_id}/attachments", status_code=status.HTTP_201_CREATED, response_model=AttachmentOut
)
async def attach(
    event_id: uuid.UUID,
    body: AttachIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.EVENT_HANDLE)],
) -> AttachmentOut:
    """Attach one of my finished uploads to the event's current step."""
    data = await attachments.attach(ctx, event_id, body.upload_id)
    set_etag(response, data["version"])
    return AttachmentOut.model_validate(data)


@router.get(
    "/{event_id}/attachments/{attachment_id}/content",
    response_class=StreamingResponse,
    responses=FILE_RESPONSES,
)
async def download_attachment(
    event_id: uuid.UUID,
    attachment_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.EVENT_READ)],
    storage: StorageDep,
) -> StreamingResponse:
    """The stored file, streamed; `Repr-Digest` carries its SHA-256 (RFC 9530)."""
    found = await attachments.download(ctx, storage, event_id, attachment_id)
    digest = base64.b64encode(bytes.fromhex(found.sha256)).decode()
    return StreamingResponse(
        found.content,
        media_type=found.mime,
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "Content-Length": str(found.size),
            "Repr-Digest": f"sha-256=:{digest}:",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.delete("/{event_id}/attachments/{attachment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_attachment(
    event_id: uuid.UUID,
    attachment_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.EVENT_HANDLE)],
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Hide an attachment (uploader or supervisor); If-Match guards against a stale view."""
    await attachments.delete_attachment(
        ctx, event_id, attachment_id, expected_version=expected_version(if_match)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{event_id}/duplicates", response_model=list[DuplicateOut])
async def likely_duplicates(
    event_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.EVENT_READ)]
) -> list[DuplicateOut]:
    """Open events of the same category near the event in place and time (R-EVT-3)."""
    return [DuplicateOut.model_validate(d) for d in await duplicates.suggestions(ctx, event_id)]
