"""Columns every registry record shares, and the status-change history (SPEC §3)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from services.models.base import Base, Ltree, Timestamped, new_id


class RegistryRecord(Timestamped):
    """Identity, jurisdiction path, life-cycle status and version of a registry row.

    `path` is the owning unit's ltree path: jurisdiction filters and row-level security read
    it, so it is set from the grid (or unit) whenever the record is created or moved.
    """

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    path: Mapped[str] = mapped_column(Ltree())
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_reason: Mapped[str | None] = mapped_column(Text, default=None)
    status_changed_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)


class GridBound(RegistryRecord):
    """A record added at grid level (R-REG-1)."""

    @declared_attr
    def grid_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("org_units.id"))


class UnitBound(RegistryRecord):
    """A record that may belong to a unit of any level (teams, social organisations …)."""

    @declared_attr
    def unit_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("org_units.id"))


class StatusChange(Base):
    """One deregistration, restoration, unfollow or refollow, with its reason and time."""

    __tablename__ = "status_changes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID]
    path: Mapped[str] = mapped_column(Ltree())
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
