"""Uploads being received or waiting to be attached, and the attachments of events
(R-EVT-1, R-MOB-1)."""

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class Upload(Base):
    """A file on its way in, owned by the user who sends it: chunks arrive until `received`
    reaches `size`; finishing checks the checksum and the content and stores the file."""

    __tablename__ = "uploads"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    declared_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    chunks: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16))
    # Known once finished: what the content is and what was stored.
    kind: Mapped[str | None] = mapped_column(String(8), default=None)
    mime: Mapped[str | None] = mapped_column(String(100), default=None)
    stored_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    stored_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventAttachment(Base):
    """A stored file attached to an event, at report time or by a workflow action; `path` is
    the event's path (jurisdiction and RLS). Deleting hides it; the record stays."""

    __tablename__ = "event_attachments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    path: Mapped[str] = mapped_column(Ltree())
    step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event_steps.id"), default=None)
    action: Mapped[str] = mapped_column(String(32))
    upload_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("uploads.id"))
    kind: Mapped[str] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
    deleted_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
