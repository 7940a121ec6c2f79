"""Likely duplicates over the wire (R-EVT-3)."""

import uuid

from api.schemas.common import Instant, Output
from api.schemas.events import EventOut


class DuplicateOut(Output):
    id: uuid.UUID
    service_no: str
    title: str
    category: str
    subtype: str
    state: str
    grid_id: uuid.UUID
    occurred_at: Instant
    distance_m: int


class EventReported(EventOut):
    """A new event and the open events it may repeat (R-EVT-3)."""

    likely_duplicates: list[DuplicateOut]
