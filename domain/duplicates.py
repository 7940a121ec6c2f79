"""Likely duplicates (R-EVT-3): which open events an event may repeat, and the guards on
linking one as `duplicate_of` another. Pure rules; the service runs the spatial query."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import FieldError, Invalid

DEFAULT_RADIUS_M = 200
DEFAULT_WINDOW_DAYS = 7
# Suggestions offered at once: the nearest first.
MAX_SUGGESTIONS = 20


@dataclass(frozen=True)
class Window:
    """The same category, within `radius_m` metres and `days` days either side of when the
    event occurred (both bounds inclusive)."""

    radius_m: int
    days: int

    def bounds(self, occurred_at: datetime) -> tuple[datetime, datetime]:
        span = timedelta(days=self.days)
        return occurred_at - span, occurred_at + span


@dataclass(frozen=True)
class Original:
    """What the guards need to know of the event named as the original."""

    id: uuid.UUID
    duplicate_of: uuid.UUID | None


def check_link(event_id: uuid.UUID, original: Original | None, *, has_duplicates: bool) -> None:
    """An event is linked to an original in jurisdiction, never to itself nor to another
    duplicate; an event others already point at stays an original (no chains)."""
    if original is None:
        raise Invalid(
            "duplicate_original_not_found",
            errors=[FieldError("duplicate_of", "duplicate_original_not_found")],
        )
    if original.id == event_id:
        raise Invalid(
            "duplicate_of_itself", errors=[FieldError("duplicate_of", "duplicate_of_itself")]
        )
    if original.duplicate_of is not None:
        raise Invalid(
            "duplicate_of_duplicate",
            errors=[FieldError("duplicate_of", "duplicate_of_duplicate")],
        )
    if has_duplicates:
        raise Invalid(
            "duplicate_has_duplicates",
            errors=[FieldError("duplicate_of", "duplicate_has_duplicates")],
        )
