"""Supervision cards (R-SUP-1) and the assessment ledger they charge (R-SUP-5)."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class Supervision(Base):
    """A card on one step: automatic (one per rule, issued by the sweep) or manual; `path` is
    the event's path."""

    __tablename__ = "supervisions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    step_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_steps.id"))
    path: Mapped[str] = mapped_column(Ltree())
    level: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str | None] = mapped_column(String(32), default=None)
    opinion: Mapped[str | None] = mapped_column(Text, default=None)
    due_at: Mapped[datetime | None] = mapped_column(default=None)
    issued_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None] = mapped_column(default=None)
    cleared_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    deduction: Mapped[int] = mapped_column(default=0)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class LedgerLine(Base):
    """One line of a unit's or department's assessment (negative points deduct); never
    deleted: a cancelled card or an upheld appeal is compensated by a line that
    `reverses_id` it. Its cause is the event, step, card, history action, appeal, review or
    finding it names; `cause_key` makes an automatic line unique (R-ASM-2)."""

    __tablename__ = "assessment_ledger"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("departments.id"), default=None
    )
    path: Mapped[str] = mapped_column(Ltree())
    period: Mapped[str] = mapped_column(String(7))
    points: Mapped[Decimal] = mapped_column(Numeric(6, 1))
    item_code: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(Text)
    event_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id"), default=None)
    step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event_steps.id"), default=None)
    supervision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("supervisions.id"), default=None
    )
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment_ledger.id"), default=None
    )
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_actions.id"), default=None
    )
    appeal_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("event_appeals.id"), default=None
    )
    review_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment_reviews.id"), default=None
    )
    finding_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("assessment_findings.id"), default=None
    )
    cause_key: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
