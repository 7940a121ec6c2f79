"""Supervision cards (R-SUP-1) and manual supervision."""

import uuid
from typing import Literal

from pydantic import Field

from api.schemas.common import Input, Instant, Output


class SuperviseIn(Input):
    """A manual card (督办): its level and the supervisor's opinion."""

    # `domain.supervision.Level`'s values; a component named `Level` would clash with the
    # org levels' one in the OpenAPI document.
    level: Literal["normal", "yellow", "red"]
    opinion: str = Field(min_length=1, max_length=2000)


class CancelSupervisionIn(Input):
    """Which manual card to cancel; without it, the latest open manual card of the event."""

    supervision_id: uuid.UUID | None = None


class SupervisionOut(Output):
    id: uuid.UUID
    step_id: uuid.UUID
    level: str
    source: str
    rule: str | None
    due_at: Instant | None
    issued_at: Instant
    cleared_at: Instant | None
    deduction: int
