"""The visit log (民情日记, R-MOB-1): entries about a visit in a grid, linked to a person or a
house of that grid. Each change is renumbered in commit order, which the offline sync pulls
by (R-MOB-2)."""

import uuid
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from sqlalchemy import func, select

from domain.errors import BadRequest, FieldError, Invalid, NotFound
from domain.mobile import VisitIn, VisitPatch, read_point
from domain.versioning import check_version
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import House, OrgUnit, Person, VisitLog
from services.pagination import Page, decode_cursor, encode_cursor
from services.registry import grid_for_record

TARGET = "visit_log"

COLUMNS = (
    VisitLog.id,
    VisitLog.user_id,
    VisitLog.grid_id,
    VisitLog.visited_at,
    VisitLog.topic,
    VisitLog.content,
    func.ST_AsGeoJSON(VisitLog.location, 7).label("location"),
    VisitLog.person_id,
    VisitLog.house_id,
    VisitLog.version,
    VisitLog.created_at,
    VisitLog.updated_at,
)


def _row(row: Any) -> dict[str, Any]:
    data = dict(row._mapping)
    data["location"] = orjson.loads(data["location"]) if data["location"] else None
    return data


async def _check_links(
    ctx: Ctx, grid: OrgUnit, person_id: uuid.UUID | None, house_id: uuid.UUID | None
) -> None:
    """A linked person or house must be one of the visit's grid (and so in jurisdiction)."""
    for field, model, wanted in (("person_id", Person, person_id), ("house_id", House, house_id)):
        if wanted is None:
            continue
        found = await ctx.session.scalar(
            select(model.id).where(
                model.id == wanted,
                model.grid_id == grid.id,
                in_scope(model.path, ctx.principal),
            )
        )
        if found is None:
            raise Invalid("visit_link_invalid", errors=[FieldError(field, "visit_link_invalid")])


async def next_serial(ctx: Ctx) -> int:
    """The change's place in the pull order as the transaction sees it; drawn again at commit
    under the audit chain's lock, so serials become visible in commit order (as in
    `services.changes`, migration 0040)."""
    return int(await ctx.session.scalar(select(func.nextval("field_change_serial_seq"))) or 0)


async def get_visit(ctx: Ctx, visit_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(VisitLog.id == visit_id, in_scope(VisitLog.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("visit_not_found")
    return _row(row)


async def create_visit(ctx: Ctx, body: VisitIn) -> dict[str, Any]:
    """Log a visit in a grid of the caller's jurisdiction (404 outside it)."""
    grid = await grid_for_record(ctx, body.grid_id)
    await _check_links(ctx, grid, body.person_id, body.house_id)
    location = read_point(body.location, body.crs) if body.location is not None else None
    now = ctx.now()
    visit = VisitLog(
        user_id=ctx.principal.user_id,
        grid_id=grid.id,
        path=grid.path,
        visited_at=body.visited_at,
        topic=body.topic.value,
        content=body.content,
        location=from_shape(location, srid=4326) if location is not None else None,
        person_id=body.person_id,
        house_id=body.house_id,
        serial=await next_serial(ctx),
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(visit)
    await ctx.session.flush()
    created = await get_visit(ctx, visit.id)
    await audit.record(
        ctx,
        action="visit.create",
        target_type=TARGET,
        target_id=visit.id,
        unit_path=grid.path,
        after=orjson.loads(orjson.dumps(created, default=str)),
    )
    return created


async def update_visit(
    ctx: Ctx, visit_id: uuid.UUID, patch: VisitPatch, *, expected_version: int | None
) -> dict[str, Any]:
    """Change an entry; a stale version is refused (412), never overwritten (R-MOB-2)."""
    visit = (
        await ctx.session.execute(
            select(VisitLog)
            .where(VisitLog.id == visit_id, in_scope(VisitLog.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if visit is None:
        raise NotFound("visit_not_found")
    check_version(expected_version, visit.version)
    changes = patch.model_dump(exclude_unset=True)
    grid = await ctx.session.get_one(OrgUnit, visit.grid_id)
    await _check_links(
        ctx,
        grid,
        changes.get("person_id", visit.person_id),
        changes.get("house_id", visit.house_id),
    )
    before = {key: getattr(visit, key) for key in changes}
    for key, value in changes.items():
        setattr(visit, key, value)
    visit.version += 1
    visit.updated_at = ctx.now()
    visit.serial = await next_serial(ctx)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="visit.update",
        target_type=TARGET,
        target_id=visit.id,
        unit_path=visit.path,
        before=orjson.loads(orjson.dumps(before, default=str)),
        after=orjson.loads(orjson.dumps(changes, default=str)),
    )
    return await get_visit(ctx, visit.id)


async def list_visits(
    ctx: Ctx,
    *,
    mine: bool,
    person_id: uuid.UUID | None,
    house_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """Entries in jurisdiction (or the caller's own), latest change first, keyset-paged."""
    filters = [in_scope(VisitLog.path, ctx.principal)]
    if mine:
        filters.append(VisitLog.user_id == ctx.principal.user_id)
    if person_id is not None:
        filters.append(VisitLog.person_id == person_id)
    if house_id is not None:
        filters.append(VisitLog.house_id == house_id)
    total = int(await ctx.session.scalar(select(func.count()).where(*filters)) or 0)
    stmt = select(*COLUMNS, VisitLog.serial).where(*filters)
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        if not isinstance(last, int):
            raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")])
        stmt = stmt.where(VisitLog.serial < last)
    rows = (await ctx.session.execute(stmt.order_by(VisitLog.serial.desc()).limit(limit + 1))).all()
    items = [_row(row) for row in rows[:limit]]
    next_cursor = encode_cursor([rows[limit - 1].serial]) if len(rows) > limit else None
    for item in items:
        del item["serial"]
    return Page(items=items, next_cursor=next_cursor, total=total)


async def changed_since(ctx: Ctx, serial: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Entries in jurisdiction changed after `serial`, oldest change first, and the serial
    to continue from (the sync pull, R-MOB-2)."""
    rows = (
        await ctx.session.execute(
            select(*COLUMNS, VisitLog.serial)
            .where(VisitLog.serial > serial, in_scope(VisitLog.path, ctx.principal))
            .order_by(VisitLog.serial)
            .limit(limit)
        )
    ).all()
    items = [_row(row) for row in rows]
    if items:
        serial = items[-1]["serial"]
    for item in items:
        del item["serial"]
    return items, serial
