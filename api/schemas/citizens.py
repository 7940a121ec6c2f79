"""Citizens' submissions and hotline calls over the wire (R-CIT-1)."""

import uuid
from typing import Literal

from pydantic import AwareDatetime, Field, StrictBool

from api.schemas.common import Input, Instant, Output
from api.schemas.org import GeoJSONGeometry
from api.schemas.people import Phone
from domain.citizens import CallNature, Channel, SubmissionKind
from domain.events import Category
from services.exporting import Column

Rating = Literal["satisfied", "unsatisfied"]


class SubmissionIn(Input):
    kind: SubmissionKind = SubmissionKind.PROBLEM
    channel: Channel = Channel.WEB
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    # Where it is (a GeoJSON Point picked on the form's map; `crs` says its datum).
    location: GeoJSONGeometry
    address: str | None = Field(default=None, max_length=300)
    category: Category | None = None
    subtype: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=100)
    phone: Phone | None = None


class MilestoneOut(Output):
    at: Instant
    text: str


class ProgressOut(Output):
    service_no: str
    kind: str
    title: str
    submitted_at: Instant
    progress: str
    progress_name: str
    handled_by: str | None
    timeline: list[MilestoneOut]
    reply: str | None
    satisfaction: str | None
    can_rate: bool


class SubmittedOut(ProgressOut):
    # Shown once: keep it to follow the progress (it is not stored in readable form).
    receipt: str


class RatingIn(Input):
    satisfaction: Rating
    comment: str | None = Field(default=None, max_length=1000)


class CitizenOut(Output):
    id: uuid.UUID
    kind: str
    channel: str
    name: str | None
    phone: str | None
    satisfaction: str | None
    comment: str | None
    rated_at: Instant | None


class HotlineEventIn(Input):
    """The event a call reports (as `POST /api/v1/events` takes it)."""

    title: str = Field(min_length=1, max_length=200)
    category: Category
    subtype: str = Field(min_length=1, max_length=32)
    grid_id: uuid.UUID
    description: str = Field(min_length=1, max_length=5000)
    # When it happened; the time of the call when the caller cannot say.
    occurred_at: AwareDatetime | None = None
    is_major: bool = False
    is_urgent: bool = False
    location: GeoJSONGeometry | None = None
    address: str | None = Field(default=None, max_length=300)


class CallIn(Input):
    caller_phone: Phone
    caller_name: str | None = Field(default=None, max_length=100)
    nature: CallNature
    summary: str = Field(min_length=1, max_length=2000)
    callback_person: str | None = Field(default=None, max_length=100)
    callback_phone: Phone | None = None
    event: HotlineEventIn | None = None


class CallOut(Output):
    id: uuid.UUID
    caller_id: uuid.UUID
    caller_phone: str
    caller_name: str | None
    operator_id: uuid.UUID | None
    operator_unit_id: uuid.UUID | None
    nature: str
    summary: str
    callback_person: str | None
    callback_phone: str | None
    event_id: uuid.UUID | None
    service_no: str | None
    event_state: str | None
    called_at: Instant
    called_back_at: Instant | None
    callback_reached: bool | None
    callback_satisfaction: str | None
    callback_note: str | None
    version: int


class CallerOut(Output):
    id: uuid.UUID
    phone: str
    name: str | None
    created_at: Instant


class LookupOut(Output):
    known: bool
    caller: CallerOut | None
    calls: list[CallOut]


class CallbackIn(Input):
    reached: StrictBool
    satisfaction: Rating | None = None
    note: str | None = Field(default=None, max_length=1000)


CALL_COLUMNS: list[Column] = [
    Column("called_at", "来电时间"),
    Column("caller_phone", "来电号码"),
    Column("caller_name", "来电人"),
    Column("nature", "来电性质"),
    Column("summary", "来电内容"),
    Column("service_no", "服务单号"),
    Column("event_state", "事件状态"),
    Column("callback_person", "回访人"),
    Column("callback_phone", "回访电话"),
    Column("called_back_at", "回访时间"),
    Column("callback_satisfaction", "回访满意度"),
]
