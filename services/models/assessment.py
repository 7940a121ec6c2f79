"""Assessment rule sets, their items, the manual reviews and the findings (R-ASM-1, R-ASM-3,
R-ASM-5)."""

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class RuleSet(Base):
    """考核细则: one year's items for one assessed kind, owned by the unit that assesses."""

    __tablename__ = "assessment_rule_sets"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    owner_path: Mapped[str] = mapped_column(Ltree())
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))
    copied_from_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment_rule_sets.id"), default=None
    )
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class RuleItem(Base):
    __tablename__ = "assessment_rule_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    rule_set_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("assessment_rule_sets.id", ondelete="CASCADE")
    )
    owner_path: Mapped[str] = mapped_column(Ltree())
    position: Mapped[int]
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(String(200))
    points: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    signal: Mapped[str | None] = mapped_column(String(32), default=None)
    cap: Mapped[Decimal | None] = mapped_column(Numeric(5, 1), default=None)


class Review(Base):
    """A manual assessment (R-ASM-5) of one unit or department for one month or year: its
    self-evaluation, its superior's scores, and where it stands."""

    __tablename__ = "assessment_reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("departments.id"), default=None
    )
    path: Mapped[str] = mapped_column(Ltree())
    kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(16))
    self_scores: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    self_comment: Mapped[str | None] = mapped_column(Text, default=None)
    scores: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    scored_at: Mapped[datetime | None] = mapped_column(default=None)
    scored_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    archived_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class Finding(Base):
    """考核认定: what a superior found on an event against the community (or grid) that
    reported or handled it; standing until revoked with a reason (R-ASM-3)."""

    __tablename__ = "assessment_findings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    # The business-zone month it is charged in: the month it was recorded.
    period: Mapped[str] = mapped_column(String(7))
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    recorder_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("org_units.id"), default=None
    )
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    revoke_reason: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
