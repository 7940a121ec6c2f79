"""Org units: the territorial tree city → district → street → community → grid (R-ORG-1).

Reads select columns with SQLAlchemy Core and return plain dicts (no ORM objects on hot read
paths); writes lock the row, apply, bump the version, record history and audit.
"""

import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, not_, or_, select
from sqlalchemy.sql.elements import ColumnElement

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.geo import to_geojson
from domain.org import Level, check_code, check_placement
from domain.versioning import check_version
from services import audit
from services.constraints import flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope, path_in_scope
from services.models import Department, OrgUnit, User
from services.pagination import AnySelect, Page, paginate
from services.spatial import boxed, geometry_param
from services.unit_history import record_version

# R-GRID-1: a unit lies inside its parent within 1 m.
OUTSIDE_TOLERANCE_M = 1.0

UNIT_COLUMNS = (
    OrgUnit.id,
    OrgUnit.code,
    OrgUnit.name,
    OrgUnit.level,
    OrgUnit.parent_id,
    OrgUnit.grid_leader_id,
    OrgUnit.household_target,
    OrgUnit.version,
    OrgUnit.created_at,
    OrgUnit.updated_at,
    func.ST_AsGeoJSON(OrgUnit.geom, 7).label("geometry"),
)


def unit_dict(row: Any) -> dict[str, Any]:
    """A selected row of UNIT_COLUMNS as the API's representation."""
    data = dict(row._mapping)
    data["geometry"] = orjson.loads(data["geometry"]) if data["geometry"] else None
    return data


def live() -> ColumnElement[bool]:
    return OrgUnit.deleted_at.is_(None)


def scoped_units(ctx: Ctx) -> AnySelect:
    """Live units inside the caller's jurisdiction (R-JUR-1)."""
    return select(*UNIT_COLUMNS).where(live(), in_scope(OrgUnit.path, ctx.principal))


async def get_unit(ctx: Ctx, unit_id: uuid.UUID, *, level: Level | None = None) -> dict[str, Any]:
    """One unit in the caller's jurisdiction; outside it or unknown → 404."""
    stmt = scoped_units(ctx).where(OrgUnit.id == unit_id)
    if level is not None:
        stmt = stmt.where(OrgUnit.level == level.value)
    row = (await ctx.session.execute(stmt)).one_or_none()
    if row is None:
        raise NotFound("grid_not_found" if level == Level.GRID else "org_unit_not_found")
    return unit_dict(row)


@dataclass(frozen=True)
class UnitFilters:
    parent_id: uuid.UUID | None = None
    level: Level | None = None
    q: str | None = None
    bbox: tuple[float, float, float, float] | None = None


def units_query(ctx: Ctx, filters: UnitFilters) -> AnySelect:
    """Live units in jurisdiction matching the filters (shared by the list and its export)."""
    parent_id, level, q, bbox = filters.parent_id, filters.level, filters.q, filters.bbox
    stmt = scoped_units(ctx)
    if parent_id is not None:
        stmt = stmt.where(OrgUnit.parent_id == parent_id)
    if level is not None:
        stmt = stmt.where(OrgUnit.level == level.value)
    if q:
        stmt = stmt.where(
            or_(
                OrgUnit.name.icontains(q, autoescape=True),
                OrgUnit.code.startswith(q, autoescape=True),
            )
        )
    if bbox is not None:
        stmt = stmt.where(boxed(OrgUnit.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    return stmt


async def list_units(
    ctx: Ctx, filters: UnitFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of units ordered by code."""
    return await paginate(
        ctx.session,
        units_query(ctx, filters),
        key=(OrgUnit.code, OrgUnit.id),
        limit=limit,
        cursor=cursor,
        convert=unit_dict,
    )


async def lock_unit(ctx: Ctx, unit_id: uuid.UUID, *, level: Level | None = None) -> OrgUnit:
    """The live unit, row-locked for a write, inside the caller's subtree; else 404."""
    stmt = (
        select(OrgUnit)
        .where(OrgUnit.id == unit_id, live(), in_scope(OrgUnit.path, ctx.principal))
        .with_for_update()
    )
    if level is not None:
        stmt = stmt.where(OrgUnit.level == level.value)
    unit = (await ctx.session.execute(stmt)).scalar_one_or_none()
    if unit is None:
        raise NotFound("grid_not_found" if level == Level.GRID else "org_unit_not_found")
    return unit


async def parent_for_new_child(ctx: Ctx, parent_id: uuid.UUID | None) -> OrgUnit | None:
    """The parent a new unit goes under. Creating under a unit requires it to be within the
    caller's subtree; creating a top unit requires whole-tree scope."""
    if parent_id is None:
        if not ctx.principal.sees_everything:
            raise NotFound("parent_not_found", errors=[FieldError("parent_id", "field_required")])
        return None
    parent = (
        await ctx.session.execute(select(OrgUnit).where(OrgUnit.id == parent_id, live()))
    ).scalar_one_or_none()
    if parent is None or not path_in_scope(parent.path, ctx.principal):
        raise NotFound("parent_not_found", errors=[FieldError("parent_id", "parent_not_found")])
    return parent


def snapshot(unit: OrgUnit, geometry: BaseGeometry | None) -> dict[str, Any]:
    """The audited state of a unit (geometry as GeoJSON)."""
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level,
        "parent_id": str(unit.parent_id) if unit.parent_id else None,
        "grid_leader_id": str(unit.grid_leader_id) if unit.grid_leader_id else None,
        "household_target": unit.household_target,
        "geometry": to_geojson(geometry) if geometry is not None else None,
        "version": unit.version,
    }


def current_geometry(unit: OrgUnit) -> BaseGeometry | None:
    return to_shape(unit.geom) if unit.geom is not None else None


async def insert_unit(
    ctx: Ctx,
    *,
    code: str,
    name: str,
    level: Level,
    parent: OrgUnit | None,
    geometry: BaseGeometry | None,
    attributes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> OrgUnit:
    """Validate placement and code, insert, open the first version, audit."""
    check_placement(level, Level(parent.level) if parent else None)
    check_code(code, level, parent.code if parent else None)
    unit_id = uuid.uuid4()
    now = ctx.now()
    unit = OrgUnit(
        id=unit_id,
        code=code,
        name=name,
        level=level.value,
        parent_id=parent.id if parent else None,
        path=f"{parent.path}.{unit_id.hex}" if parent else unit_id.hex,
        geom=from_shape(geometry, srid=4326) if geometry is not None else None,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
        **(attributes or {}),
    )
    ctx.session.add(unit)
    await flush_unique(ctx.session, code=code)  # a taken code is a 409 `code_taken`, not a 500
    await record_version(
        ctx, unit, "create", geometry=geometry, reason=reason, attributes=attributes
    )
    await audit.record(
        ctx,
        action=f"{level.value}.create",
        target_type="org_unit",
        target_id=unit.id,
        unit_path=unit.path,
        after=snapshot(unit, geometry),
        reason=reason,
    )
    return unit


async def create_unit(
    ctx: Ctx,
    *,
    code: str,
    name: str,
    level: Level,
    parent_id: uuid.UUID | None,
    geometry: BaseGeometry | None,
) -> dict[str, Any]:
    """Create a city, district, street or community (grids go through `services.grids`)."""
    if level == Level.GRID:
        raise Invalid("use_grid_endpoint", errors=[FieldError("level", "use_grid_endpoint")])
    parent = await parent_for_new_child(ctx, parent_id)
    unit = await insert_unit(
        ctx, code=code, name=name, level=level, parent=parent, geometry=geometry
    )
    return await get_unit(ctx, unit.id)


async def update_unit(
    ctx: Ctx,
    unit_id: uuid.UUID,
    *,
    expected_version: int | None,
    name: str | None = None,
    geometry: BaseGeometry | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Rename or reshape a non-grid unit under optimistic concurrency (If-Match)."""
    unit = await lock_unit(ctx, unit_id)
    if unit.level == Level.GRID:
        raise Invalid("use_grid_endpoint")
    check_version(expected_version, unit.version)
    before_geometry = current_geometry(unit)
    before = snapshot(unit, before_geometry)
    if name is not None:
        unit.name = name
    if geometry is not None:
        await _check_children_inside(ctx, unit, geometry)
        unit.geom = from_shape(geometry, srid=4326)
    new_geometry = geometry if geometry is not None else before_geometry
    await bump(ctx, unit)
    await record_version(ctx, unit, "update", geometry=new_geometry, reason=reason)
    await audit.record(
        ctx,
        action=f"{unit.level}.update",
        target_type="org_unit",
        target_id=unit.id,
        unit_path=unit.path,
        before=before,
        after=snapshot(unit, new_geometry),
        reason=reason,
    )
    return await get_unit(ctx, unit.id)


async def _check_children_inside(ctx: Ctx, unit: OrgUnit, geometry: BaseGeometry) -> None:
    """A reshaped or moved unit keeps all its live children (a community its grids) inside
    it, within the tolerance; otherwise 422 with the parts that would fall outside."""
    g = geometry_param(geometry)
    allowed = func.ST_Buffer(func.geography(g), OUTSIDE_TOLERANCE_M).cast(OrgUnit.geom.type)
    outside = func.ST_Difference(OrgUnit.geom, g)
    rows = (
        await ctx.session.execute(
            select(OrgUnit.id, OrgUnit.code, func.ST_AsGeoJSON(outside, 7).label("outside"))
            .where(
                OrgUnit.parent_id == unit.id,
                live(),
                OrgUnit.geom.is_not(None),
                not_(func.ST_CoveredBy(OrgUnit.geom, allowed)),
            )
            .order_by(OrgUnit.code)
        )
    ).all()
    if not rows:
        return
    codes = "、".join(row.code for row in rows)
    union = (
        await ctx.session.execute(
            select(func.ST_AsGeoJSON(func.ST_Union(outside), 7)).where(
                OrgUnit.id.in_([row.id for row in rows])
            )
        )
    ).scalar_one()
    raise Invalid(
        "unit_leaves_children_outside",
        params={"codes": codes},
        errors=[FieldError("geometry", "unit_leaves_children_outside", {"codes": codes})],
        extra={
            "geometry": orjson.loads(union),
            "children": [
                {"id": str(row.id), "code": row.code, "geometry": orjson.loads(row.outside)}
                for row in rows
            ],
        },
    )


async def delete_unit(
    ctx: Ctx, unit_id: uuid.UUID, *, expected_version: int | None, reason: str | None = None
) -> None:
    """Soft-delete a non-grid unit with no live children, users or departments."""
    unit = await lock_unit(ctx, unit_id)
    if unit.level == Level.GRID:
        raise Invalid("use_grid_endpoint")
    check_version(expected_version, unit.version)
    children = await ctx.session.scalar(
        select(func.count()).select_from(OrgUnit).where(OrgUnit.parent_id == unit.id, live())
    )
    if children:
        raise Conflict("unit_has_children")
    members = await ctx.session.scalar(
        select(func.count()).select_from(User).where(User.unit_id == unit.id, User.is_active)
    )
    departments = await ctx.session.scalar(
        select(func.count())
        .select_from(Department)
        .where(Department.unit_id == unit.id, Department.deleted_at.is_(None))
    )
    if members or departments:
        raise Conflict("unit_has_members")
    await retire(ctx, unit, reason=reason)


async def retire(ctx: Ctx, unit: OrgUnit, *, reason: str | None) -> None:
    """Mark deleted, close its history, audit. The row stays: history and records refer to it."""
    geometry = current_geometry(unit)
    before = snapshot(unit, geometry)
    unit.deleted_at = ctx.now()
    await bump(ctx, unit)
    await record_version(ctx, unit, "delete", geometry=geometry, reason=reason)
    await audit.record(
        ctx,
        action=f"{unit.level}.delete",
        target_type="org_unit",
        target_id=unit.id,
        unit_path=unit.path,
        before=before,
        reason=reason,
    )


async def bump(ctx: Ctx, unit: OrgUnit) -> None:
    unit.version += 1
    unit.updated_at = ctx.now()
    await ctx.session.flush()


async def ancestors(ctx: Ctx, unit_path: str) -> list[dict[str, Any]]:
    """The chain of live units above a path, top first (visible to anyone below them)."""
    rows = (
        await ctx.session.execute(
            select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level)
            .where(
                OrgUnit.path.op("@>")(func.text2ltree(unit_path)),
                func.text2ltree(unit_path) != OrgUnit.path,
                live(),
            )
            .order_by(func.nlevel(OrgUnit.path))
        )
    ).all()
    return [dict(row._mapping) for row in rows]
