"""The grid worker's app (R-MOB-1): the summary of my grid, events reported from the field
with the grid found from the GPS point, the one-tap emergency alarm, and my history."""

from typing import Any

from sqlalchemy import func, select

from domain.mobile import AlarmIn, FieldEventIn, alarm_event
from domain.registry import Status
from domain.workflow import OPEN_STATES
from services import audit, events, grids, tracks
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Event, House, Notification, OrgUnit, Person, Place
from services.pagination import Page


async def _count(ctx: Ctx, model: type[Person] | type[House] | type[Place]) -> int:
    stmt = select(func.count()).where(
        in_scope(model.path, ctx.principal), model.status == Status.ACTIVE.value
    )
    return int(await ctx.session.scalar(stmt) or 0)


async def summary(ctx: Ctx) -> dict[str, Any]:
    """My unit (for a grid worker, my grid), what is registered in it, its open events, my
    to-do, my unread notifications and whether I am checked in."""
    principal = ctx.principal
    unit = (
        await ctx.session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level).where(
                OrgUnit.id == principal.unit_id
            )
        )
    ).one_or_none()
    open_events = await ctx.session.scalar(
        select(func.count()).where(
            events.visible(principal), Event.state.in_([s.value for s in OPEN_STATES])
        )
    )
    unread = await ctx.session.scalar(
        select(func.count()).where(
            Notification.user_id == principal.user_id, Notification.read_at.is_(None)
        )
    )
    todo = await events.box_counts(ctx)
    return {
        "unit": dict(unit._mapping) if unit else None,
        "people": await _count(ctx, Person),
        "houses": await _count(ctx, House),
        "places": await _count(ctx, Place),
        "open_events": int(open_events or 0),
        "todo": todo[events.Box.TODO.value],
        "unread_notifications": int(unread or 0),
        "open_check_in": await tracks.open_check_in(ctx),
    }


async def report_from_field(ctx: Ctx, body: FieldEventIn) -> dict[str, Any]:
    """Report an event at a GPS point: the point (GCJ-02 accepted) is read as WGS-84 and
    the event is filed in the grid of the caller's jurisdiction that covers it (404 when
    none does)."""
    point = body.point()
    grid = await grids.locate(ctx, point)
    fields = body.model_dump(exclude={"location", "crs", "resolve_on_spot", "result"})
    fields.update(grid_id=grid["grid"]["id"], location=point, source="app")
    return await events.report_event(
        ctx, fields, resolve_on_spot=body.resolve_on_spot, result=body.result
    )


async def raise_alarm(ctx: Ctx, body: AlarmIn) -> dict[str, Any]:
    """One tap: an urgent event where the worker stands (R-MOB-1)."""
    return await report_from_field(ctx, alarm_event(body, ctx.now()))


async def history(ctx: Ctx, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """What I did, newest first: every write of mine is in the audit trail (R-AUD-1)."""
    return await audit.list_entries(
        ctx,
        limit=limit,
        cursor=cursor,
        target_type=None,
        target_id=None,
        action=None,
        actor_id=ctx.principal.user_id,
    )
