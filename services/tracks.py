"""Where grid workers go (R-MOB-1, R-CMD-1): check-in and check-out (打卡) with a location,
one check-in open per worker at a time, and GPS tracks uploaded in batches and played back
by their supervisors, one business day at a time."""

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from geoalchemy2 import Geography
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import cast, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, insert
from sqlalchemy.exc import IntegrityError

from domain.coords import to_wgs84
from domain.errors import BadRequest, Conflict, FieldError, Invalid, NotFound
from domain.mobile import TrackBatchIn
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import CheckIn, TrackPoint, User
from services.pagination import Page, decode_cursor, encode_cursor
from services.settings import get_settings

_ZONE = ZoneInfo(get_settings().timezone)

CHECK_IN_COLUMNS = (
    CheckIn.id,
    CheckIn.user_id,
    CheckIn.checked_in_at,
    func.ST_AsGeoJSON(CheckIn.in_location, 7).label("in_location"),
    CheckIn.checked_out_at,
    func.ST_AsGeoJSON(CheckIn.out_location, 7).label("out_location"),
)


def _home(ctx: Ctx) -> str:
    """Field records are filed under the caller's own unit; the whole-tree system has none."""
    if ctx.principal.user_id is None or ctx.principal.sees_everything:
        raise Invalid(
            "position_unit_required", errors=[FieldError("location", "position_unit_required")]
        )
    return ctx.principal.scope


def _check_in_row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    for key in ("in_location", "out_location"):
        data[key] = orjson.loads(data[key]) if data[key] else None
    return data


async def _check_in(ctx: Ctx, check_in_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(select(*CHECK_IN_COLUMNS).where(CheckIn.id == check_in_id))
    ).one()
    return _check_in_row(row)


async def check_in(ctx: Ctx, location: Point) -> dict[str, Any]:
    """Open a check-in here and now; one is already open → 409 (the partial unique index
    decides, so two taps racing open one)."""
    path = _home(ctx)
    record = CheckIn(
        user_id=ctx.principal.user_id,
        path=path,
        checked_in_at=ctx.now(),
        in_location=from_shape(location, srid=4326),
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(record)
            await ctx.session.flush()
    except IntegrityError as exc:
        raise Conflict("check_in_open") from exc
    await audit.record(
        ctx,
        action="check_in.open",
        target_type="check_in",
        target_id=record.id,
        unit_path=path,
        after={"location": [location.x, location.y]},
    )
    return await _check_in(ctx, record.id)


async def check_out(ctx: Ctx, location: Point) -> dict[str, Any]:
    """Close the caller's open check-in here and now; none open → 409."""
    path = _home(ctx)
    closed = await ctx.session.scalar(
        update(CheckIn)
        .where(CheckIn.user_id == ctx.principal.user_id, CheckIn.checked_out_at.is_(None))
        .values(checked_out_at=ctx.now(), out_location=from_shape(location, srid=4326))
        .returning(CheckIn.id)
    )
    if closed is None:
        raise Conflict("no_open_check_in")
    await audit.record(
        ctx,
        action="check_in.close",
        target_type="check_in",
        target_id=closed,
        unit_path=path,
        after={"location": [location.x, location.y]},
    )
    return await _check_in(ctx, closed)


async def open_check_in(ctx: Ctx) -> dict[str, Any] | None:
    row = (
        await ctx.session.execute(
            select(*CHECK_IN_COLUMNS).where(
                CheckIn.user_id == ctx.principal.user_id, CheckIn.checked_out_at.is_(None)
            )
        )
    ).one_or_none()
    return _check_in_row(row) if row else None


async def my_check_ins(ctx: Ctx, *, limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """The caller's check-ins, newest first, keyset-paged by (check-in time, id)."""
    own = CheckIn.user_id == ctx.principal.user_id
    total = int(await ctx.session.scalar(select(func.count()).where(own)) or 0)
    stmt = select(*CHECK_IN_COLUMNS).where(own)
    if cursor:
        last_at, last_id = decode_cursor(cursor, 2)
        try:
            key = (datetime.fromisoformat(str(last_at)), uuid.UUID(str(last_id)))
        except ValueError as exc:
            raise BadRequest(
                "cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")]
            ) from exc
        stmt = stmt.where(tuple_(CheckIn.checked_in_at, CheckIn.id) < key)
    rows = (
        await ctx.session.execute(
            stmt.order_by(CheckIn.checked_in_at.desc(), CheckIn.id.desc()).limit(limit + 1)
        )
    ).all()
    items = [_check_in_row(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last["checked_in_at"].isoformat(), str(last["id"])])
    return Page(items=items, next_cursor=next_cursor, total=total)


async def upload_track(ctx: Ctx, batch: TrackBatchIn) -> dict[str, int]:
    """Store a batch of the caller's track points in one multi-row insert. A point is known
    by (user, recorded_at): a batch re-sent after a dropped answer stores nothing twice."""
    path = _home(ctx)
    rows = []
    for point in batch.points:
        lon, lat = to_wgs84(point.lon, point.lat, batch.crs)
        rows.append(
            {
                "user_id": ctx.principal.user_id,
                "recorded_at": point.recorded_at,
                "path": path,
                "location": from_shape(Point(lon, lat), srid=4326),
                "accuracy_m": point.accuracy_m,
            }
        )
    stored = len(
        (
            await ctx.session.execute(
                insert(TrackPoint)
                .values(rows)
                .on_conflict_do_nothing(index_elements=[TrackPoint.user_id, TrackPoint.recorded_at])
                .returning(TrackPoint.recorded_at)
            )
        ).all()
    )
    result = {"received": len(rows), "stored": stored, "duplicates": len(rows) - stored}
    if stored:
        await audit.record(
            ctx,
            action="track.upload",
            target_type="user",
            target_id=ctx.principal.user_id,
            unit_path=path,
            after=result,
        )
    return result


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), _ZONE)
    return start, start + timedelta(days=1)


async def day_track(ctx: Ctx, user_id: uuid.UUID, day: date) -> dict[str, Any]:
    """A worker's track over one business day, in time order, as points and a line, with
    the distance walked; the worker must be in the caller's jurisdiction (else 404)."""
    worker = await ctx.session.scalar(
        select(User.id).where(User.id == user_id, in_scope(User.path, ctx.principal))
    )
    if worker is None:
        raise NotFound("user_not_found")
    start, end = _day_bounds(day)
    where = (
        TrackPoint.user_id == user_id,
        TrackPoint.recorded_at >= start,
        TrackPoint.recorded_at < end,
        in_scope(TrackPoint.path, ctx.principal),
    )
    rows = (
        await ctx.session.execute(
            select(
                TrackPoint.recorded_at,
                func.ST_X(TrackPoint.location).label("lon"),
                func.ST_Y(TrackPoint.location).label("lat"),
                TrackPoint.accuracy_m,
            )
            .where(*where)
            .order_by(TrackPoint.recorded_at)
        )
    ).all()
    made = func.ST_MakeLine(aggregate_order_by(TrackPoint.location, TrackPoint.recorded_at))
    line = (
        await ctx.session.execute(
            select(
                func.ST_AsGeoJSON(made, 7).label("line"),
                func.ST_Length(cast(made, Geography)).label("meters"),
            ).where(*where)
        )
    ).one()
    return {
        "user_id": user_id,
        "date": day,
        "points": [dict(row._mapping) for row in rows],
        "line": orjson.loads(line.line) if len(rows) > 1 else None,
        "distance_m": round(float(line.meters), 1) if len(rows) > 1 else 0.0,
    }
