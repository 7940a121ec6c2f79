"""Likely duplicates (R-EVT-3): open events of the same category within a radius (metres on
the spheroid, PostGIS `ST_DWithin` on geography, found through the GiST index) and a time
window — both system settings — offered at report time and on request; linking an event as
`duplicate_of` its original (the `mark-duplicate` action closes it), and telling the
duplicate's reporter when the original closes."""

import uuid
from typing import Any

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, and_, cast, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.duplicates import MAX_SUGGESTIONS, Original, Window, check_link
from domain.errors import NotFound
from domain.workflow import OPEN_STATES, Action, State
from services import settings_store
from services.context import Ctx
from services.events import visible
from services.models import Event, Notification

_GEOGRAPHY = Geography(geometry_type=None, spatial_index=False)
# Metres in a degree of latitude, rounded down (the spheroid's least is 110 574 m), so a box
# of `radius / _METRES_PER_DEGREE` degrees always holds the circle.
_METRES_PER_DEGREE = 110_000.0


def near(origin_wkt: str, radius_m: int) -> tuple[ColumnElement[bool], ColumnElement[float]]:
    """Events within `radius_m` metres of a WGS-84 point on the spheroid, and how far each
    is. `ST_DWithin` is not leakproof, so under row-level security it cannot drive an
    index; a bounding box in degrees that holds the circle (`&&`, leakproof) lets the GiST
    index on `location` find the few candidates that `ST_DWithin` then decides. The point
    is a value, not a subquery: a subquery would make the box test leaky too."""
    origin = func.ST_GeomFromText(origin_wkt, 4326)
    cos_lat = func.greatest(func.cos(func.radians(func.ST_Y(origin))), 0.01)
    dy = radius_m / _METRES_PER_DEGREE
    box = func.ST_Expand(origin, dy / cos_lat, dy)
    here, there = cast(origin, _GEOGRAPHY), cast(Event.location, _GEOGRAPHY)
    within = and_(Event.location.op("&&")(box), func.ST_DWithin(there, here, radius_m))
    return within, func.ST_Distance(there, here)


async def window(ctx: Ctx) -> Window:
    """The radius and time window, as the settings stand."""
    return Window(
        radius_m=await settings_store.get_value(ctx, settings_store.DUPLICATE_RADIUS_M),
        days=await settings_store.get_value(ctx, settings_store.DUPLICATE_WINDOW_DAYS),
    )


def candidates_query(ctx: Ctx, event_id: uuid.UUID, origin: Any, rule: Window) -> Any:
    """Open, unlinked events of the origin's category near it in place and time, in the
    caller's jurisdiction, nearest first."""
    start, end = rule.bounds(origin.occurred_at)
    within_radius, distance = near(origin.wkt, rule.radius_m)
    return (
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
            within_radius,
            visible(ctx.principal),
        )
        .order_by(distance, Event.id)
        .limit(MAX_SUGGESTIONS)
    )


async def suggestions(ctx: Ctx, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """What the event may repeat (R-EVT-3); none for an event without a location."""
    origin = (
        await ctx.session.execute(
            select(
                Event.category, Event.occurred_at, func.ST_AsText(Event.location).label("wkt")
            ).where(Event.id == event_id, visible(ctx.principal))
        )
    ).one_or_none()
    if origin is None:
        raise NotFound("event_not_found")
    if origin.wkt is None:
        return []
    stmt = candidates_query(ctx, event_id, origin, await window(ctx))
    return [
        {**row._mapping, "distance_m": int(row.distance_m)}
        for row in await ctx.session.execute(stmt)
    ]


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
