"""Standard handbooks (工作手册, R-MOB-1): documents a unit's administrators publish for
everyone in and under the unit. A reader sees the handbooks of their own unit and of the
units above it (what they must follow) and, as a manager, those published below it."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, cast, literal, or_, select

from domain.errors import NotFound
from domain.versioning import check_version
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Handbook
from services.models.base import Ltree
from services.pagination import Page, paginate
from services.registry import unit_for_record

TARGET = "handbook"

COLUMNS = (
    Handbook.id,
    Handbook.unit_id,
    Handbook.category,
    Handbook.title,
    Handbook.body,
    Handbook.version,
    Handbook.created_at,
    Handbook.updated_at,
)


def readable(ctx: Ctx) -> ColumnElement[bool]:
    """Published at the caller's unit or above it, or in the caller's jurisdiction."""
    if ctx.principal.sees_everything:
        return in_scope(Handbook.path, ctx.principal)
    above = Handbook.path.op("@>", return_type=None)(cast(literal(ctx.principal.scope), Ltree()))
    return or_(above, in_scope(Handbook.path, ctx.principal))


async def create_handbook(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """Publish a handbook at a unit of the caller's jurisdiction."""
    unit = await unit_for_record(ctx, values["unit_id"])
    now = ctx.now()
    handbook = Handbook(
        **values, path=unit.path, created_at=now, updated_at=now, created_by=ctx.principal.user_id
    )
    ctx.session.add(handbook)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="handbook.create",
        target_type=TARGET,
        target_id=handbook.id,
        unit_path=unit.path,
        after={"title": handbook.title, "category": handbook.category},
    )
    return await get_handbook(ctx, handbook.id)


async def get_handbook(ctx: Ctx, handbook_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(select(*COLUMNS).where(Handbook.id == handbook_id, readable(ctx)))
    ).one_or_none()
    if row is None:
        raise NotFound("handbook_not_found")
    return dict(row._mapping)


async def update_handbook(
    ctx: Ctx, handbook_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Revise a handbook published in the caller's jurisdiction (412 when stale)."""
    handbook = (
        await ctx.session.execute(
            select(Handbook)
            .where(Handbook.id == handbook_id, in_scope(Handbook.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if handbook is None:
        raise NotFound("handbook_not_found")
    check_version(expected_version, handbook.version)
    before = {key: getattr(handbook, key) for key in changes}
    for key, value in changes.items():
        setattr(handbook, key, value)
    handbook.version += 1
    handbook.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="handbook.update",
        target_type=TARGET,
        target_id=handbook.id,
        unit_path=handbook.path,
        before=before,
        after=changes,
    )
    return await get_handbook(ctx, handbook.id)


async def list_handbooks(
    ctx: Ctx, *, category: str | None, q: str | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """Readable handbooks by title, filtered by category and words in title or body."""
    stmt = select(*COLUMNS).where(readable(ctx))
    if category:
        stmt = stmt.where(Handbook.category == category)
    if q:
        stmt = stmt.where(
            Handbook.title.icontains(q, autoescape=True)
            | Handbook.body.icontains(q, autoescape=True)
        )
    return await paginate(
        ctx.session, stmt, key=(Handbook.title, Handbook.id), limit=limit, cursor=cursor
    )
