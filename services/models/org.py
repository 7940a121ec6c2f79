"""Org units (the territorial tree, grids included), their version history, departments."""

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, Timestamped, new_id


class OrgUnit(Timestamped, Base):
    __tablename__ = "org_units"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"))
    # Materialised path of unit ids (hex labels): jurisdiction is `path <@ scope` (R-JUR-1).
    path: Mapped[str] = mapped_column(Ltree())
    geom: Mapped[Any | None] = mapped_column(Geometry(srid=4326, spatial_index=False))
    grid_leader_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    household_target: Mapped[int | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)


class OrgUnitVersion(Base):
    """One past or present state of a unit: valid from `valid_from` until `valid_to` (R-GRID-2)."""

    __tablename__ = "org_unit_versions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    version: Mapped[int]
    operation: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[uuid.UUID | None]
    path: Mapped[str] = mapped_column(Ltree())
    geom: Mapped[Any | None] = mapped_column(Geometry(srid=4326, spatial_index=False))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None]
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None] = mapped_column(default=None)


class Department(Timestamped, Base):
    __tablename__ = "departments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    # Copy of the owning unit's path: departments are scoped by their unit (R-ORG-2).
    path: Mapped[str] = mapped_column(Ltree())
    version: Mapped[int] = mapped_column(default=1)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)
