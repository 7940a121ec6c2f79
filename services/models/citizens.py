"""Citizens' submissions and hotline calls (R-CIT-1)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class CitizenSubmission(Base):
    """A problem or suggestion from the public, the event it became, and the citizen's
    rating of the answer. The receipt code itself is never stored, only its digest."""

    __tablename__ = "citizen_submissions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    receipt_digest: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    path: Mapped[str] = mapped_column(Ltree())
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    satisfaction: Mapped[str | None] = mapped_column(String(16), default=None)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    rated_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class HotlineCaller(Base):
    """Someone who has called the hotline, known by phone number."""

    __tablename__ = "hotline_callers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HotlineCall(Base):
    """One call registered by an operator: its nature, the call-back it asks for and how
    that went, and the event it became (none for a nuisance call)."""

    __tablename__ = "hotline_calls"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    caller_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hotline_callers.id"))
    path: Mapped[str] = mapped_column(Ltree())
    operator_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    operator_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("org_units.id"), default=None
    )
    nature: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    callback_person: Mapped[str | None] = mapped_column(String(100), default=None)
    callback_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id"), default=None)
    called_at: Mapped[datetime]
    called_back_at: Mapped[datetime | None] = mapped_column(default=None)
    callback_reached: Mapped[bool | None] = mapped_column(default=None)
    callback_satisfaction: Mapped[str | None] = mapped_column(String(16), default=None)
    callback_note: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(default=1)
