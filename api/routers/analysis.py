"""Statistics (R-ANA-1): registries and events by region, by type and by trend, chart-ready.
Each subject is read with its own registry's permission, checked in the service."""

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import requires
from api.schemas.common import PROBLEM_RESPONSES, Output
from domain.analysis import Granularity
from domain.permissions import Perm
from services import analysis
from services.analysis import SubjectName, Window
from services.context import Ctx

router = APIRouter(prefix="/api/v1/analysis", tags=["analysis"], responses=PROBLEM_RESPONSES)

# The gate every statistic passes; the subject's own read permission is checked after it.
Reader = Annotated[Ctx, requires(Perm.SELF_READ)]


class RegionItem(Output):
    key: str
    code: str
    name: str
    level: str
    value: int


class RegionOut(Output):
    subject: str
    unit_id: uuid.UUID | None
    total: int
    items: list[RegionItem]


class TypeItem(Output):
    key: str | None
    name: str | None
    value: int


class TypeOut(Output):
    subject: str
    unit_id: uuid.UUID | None
    total: int
    items: list[TypeItem]


class TrendItem(Output):
    start: date
    value: int
    year_before: int
    previous: int
    # 同比 / 环比 as ratios (0.25 = +25 %), null without a base to compare with.
    yoy: float | None
    mom: float | None


class TrendOut(Output):
    subject: str
    unit_id: uuid.UUID | None
    granularity: Granularity
    items: list[TrendItem]


def _window(since: date | None = None, until: date | None = None) -> Window:
    """Records created from `since` to `until` inclusive (business dates)."""
    return Window(since, until)


Period = Annotated[Window, Depends(_window)]


@router.get("/{subject}/by-region", response_model=RegionOut)
async def by_region(
    subject: SubjectName, ctx: Reader, period: Period, unit_id: uuid.UUID | None = None
) -> RegionOut:
    """One figure per unit directly below `unit_id` (default: the caller's unit)."""
    return RegionOut.model_validate(await analysis.by_region(ctx, subject, unit_id, period))


@router.get("/{subject}/by-type", response_model=TypeOut)
async def by_type(
    subject: SubjectName, ctx: Reader, period: Period, unit_id: uuid.UUID | None = None
) -> TypeOut:
    """One figure per category, kind or use, largest first."""
    return TypeOut.model_validate(await analysis.by_type(ctx, subject, unit_id, period))


@router.get("/{subject}/trend", response_model=TrendOut)
async def trend(
    subject: SubjectName,
    ctx: Reader,
    granularity: Granularity = Granularity.MONTH,
    since: date | None = None,
    until: date | None = None,
    unit_id: uuid.UUID | None = None,
) -> TrendOut:
    """New records per day, week or month with 同比 and 环比; by default the twelve months,
    eight weeks or thirty days up to today."""
    last = until or ctx.today()
    default_span = {
        Granularity.DAY: timedelta(days=29),
        Granularity.WEEK: timedelta(weeks=7),
        Granularity.MONTH: timedelta(days=334),
    }
    first = since or last - default_span[granularity]
    return TrendOut.model_validate(
        await analysis.trend(ctx, subject, unit_id, granularity, first, last)
    )
