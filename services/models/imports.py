"""Imports, their rejected rows, the import pool and its claims, and comparisons (SPEC §4)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class Import(Base):
    """One uploaded file addressed to a district, read by a background job (R-IMP-1)."""

    __tablename__ = "imports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # `registry` is taken on declarative classes; the column keeps its name.
    registry_code: Mapped[str] = mapped_column("registry", String(32))
    district_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    filename: Mapped[str] = mapped_column(String(255))
    format: Mapped[str] = mapped_column(String(8))
    # The coordinate system of the file's locations where a row names none (R-GRID-4).
    crs: Mapped[str] = mapped_column(String(8), default="wgs84")
    state: Mapped[str] = mapped_column(String(16))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    progress: Mapped[float] = mapped_column(default=0.0)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(64), default=None)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    # Beaten by every batch of a run; `attempts` counts the runs started (R-IMP-1).
    heartbeat_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ImportRejection(Base):
    """Why a row of an import was refused: one line per offending field."""

    __tablename__ = "import_rejections"

    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imports.id"), primary_key=True)
    row_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(Ltree())


class ImportRow(Base):
    """A row in the import pool (R-IMP-2), its values checked and typed as JSON."""

    __tablename__ = "import_rows"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imports.id"))
    row_no: Mapped[int] = mapped_column(Integer)
    # `registry` is taken on declarative classes; the column keeps its name.
    registry_code: Mapped[str] = mapped_column("registry", String(32))
    district_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)
    path: Mapped[str] = mapped_column(Ltree())
    # What the row is known by, as its template says: a person's name and ID number, a
    # house's address and number, a place's name and address … (R-IMP-2 pool duplicates).
    name: Mapped[str | None] = mapped_column(String(300), default=None)
    id_number: Mapped[str | None] = mapped_column(String(300), default=None)
    values: Mapped[dict[str, Any]] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ImportClaim(Base):
    """How a pool row left the pool; its key is the row, so a row is claimed once."""

    __tablename__ = "import_claims"

    row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_rows.id"), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)
    record_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    path: Mapped[str] = mapped_column(Ltree())
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    claimed_at: Mapped[datetime]


class Comparison(Base):
    """A department's file run against the registry of a unit's subtree (R-CMP-2)."""

    __tablename__ = "comparisons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    # `registry` is taken on declarative classes; the column keeps its name.
    registry_code: Mapped[str] = mapped_column("registry", String(32))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    source: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    rows_read: Mapped[int] = mapped_column(Integer)
    missing_here: Mapped[int] = mapped_column(Integer)
    missing_there: Mapped[int] = mapped_column(Integer)
    conflicts: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class ComparisonLine(Base):
    """One difference: a record missing on one side, or one field that disagrees."""

    __tablename__ = "comparison_lines"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    comparison_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("comparisons.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    outcome: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    field: Mapped[str | None] = mapped_column(String(64), default=None)
    here: Mapped[str | None] = mapped_column(Text, default=None)
    there: Mapped[str | None] = mapped_column(Text, default=None)
    row_no: Mapped[int | None] = mapped_column(Integer, default=None)
    record_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
