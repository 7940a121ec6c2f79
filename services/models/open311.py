"""What an Open311 service request adds to its event (R-API-2)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree


class Open311Request(Base):
    """The service code, the submitter's contact fields, media and raw attributes of a
    request filed through Open311; `token` is set for batch services."""

    __tablename__ = "open311_requests"

    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"), primary_key=True)
    path: Mapped[str] = mapped_column(Ltree())
    service_code: Mapped[str] = mapped_column(String(80))
    token: Mapped[str | None] = mapped_column(String(32), default=None)
    api_key_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    device_id: Mapped[str | None] = mapped_column(String(100), default=None)
    account_id: Mapped[str | None] = mapped_column(String(100), default=None)
    first_name: Mapped[str | None] = mapped_column(String(50), default=None)
    last_name: Mapped[str | None] = mapped_column(String(50), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    media_url: Mapped[str | None] = mapped_column(String(500), default=None)
    address_string: Mapped[str | None] = mapped_column(String(300), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime]
