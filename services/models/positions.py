"""Grid workers' last known positions (R-MAP-1), one row per user."""

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree


class WorkerPosition(Base):
    __tablename__ = "worker_positions"

    # Named `id` so the map layers page it like any other record: it is the user's id.
    id: Mapped[uuid.UUID] = mapped_column("user_id", ForeignKey("users.id"), primary_key=True)
    path: Mapped[str] = mapped_column(Ltree())
    full_name: Mapped[str] = mapped_column(String(100))
    location: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    accuracy_m: Mapped[float | None] = mapped_column(default=None)
    reported_at: Mapped[datetime]
