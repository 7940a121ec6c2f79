"""What the grid worker's app sends (R-MOB-1): the payloads of the field-work writes, shared
by their routes and by the offline sync (R-MOB-2), which replays the same operations.

Locations are GeoJSON points in the app's coordinate system (`crs`, GCJ-02 by default on
Chinese map SDKs is accepted) and are read as WGS-84 here, before anything is stored."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from shapely.geometry import Point

from domain.coords import Crs, geometry_to_wgs84
from domain.errors import FieldError, Invalid
from domain.events import Category
from domain.geo import parse_geojson
from domain.patches import refuse_null

# One upload carries at most this many track points; the app sends its queue in batches.
MAX_TRACK_BATCH = 1000

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
LongText = Annotated[str, Field(min_length=1, max_length=4000)]


class Payload(BaseModel):
    """Every payload refuses unknown fields (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VisitTopic(StrEnum):
    """What a 民情日记 visit was for."""

    VISIT = "visit"
    MEDIATION = "mediation"
    PUBLICITY = "publicity"
    ASSISTANCE = "assistance"
    INSPECTION = "inspection"
    OTHER = "other"


class Located(Payload):
    location: dict[str, Any] = Field(
        description="GeoJSON Point, lon/lat in `crs`",
        examples=[{"type": "Point", "coordinates": [75.92, 39.42]}],
    )
    crs: Crs = Crs.WGS84

    def point(self) -> Point:
        return read_point(self.location, self.crs)


class FieldEventIn(Located):
    """An event reported from the field: the grid is the one the point lies in."""

    title: Text200
    category: Category
    subtype: Annotated[str, Field(min_length=1, max_length=32)]
    occurred_at: AwareDatetime
    description: Annotated[str, Field(max_length=4000)] = ""
    address: Annotated[str | None, Field(max_length=300)] = None
    parties: Annotated[str | None, Field(max_length=500)] = None
    involved_count: Annotated[int | None, Field(ge=0, le=100000)] = None
    is_major: bool = False
    is_urgent: bool = False
    resolve_on_spot: bool = False
    result: Annotated[str | None, Field(max_length=2000)] = None


class AlarmIn(Located):
    """One tap: where the worker is and, when there is time, a word about it."""

    note: Annotated[str | None, Field(max_length=500)] = None


class VisitIn(Payload):
    grid_id: uuid.UUID
    visited_at: AwareDatetime
    topic: VisitTopic
    content: LongText
    person_id: uuid.UUID | None = None
    house_id: uuid.UUID | None = None
    location: dict[str, Any] | None = Field(default=None, description="GeoJSON Point in `crs`")
    crs: Crs = Crs.WGS84


class VisitPatch(Payload):
    visited_at: AwareDatetime | None = None
    topic: VisitTopic | None = None
    content: LongText | None = None
    person_id: uuid.UUID | None = None
    house_id: uuid.UUID | None = None

    _required = field_validator("visited_at", "topic", "content")(refuse_null)


class CheckInIn(Located):
    pass


class TrackPointIn(Payload):
    recorded_at: AwareDatetime
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    accuracy_m: Annotated[float | None, Field(ge=0, le=100000)] = None


class TrackBatchIn(Payload):
    crs: Crs = Crs.WGS84
    points: Annotated[list[TrackPointIn], Field(min_length=1, max_length=MAX_TRACK_BATCH)]


def read_point(obj: dict[str, Any], crs: Crs, field: str = "location") -> Point:
    """A GeoJSON point given in `crs`, as WGS-84 (R-GRID-4)."""
    try:
        geometry = geometry_to_wgs84(parse_geojson(obj, allowed=("Point",)), crs)
    except Invalid as exc:
        if not exc.errors:
            exc.errors = [FieldError(field, exc.code, exc.params)]
        raise
    assert isinstance(geometry, Point)
    return geometry


ALARM_TITLE = "紧急报警"
ALARM_DESCRIPTION = "网格员一键报警"


def alarm_event(alarm: AlarmIn, now: datetime) -> FieldEventIn:
    """The urgent event an emergency alarm becomes (R-MOB-1): reported now, where the
    worker stands, urgent (so its 12-hour acceptance card applies, R-SUP-2). What the
    emergency is the receiver learns by calling back, so it files under 其他."""
    return FieldEventIn(
        title=ALARM_TITLE,
        category=Category.OTHER,
        subtype="other",
        occurred_at=now,
        description=alarm.note or ALARM_DESCRIPTION,
        is_urgent=True,
        location=alarm.location,
        crs=alarm.crs,
    )
