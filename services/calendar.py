"""The working-day calendar as stored data (R-SUP-3): read into the pure `WorkCalendar`,
and edited by administrators for years the shipped package does not cover."""

from datetime import date
from typing import Any

from sqlalchemy import delete, extract, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert

from domain.workcalendar import WorkCalendar
from services import audit
from services.context import Ctx
from services.models.calendar import CalendarDay

# The calendar is read on every event list and action but changes a few times a year: it is
# kept per process under a digest of its rows, which the database computes in well under a
# millisecond, so an edit made by any process is seen at once.
_CACHE: dict[str | None, WorkCalendar] = {}
_DIGEST = select(
    func.md5(
        func.string_agg(
            func.concat(CalendarDay.day, ":", CalendarDay.kind),
            aggregate_order_by(literal_column("','"), CalendarDay.day),
        )
    )
)


async def work_calendar(ctx: Ctx) -> WorkCalendar:
    """Every stored exception, as the calendar the supervision rules compute with."""
    key = await ctx.session.scalar(_DIGEST)
    found = _CACHE.get(key)
    if found is None:
        rows = (await ctx.session.execute(select(CalendarDay.day, CalendarDay.kind))).all()
        found = WorkCalendar(
            days_off=frozenset(r.day for r in rows if r.kind == "off"),
            working_days=frozenset(r.day for r in rows if r.kind == "work"),
        )
        _CACHE.clear()
        _CACHE[key] = found
    return found


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
    await audit.record(
        ctx,
        action="calendar.set",
        target_type="calendar_day",
        target_id=day.isoformat(),
        unit_path=None,
        before=dict(before._mapping) if before else None,
        after={"kind": kind, "name": name},
    )
