"""The working-day calendar (R-SUP-3): read by everyone, edited by administrators."""

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import Field

from api.deps import requires
from api.schemas.common import PROBLEM_RESPONSES, Input, Output
from domain.permissions import Perm
from services import calendar
from services.context import Ctx

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"], responses=PROBLEM_RESPONSES)


class CalendarDayOut(Output):
    day: date
    kind: Literal["off", "work"]
    name: str
    source: Literal["package", "admin"]


class CalendarDayIn(Input):
    kind: Literal["off", "work", "normal"]
    name: Annotated[str, Field(max_length=64)] = ""


@router.get("", response_model=list[CalendarDayOut])
async def calendar_year(
    ctx: Annotated[Ctx, requires(Perm.SELF_READ)],
    year: Annotated[int, Query(ge=2000, le=2100)],
) -> list[CalendarDayOut]:
    """The year's days off on weekdays and working weekend days (调休); every other day
    follows the Monday–Friday week."""
    return [CalendarDayOut.model_validate(day) for day in await calendar.year(ctx, year)]


@router.put("/{day}", status_code=status.HTTP_204_NO_CONTENT)
async def set_calendar_day(
    day: date, body: CalendarDayIn, ctx: Annotated[Ctx, requires(Perm.SETTING_WRITE)]
) -> None:
    """Declare a day off, a working day, or `normal` to drop the exception (audited)."""
    await calendar.set_day(ctx, day, body.kind, body.name)
