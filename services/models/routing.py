"""Routing rules (R-WF-3), appeals against verifications (R-WF-2), reminders sent before
deadlines (R-SUP-6) and the outbox of messages to deliver (R-WF-5)."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Identity, String, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class RoutingRule(Base):
    """Events of a category (and sub-type, keywords) arriving at a unit of `level` inside the
    owner's subtree go straight to the target unit or department."""

    __tablename__ = "routing_rules"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    owner_unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    owner_path: Mapped[str] = mapped_column(Ltree())
    level: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    subtype: Mapped[str | None] = mapped_column(String(32), default=None)
    keywords: Mapped[list[str] | None] = mapped_column(ARRAY(Text), default=None)
    target_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("org_units.id"), default=None
    )
    target_department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("departments.id"), default=None
    )
    target_path: Mapped[str] = mapped_column(Ltree())
    priority: Mapped[int] = mapped_column(default=100)
    enabled: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class EventAppeal(Base):
    """A handler's appeal against a verification it thinks malicious, and its decision."""

    __tablename__ = "event_appeals"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    path: Mapped[str] = mapped_column(Ltree())
    verify_action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_actions.id"))
    step_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_steps.id"))
    appellant_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("org_units.id"), default=None
    )
    appellant_department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("departments.id"), default=None
    )
    evaluator_unit_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("org_units.id"), default=None
    )
    evaluator_path: Mapped[str] = mapped_column(Ltree())
    # The judged step's unit (a department's own unit): the decider stands above both.
    appellant_path: Mapped[str] = mapped_column(Ltree())
    reason: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    filed_at: Mapped[datetime]
    decided_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    upheld: Mapped[bool | None] = mapped_column(default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)


class StepReminder(Base):
    """A reminder sent for a step (one per kind: the sweep's idempotency key)."""

    __tablename__ = "step_reminders"

    step_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("event_steps.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    path: Mapped[str] = mapped_column(Ltree())
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime]


class OutboxMessage(Base):
    """A message to deliver outside the database (SMS …), written in the transaction that
    caused it and delivered by the worker with retries."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime]
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
