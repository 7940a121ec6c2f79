"""Events over the wire (API.md "Events", fixed fields)."""

import uuid
from typing import Any

from pydantic import AwareDatetime, Field, StrictBool

from api.schemas.attachments import AttachmentOut
from api.schemas.citizens import CitizenOut
from api.schemas.common import Input, Instant, Output
from api.schemas.org import GeoJSONGeometry
from domain.events import Category, Source
from domain.workflow import Satisfaction
from services.exporting import Column


class EventCreate(Input):
    title: str = Field(min_length=1, max_length=200)
    category: Category
    subtype: str = Field(min_length=1, max_length=32)
    grid_id: uuid.UUID
    # An instant with its offset (naive times are refused: the reporter's zone is unknown).
    occurred_at: AwareDatetime
    is_major: bool = False
    is_urgent: bool = False
    description: str = Field(min_length=1, max_length=5000)
    location: GeoJSONGeometry | None = None
    address: str | None = Field(default=None, max_length=300)
    place_id: uuid.UUID | None = None
    parties: str | None = Field(default=None, max_length=1000)
    involved_count: int = Field(default=0, ge=0, le=100_000)
    source: Source = Source.APP
    # R-EVT-2: resolved on the spot by the reporter, recorded and closed at once.
    resolve_on_spot: bool = False
    result: str | None = Field(default=None, max_length=2000)
    # An explicit first handler; without one the routing rules decide (R-WF-3).
    target_unit_id: uuid.UUID | None = None
    target_department_id: uuid.UUID | None = None
    # Finished uploads (photos, audio, video) attached to the report (R-MOB-1).
    attachment_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)


class ActionIn(Input):
    """The body of every action; which fields an action needs is checked per action."""

    responsible_person: str | None = Field(default=None, max_length=100)
    responsible_phone: str | None = Field(default=None, max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    result: str | None = Field(default=None, max_length=2000)
    reason: str | None = Field(default=None, max_length=2000)
    unit_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    unit_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    satisfaction: Satisfaction | None = None
    method: str | None = Field(default=None, max_length=32)
    text: str | None = Field(default=None, max_length=2000)
    # Appeals (R-WF-2): which verification is appealed, which appeal is decided, and how.
    verify_action_id: uuid.UUID | None = None
    appeal_id: uuid.UUID | None = None
    upheld: StrictBool | None = None
    # R-EVT-3: the original an event duplicates (mark-duplicate).
    duplicate_of: uuid.UUID | None = None
    # Finished uploads attached by feedback, complete or verify (R-MOB-1).
    attachment_ids: list[uuid.UUID] | None = Field(default=None, max_length=20)


class StepRef(Output):
    id: uuid.UUID
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None


class StepOut(Output):
    id: uuid.UUID
    seq: int
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    assigned_at: Instant
    accepted_at: Instant | None
    first_feedback_at: Instant | None
    last_feedback_at: Instant | None
    finished_at: Instant | None
    responsible_person: str | None
    responsible_phone: str | None
    outcome: str | None
    result: str | None
    accept_yellow_at: Instant | None
    accept_red_at: Instant | None
    handle_yellow_at: Instant | None
    handle_red_at: Instant | None
    accept_remind_at: Instant | None
    handle_remind_at: Instant | None
    routing_rule_id: uuid.UUID | None


class EventSummary(Output):
    id: uuid.UUID
    service_no: str
    title: str
    category: str
    subtype: str
    grid_id: uuid.UUID
    occurred_at: Instant
    place_id: uuid.UUID | None
    location: dict[str, Any] | None
    address: str | None
    description: str
    parties: str | None
    involved_count: int
    is_major: bool
    is_urgent: bool
    source: str
    state: str
    process: str
    current_step: StepRef | None
    expedited: bool
    legacy: bool
    typical: bool
    duplicate_of: uuid.UUID | None
    reporter_id: uuid.UUID | None
    closed_at: Instant | None
    # R-SUP-7: green / yellow / red for the current step; null once closed.
    light: str | None
    version: int
    created_at: Instant
    updated_at: Instant


class AppealOut(Output):
    id: uuid.UUID
    verify_action_id: uuid.UUID
    step_id: uuid.UUID
    appellant_unit_id: uuid.UUID | None
    appellant_department_id: uuid.UUID | None
    evaluator_unit_id: uuid.UUID | None
    reason: str
    filed_by: uuid.UUID | None
    filed_at: Instant
    decided_by: uuid.UUID | None
    decided_at: Instant | None
    upheld: bool | None
    decision_note: str | None


class EventOut(EventSummary):
    steps: list[StepOut]
    supervisions: list[dict[str, Any]]
    appeals: list[AppealOut]
    # The citizen behind the event, when it came from the public form or a message (R-CIT-1).
    citizen: CitizenOut | None
    # Photos, audio, video and documents, at report time or from actions (R-EVT-1).
    attachments: list[AttachmentOut]


class SubtypeOut(Output):
    category: str
    category_name: str
    code: str
    name: str


class ProcessOut(Output):
    process: str
    name: str
    nodes: list[str]
    edges: list[dict[str, str]]
    current: str
    available_actions: list[str]


EVENT_COLUMNS = [
    Column("service_no", "服务单号"),
    Column("title", "标题"),
    Column("category", "大类"),
    Column("subtype", "小类"),
    Column("state", "状态"),
    Column("occurred_at", "发生时间"),
    Column("address", "地址"),
    Column("is_major", "重大"),
    Column("is_urgent", "紧急"),
    Column("light", "指示灯"),
    Column("created_at", "上报时间"),
]
