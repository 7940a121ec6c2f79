"""What the grid worker's app receives (R-MOB-1); what it sends is `domain.mobile`."""

import uuid
from datetime import date
from typing import Annotated, Any

from pydantic import Field, field_validator

from api.schemas.common import Input, Instant, Output
from domain.patches import refuse_null


class UnitBrief(Output):
    id: uuid.UUID
    code: str
    name: str
    level: str


class CheckInOut(Output):
    id: uuid.UUID
    user_id: uuid.UUID
    checked_in_at: Instant
    in_location: dict[str, Any]
    checked_out_at: Instant | None
    out_location: dict[str, Any] | None


class SummaryOut(Output):
    unit: UnitBrief | None
    people: int
    houses: int
    places: int
    open_events: int
    todo: int
    unread_notifications: int
    open_check_in: CheckInOut | None


class VisitOut(Output):
    id: uuid.UUID
    user_id: uuid.UUID
    grid_id: uuid.UUID
    visited_at: Instant
    topic: str
    content: str
    location: dict[str, Any] | None
    person_id: uuid.UUID | None
    house_id: uuid.UUID | None
    version: int
    created_at: Instant
    updated_at: Instant


class TrackUploadOut(Output):
    received: int
    stored: int
    duplicates: int


class TrackPointOut(Output):
    recorded_at: Instant
    lon: float
    lat: float
    accuracy_m: float | None


class DayTrackOut(Output):
    user_id: uuid.UUID
    date: date
    points: list[TrackPointOut]
    line: dict[str, Any] | None
    distance_m: float


class HistoryOut(Output):
    """One of my writes, without its before/after (the app lists what, not the details)."""

    id: int
    at: Instant
    action: str
    target_type: str
    target_id: str | None


Category = Annotated[str, Field(min_length=1, max_length=32)]


class HandbookIn(Input):
    unit_id: uuid.UUID
    category: Category
    title: Annotated[str, Field(min_length=1, max_length=200)]
    body: Annotated[str, Field(min_length=1, max_length=200_000)]


class HandbookPatch(Input):
    category: Category | None = None
    title: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    body: Annotated[str | None, Field(min_length=1, max_length=200_000)] = None

    _required = field_validator("category", "title", "body")(refuse_null)


class HandbookOut(Output):
    id: uuid.UUID
    unit_id: uuid.UUID
    category: str
    title: str
    body: str
    version: int
    created_at: Instant
    updated_at: Instant
