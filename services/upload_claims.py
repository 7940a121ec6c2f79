"""Finished uploads (`/api/v1/uploads`) taken by records other than events — a profile's
photos, a ledger entry's files: each upload is the caller's own, finished and unused, taken
once, and then served by its record."""

import uuid
from collections.abc import Mapping

from sqlalchemy import select

from domain.attachments import UploadState
from domain.errors import FieldError, Invalid
from services.context import Ctx
from services.models import Upload


async def take_uploads(
    ctx: Ctx, wanted: Mapping[uuid.UUID, str], *, code: str, kinds: frozenset[str] | None = None
) -> dict[uuid.UUID, Upload]:
    """Take the uploads `wanted` (id → the input field naming it) for the caller's record:
    422 `code` naming every field whose upload is not the caller's finished, unused one
    (of `kinds`, when given), and nothing is taken."""
    if not wanted:
        return {}
    stmt = select(Upload).where(
        Upload.id.in_(wanted),
        Upload.owner_id == ctx.principal.user_id,
        Upload.state == UploadState.READY.value,
    )
    if kinds is not None:
        stmt = stmt.where(Upload.kind.in_(kinds))
    uploads = {upload.id: upload for upload in await ctx.session.scalars(stmt.with_for_update())}
    refused = [field for upload_id, field in wanted.items() if upload_id not in uploads]
    if refused:
        raise Invalid(code, errors=[FieldError(field, code) for field in refused])
    for upload in uploads.values():
        upload.state, upload.updated_at = UploadState.ATTACHED.value, ctx.now()
    return uploads
