"""The working-day calendar as stored data (R-SUP-3): read into the pure `WorkCalendar`,
and edited by administrators for years the shipped package does not cover."""

from datetime import date
from typing import Any

from sqlalchemy import delete, extract, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.workcalendar import WorkCalendar
from services import audit, reference_data
from services.context import Ctx
from services.models.calendar import CalendarDay


async def _load(session: AsyncSession) -> WorkCalendar:
    rows = (await session.execute(select(CalendarDay.day, CalendarDay.kind))).all()
    return WorkCalendar(
        days_off=frozenset(r.day for r in rows if r.kind == "off"),
        working_days=frozenset(r.day for r in rows if r.kind == "work"),
    )


# Read on every event list and action, changed a few times a year: held per process.
_HELD = reference_data.Held(reference_data.CALENDAR, _load)


async def work_calendar(ctx: Ctx) -> WorkCalendar:
    """Every stored exception, as the calendar the supervision rules compute with."""
    return await _HELD.get(ctx.session)


async def year(ctx: Ctx, which: int) -> list[dict[str, Any]]:
    """The exceptions of one year, in date order."""
    rows = await ctx.session.execute(
        select(CalendarDay.day, CalendarDay.kind, CalendarDay.name, CalendarDay.source)
        .where(extract("year", CalendarDay.day) == which)
        .order_by(CalendarDay.day)
    )
    return [dict(r._mapping) for r in rows]


async def set_day(ctx: Ctx, day: date, kind: str, name: str) -> None:
    """Make `day` a day off or a working day, or (`normal`) follow the plain week again."""
    before = (
        await ctx.session.execute(
            select(CalendarDay.kind, CalendarDay.name).where(CalendarDay.day == day)
        )
    ).one_or_none()
    if kind == "normal":
        await ctx.session.execute(delete(CalendarDay).where(CalendarDay.day == day))
    else:
        values = {
            "kind": kind,
            "name": name,
            "source": "admin",
            "updated_at": ctx.now(),
            "updated_by": ctx.principal.user_id,
        }
        await ctx.session.execute(
            insert(CalendarDay)
            .values(day=day, **values)
            .on_conflict_do_update(index_elements=[CalendarDay.day], set_=values)
        )
    reference_data.changed(ctx.session, reference_data.CALENDAR)
    await audit.record(
        ctx,
        action="calendar.set",
        target_type="calendar_day",
        target_id=day.isoformat(),
        unit_path=None,
        before=dict(before._mapping) if before else None,
        after={"kind": kind, "name": name},
    )
