"""Shared schema pieces: strict inputs, paged lists, problem documents."""

from datetime import datetime
from typing import Annotated, Generic, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, PlainSerializer

from services.settings import get_settings

T = TypeVar("T")

_ZONE = ZoneInfo(get_settings().timezone)


def in_business_zone(value: datetime) -> datetime:
    """An instant sent without an offset is read in the business zone (API.md: +08:00)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=_ZONE)


# Instants are stored in UTC and shown in the business zone (+08:00) with the offset (API.md).
Instant = Annotated[
    datetime, PlainSerializer(lambda value: value.astimezone(_ZONE).isoformat(), return_type=str)
]


class Input(BaseModel):
    """Every request body refuses unknown fields (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=False)


class PageOut(Output, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457) with a stable `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] = []


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """Problem documents declared for these statuses (with the ones every route may give)."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in sorted({400, 401, 403, 404, 409, 412, 422, *statuses})
    }


PROBLEM_RESPONSES = problem_responses()
