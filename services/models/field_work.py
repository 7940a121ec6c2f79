"""The grid worker's field records (R-MOB-1, R-MOB-2): visit logs, check-ins, GPS track
points, the client operations a sync has applied, and the handbooks the app reads."""

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


def _point() -> Any:
    return Geometry("POINT", srid=4326, spatial_index=False)


class VisitLog(Base):
    """One 民情日记 entry: a visit in a grid, optionally about a person or a house."""

    __tablename__ = "visit_logs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    visited_at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    location: Mapped[Any | None] = mapped_column(_point(), default=None)
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), default=None)
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("houses.id"), default=None)
    # Position in the sync pull (R-MOB-2), renumbered on every change.
    serial: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CheckIn(Base):
    """A check-in (打卡) and, once the worker leaves, its check-out."""

    __tablename__ = "check_ins"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    path: Mapped[str] = mapped_column(Ltree())
    checked_in_at: Mapped[datetime]
    in_location: Mapped[Any] = mapped_column(_point())
    checked_out_at: Mapped[datetime | None] = mapped_column(default=None)
    out_location: Mapped[Any | None] = mapped_column(_point(), default=None)


class TrackPoint(Base):
    __tablename__ = "track_points"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(Ltree())
    location: Mapped[Any] = mapped_column(_point())
    accuracy_m: Mapped[float | None] = mapped_column(default=None)


class SyncOperation(Base):
    """A client operation id a user's sync has seen, and the result it got."""

    __tablename__ = "sync_operations"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), primary_key=True)
    op_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    op_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime]


class Handbook(Base):
    """A standard handbook (工作手册) published by a unit for everyone in and under it."""

    __tablename__ = "handbooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    category: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
