"""Likely duplicates (R-EVT-3): open events of the same category within a radius (metres on
the sphere, PostGIS `ST_DWithin` on geography, indexed) and a time window — both system
settings — offered at report time and on request; linking an event as `duplicate_of` its
original (the `mark-duplicate` action closes it), and telling the duplicate's reporter when
the original closes."""

import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import cast, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.duplicates import MAX_SUGGESTIONS, Original, Window, check_link
from domain.errors import NotFound
from domain.workflow import OPEN_STATES, Action, State
from services import settings_store
from services.context import Ctx
from services.events import visible
from services.models import Event, Notification

_GEOGRAPHY = Geography(geometry_type="POINT", srid=4326)


async def window(ctx: Ctx) -> Window:
    return Window(
        radius_m=await settings_store.get_value(ctx, settings_store.DUPLICATE_RADIUS_M),
        days=await settings_store.get_value(ctx, settings_store.DUPLICATE_WINDOW_DAYS),
    )


async def suggestions(ctx: Ctx, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """Open events in the caller's jurisdiction that the event may repeat, nearest first;
    none for an event without a location."""
    origin = (
        await ctx.session.execute(
            select(
                Event.category, Event.occurred_at, Event.location.isnot(None).label("placed")
            ).where(Event.id == event_id, visible(ctx.principal))
        )
    ).one_or_none()
    if origin is None:
        raise NotFound("event_not_found")
    if not origin.placed:
        return []
    rule = await window(ctx)
    start, end = rule.bounds(origin.occurred_at)
    here = cast(select(Event.location).where(Event.id == event_id).scalar_subquery(), _GEOGRAPHY)
    there = cast(Event.location, _GEOGRAPHY)
    distance = func.ST_Distance(there, here)
    rows = await ctx.session.execute(
        select(
            Event.id,
            Event.service_no,
            Event.title,
            Event.category,
            Event.subtype,
            Event.state,
            Event.grid_id,
            Event.occurred_at,
            func.round(distance).label("distance_m"),
        )
        .where(
            Event.id != event_id,
            Event.category == origin.category,
            Event.state.in_([s.value for s in OPEN_STATES]),
            Event.duplicate_of.is_(None),
            Event.occurred_at.between(start, end),
            func.ST_DWithin(there, here, rule.radius_m),
            visible(ctx.principal),
        )
        .order_by(distance, Event.id)
        .limit(MAX_SUGGESTIONS)
    )
    return [{**row._mapping, "distance_m": int(row.distance_m)} for row in rows]


async def check_original(ctx: Ctx, event: Event, original_id: uuid.UUID) -> None:
    """The guards of `mark-duplicate` (422 with the reason)."""
    found = (
        await ctx.session.execute(
            select(Event.id, Event.duplicate_of).where(
                Event.id == original_id, visible(ctx.principal)
            )
        )
    ).one_or_none()
    has_duplicates = bool(
        await ctx.session.scalar(select(exists().where(Event.duplicate_of == event.id)))
    )
    original = Original(found.id, found.duplicate_of) if found else None
    check_link(event.id, original, has_duplicates=has_duplicates)


async def on_transition(
    ctx: Ctx, event: Event, action: Action, target: State, payload: dict[str, Any]
) -> None:
    """After a transition: a duplicate points at its original (its reporter hears at once
    when that is already closed); an original that closes tells its duplicates' reporters."""
    if action == Action.MARK_DUPLICATE:
        original_id = payload["duplicate_of"]
        await ctx.session.execute(
            update(Event)
            .where(Event.id == event.id)
            .values(duplicate_of=original_id)
            .execution_options(synchronize_session=False)
        )
        original_state = await ctx.session.scalar(
            select(Event.state).where(Event.id == original_id)
        )
        if original_state == State.CLOSED:
            await _tell_reporters(ctx, Event.id == event.id, original_id)
    elif target == State.CLOSED:
        await _tell_reporters(ctx, Event.duplicate_of == event.id, event.id)


async def _tell_reporters(ctx: Ctx, which: Any, original_id: uuid.UUID) -> None:
    original_no = await ctx.session.scalar(select(Event.service_no).where(Event.id == original_id))
    rows = await ctx.session.execute(
        select(Event.id, Event.path, Event.service_no, Event.reporter_id).where(
            which, Event.reporter_id.isnot(None)
        )
    )
    values = [
        {
            "id": uuid.uuid4(),
            "user_id": row.reporter_id,
            "path": row.path,
            "kind": "event_duplicate_closed",
            "title": "重复事件的原事件已办结",
            "body": f"您上报的事件 {row.service_no} 与事件 {original_no} 重复，原事件已办结。",
            "target_type": "event",
            "target_id": row.id,
            "dedupe_key": f"duplicate_closed:{row.id}",
            "created_at": ctx.now(),
        }
        for row in rows
    ]
    if values:
        await ctx.session.execute(insert(Notification).values(values).on_conflict_do_nothing())
