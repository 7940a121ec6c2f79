"""Uploads and event attachments over the wire (R-EVT-1, R-MOB-1)."""

import uuid
from typing import Any

from fastapi import UploadFile
from pydantic import Field

from api.schemas.common import Input, Instant, Output
from domain.attachments import TYPES

# A stored file is served as the type its content was found to be (one of the accepted ones).
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {t.mime: {"schema": {"type": "string", "format": "binary"}} for t in TYPES},
        "description": "The file as stored",
    }
}


class UploadCreate(Input):
    filename: str = Field(min_length=1, max_length=255)
    # The client's MIME label; the content decides what the file is and must agree.
    content_type: str | None = Field(default=None, max_length=100)
    size: int = Field(ge=1)
    # Hex SHA-256 of the whole file, checked when the upload is finished.
    sha256: str = Field(min_length=64, max_length=64)


class UploadFileIn(Input):
    """A small file in one multipart request; its part's content type is the label."""

    file: UploadFile


class UploadOut(Output):
    id: uuid.UUID
    filename: str
    declared_type: str
    size: int
    sha256: str
    # The offset to resume from: bytes stored so far.
    received: int
    state: str
    kind: str | None
    mime: str | None
    stored_size: int | None
    stored_sha256: str | None
    created_at: Instant
    updated_at: Instant


class AttachIn(Input):
    upload_id: uuid.UUID


class AttachmentOut(Output):
    id: uuid.UUID
    event_id: uuid.UUID
    step_id: uuid.UUID | None
    # `report`, the workflow action that brought it, or `attach`.
    action: str
    kind: str
    mime: str
    filename: str
    size: int
    sha256: str
    uploaded_by: uuid.UUID | None
    created_at: Instant
    version: int
