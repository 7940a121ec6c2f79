"""Events, their steps (环节) and the action history (R-EVT-1, R-WF-1, R-WF-5)."""

import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, ForeignKey, Identity, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id


class Event(Base):
    """An event reported in a grid; `path` is the grid's path (jurisdiction and RLS)."""

    __tablename__ = "events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    service_no: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    subtype: Mapped[str] = mapped_column(String(32))
    grid_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"))
    path: Mapped[str] = mapped_column(Ltree())
    occurred_at: Mapped[datetime]
    place_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("places.id"), default=None)
    location: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), default=None
    )
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    description: Mapped[str] = mapped_column(Text)
    parties: Mapped[str | None] = mapped_column(Text, default=None)
    involved_count: Mapped[int] = mapped_column(default=0)
    is_major: Mapped[bool] = mapped_column(default=False)
    is_urgent: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), default="app")
    state: Mapped[str] = mapped_column(String(16))
    process: Mapped[str] = mapped_column(String(32))
    # A plain column here: the database's foreign key closes the events ⇄ steps cycle, and
    # the service writes the event before its first step.
    current_step_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    expedited: Mapped[bool] = mapped_column(default=False)
    legacy: Mapped[bool] = mapped_column(default=False)
    typical: Mapped[bool] = mapped_column(default=False)
    duplicate_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("events.id"), default=None)
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EventStep(Base):
    """One assignment of an event to one unit or department, with its stored supervision
    deadlines (recomputed whenever the step changes; the sweep reads them)."""

    __tablename__ = "event_steps"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    seq: Mapped[int]
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)
    department_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("departments.id"), default=None
    )
    path: Mapped[str] = mapped_column(Ltree())
    handler_path: Mapped[str] = mapped_column(Ltree())
    assigned_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    first_feedback_at: Mapped[datetime | None] = mapped_column(default=None)
    last_feedback_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    responsible_person: Mapped[str | None] = mapped_column(String(100), default=None)
    responsible_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    result: Mapped[str | None] = mapped_column(Text, default=None)
    accept_yellow_at: Mapped[datetime | None] = mapped_column(default=None)
    accept_red_at: Mapped[datetime | None] = mapped_column(default=None)
    handle_yellow_at: Mapped[datetime | None] = mapped_column(default=None)
    handle_red_at: Mapped[datetime | None] = mapped_column(default=None)
    # R-SUP-6: when the responsible unit is reminded before its deadline.
    accept_remind_at: Mapped[datetime | None] = mapped_column(default=None)
    handle_remind_at: Mapped[datetime | None] = mapped_column(default=None)
    # R-WF-3: the rule that sent the event here, when a rule did.
    routing_rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("routing_rules.id"), default=None
    )


class EventAction(Base):
    """One action taken on an event (R-WF-5), append-only."""

    __tablename__ = "event_actions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    serial: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.id"))
    step_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("event_steps.id"))
    path: Mapped[str] = mapped_column(Ltree())
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None]
    actor_unit_id: Mapped[uuid.UUID | None]
    actor_department_id: Mapped[uuid.UUID | None]
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    at: Mapped[datetime]
