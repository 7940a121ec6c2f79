"""Grids (数字网格): drawing, reshaping, merging, splitting, deleting, history, locate and
coverage (R-GRID-1 … R-GRID-3). Geometry arrives already parsed, validated and in WGS-84."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import aliased

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.geo import merge_polygons, split_polygon
from domain.org import Level
from domain.versioning import check_version
from services import audit, org_units
from services.context import Ctx
from services.grid_records import count_records, move_records
from services.jurisdiction import in_scope
from services.models import OrgUnit, OrgUnitVersion, User
from services.pagination import AnySelect, Page, paginate
from services.spatial import boxed, geometry_param
from services.unit_history import record_version

# R-GRID-1 tolerance: 1 m² of overlap with a sibling (1 m outside the parent: org_units).
OVERLAP_TOLERANCE_M2 = 1.0


def _geojson(text_value: str | None) -> dict[str, Any] | None:
    return orjson.loads(text_value) if text_value else None


async def _check_inside_parent(ctx: Ctx, parent: OrgUnit, geometry: BaseGeometry) -> None:
    if parent.geom is None:
        return
    g = geometry_param(geometry)
    row = (
        await ctx.session.execute(
            select(
                func.ST_CoveredBy(
                    g,
                    func.ST_Buffer(
                        func.geography(OrgUnit.geom), org_units.OUTSIDE_TOLERANCE_M
                    ).cast(OrgUnit.geom.type),
                ).label("inside"),
                func.ST_AsGeoJSON(func.ST_Difference(g, OrgUnit.geom), 7).label("outside"),
            ).where(OrgUnit.id == parent.id)
        )
    ).one()
    if not row.inside:
        raise Invalid(
            "grid_outside_parent",
            errors=[FieldError("geometry", "grid_outside_parent")],
            extra={"geometry": _geojson(row.outside)},
        )


async def _check_no_overlap(
    ctx: Ctx, parent: OrgUnit, geometry: BaseGeometry, exclude: list[uuid.UUID]
) -> None:
    g = geometry_param(geometry)
    overlap = func.ST_Intersection(OrgUnit.geom, g)
    rows = (
        await ctx.session.execute(
            select(
                OrgUnit.id,
                OrgUnit.code,
                func.ST_AsGeoJSON(overlap, 7).label("overlap"),
                func.ST_Area(func.geography(overlap)).label("area_m2"),
            ).where(
                OrgUnit.parent_id == parent.id,
                OrgUnit.level == Level.GRID.value,
                org_units.live(),
                OrgUnit.id.not_in(exclude) if exclude else OrgUnit.id.is_not(None),
                boxed(OrgUnit.geom, g),
                func.ST_Intersects(OrgUnit.geom, g),
                func.ST_Area(func.geography(overlap)) > OVERLAP_TOLERANCE_M2,
            )
        )
    ).all()
    if rows:
        raise Invalid(
            "grid_overlap",
            errors=[FieldError("geometry", "grid_overlap")],
            extra={
                "geometry": _geojson(rows[0].overlap),
                "overlaps": [
                    {
                        "grid_id": str(row.id),
                        "code": row.code,
                        "area_m2": round(float(row.area_m2), 2),
                        "geometry": _geojson(row.overlap),
                    }
                    for row in rows
                ],
            },
        )


async def _validate_placement(
    ctx: Ctx, parent: OrgUnit, geometry: BaseGeometry, exclude: list[uuid.UUID]
) -> None:
    await _check_inside_parent(ctx, parent, geometry)
    await _check_no_overlap(ctx, parent, geometry, exclude)


async def _community(ctx: Ctx, parent_id: uuid.UUID) -> OrgUnit:
    parent = await org_units.parent_for_new_child(ctx, parent_id)
    if parent is None or parent.level != Level.COMMUNITY.value:
        raise Invalid(
            "grid_parent_not_community",
            errors=[FieldError("parent_id", "grid_parent_not_community")],
        )
    return parent


async def _parent_of(ctx: Ctx, grid: OrgUnit) -> OrgUnit:
    parent = await ctx.session.get(OrgUnit, grid.parent_id)
    assert parent is not None, "a grid always has a community"
    return parent


async def _check_leader(ctx: Ctx, leader_id: uuid.UUID | None) -> None:
    if leader_id is None:
        return
    found = await ctx.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.id == leader_id, User.is_active, in_scope(User.path, ctx.principal))
    )
    if not found:
        raise Invalid(
            "validation_failed",
            errors=[FieldError("grid_leader_id", "field_invalid", {"detail": str(leader_id)})],
        )


def _attributes(grid_leader_id: uuid.UUID | None, household_target: int | None) -> dict[str, Any]:
    return {"grid_leader_id": grid_leader_id, "household_target": household_target}


async def create_grid(
    ctx: Ctx,
    *,
    code: str,
    name: str,
    parent_id: uuid.UUID,
    geometry: Polygon,
    grid_leader_id: uuid.UUID | None = None,
    household_target: int | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Draw a grid inside its community without overlapping its siblings (R-GRID-1)."""
    parent = await _community(ctx, parent_id)
    await _check_leader(ctx, grid_leader_id)
    await _validate_placement(ctx, parent, geometry, [])
    unit = await org_units.insert_unit(
        ctx,
        code=code,
        name=name,
        level=Level.GRID,
        parent=parent,
        geometry=geometry,
        attributes=_attributes(grid_leader_id, household_target),
        reason=reason,
    )
    return await org_units.get_unit(ctx, unit.id)


@dataclass(frozen=True)
class GridChanges:
    """A PATCH: only the fields the client sent are set (`fields` names them)."""

    fields: frozenset[str]
    name: str | None = None
    geometry: Polygon | None = None
    grid_leader_id: uuid.UUID | None = None
    household_target: int | None = None


async def update_grid(
    ctx: Ctx,
    grid_id: uuid.UUID,
    changes: GridChanges,
    *,
    expected_version: int | None,
    reason: str | None,
) -> dict[str, Any]:
    """Adjust a grid's attributes or reshape it, keeping the old version (R-GRID-2)."""
    grid = await org_units.lock_unit(ctx, grid_id, level=Level.GRID)
    check_version(expected_version, grid.version)
    if not changes.fields:
        # Nothing to change: no new version, no history row, no audit entry.
        return await org_units.get_unit(ctx, grid.id)
    before_geometry = org_units.current_geometry(grid)
    before = org_units.snapshot(grid, before_geometry)
    geometry = before_geometry
    # A grid always has a name and a polygon: an explicit null cannot clear them.
    if "name" in changes.fields and changes.name is None:
        raise Invalid("validation_failed", errors=[FieldError("name", "field_required")])
    if "geometry" in changes.fields and changes.geometry is None:
        raise Invalid(
            "grid_geometry_required", errors=[FieldError("geometry", "grid_geometry_required")]
        )
    if changes.geometry is not None:
        geometry = changes.geometry
        await _validate_placement(ctx, await _parent_of(ctx, grid), geometry, [grid.id])
        grid.geom = from_shape(geometry, srid=4326)
    if "grid_leader_id" in changes.fields:
        await _check_leader(ctx, changes.grid_leader_id)
        grid.grid_leader_id = changes.grid_leader_id
    if "household_target" in changes.fields:
        grid.household_target = changes.household_target
    if changes.name is not None:
        grid.name = changes.name
    await _commit_change(ctx, grid, "update", geometry, before, reason)
    return await org_units.get_unit(ctx, grid.id)


async def _commit_change(
    ctx: Ctx,
    grid: OrgUnit,
    operation: str,
    geometry: BaseGeometry | None,
    before: dict[str, Any],
    reason: str | None,
    attributes: dict[str, Any] | None = None,
) -> None:
    await org_units.bump(ctx, grid)
    await record_version(
        ctx,
        grid,
        operation,
        geometry=geometry,
        reason=reason,
        attributes=attributes or _attributes(grid.grid_leader_id, grid.household_target),
    )
    await audit.record(
        ctx,
        action=f"grid.{operation}",
        target_type="org_unit",
        target_id=grid.id,
        unit_path=grid.path,
        before=before,
        after=org_units.snapshot(grid, geometry),
        reason=reason,
    )


async def merge_grids(
    ctx: Ctx,
    grid_ids: list[uuid.UUID],
    *,
    name: str | None,
    reason: str | None,
) -> dict[str, Any]:
    """Merge sibling grids into the first one; the others' records move to it and they are
    retired (R-GRID-2)."""
    if len(set(grid_ids)) != len(grid_ids) or len(grid_ids) < 2:
        raise Invalid(
            "validation_failed",
            errors=[FieldError("grid_ids", "field_invalid", {"detail": "≥ 2 distinct ids"})],
        )
    # Lock in a fixed order so two merges over the same grids cannot deadlock.
    locked = {
        gid: await org_units.lock_unit(ctx, gid, level=Level.GRID) for gid in sorted(grid_ids)
    }
    grids = [locked[gid] for gid in grid_ids]
    if len({g.parent_id for g in grids}) != 1:
        raise Invalid("grids_not_siblings")
    polygons = [org_units.current_geometry(g) for g in grids]
    merged = merge_polygons([p for p in polygons if isinstance(p, Polygon)])
    survivor, absorbed = grids[0], grids[1:]
    await _validate_placement(ctx, await _parent_of(ctx, survivor), merged, grid_ids)
    before = org_units.snapshot(survivor, polygons[0])
    moved: dict[str, int] = {}
    for grid in absorbed:
        for kind, n in (await move_records(ctx, grid, survivor)).items():
            moved[kind] = moved.get(kind, 0) + n
        await org_units.retire(ctx, grid, reason=reason or f"合并入 {survivor.code}")
    survivor.geom = from_shape(merged, srid=4326)
    if name:
        survivor.name = name
    await _commit_change(
        ctx,
        survivor,
        "merge",
        merged,
        before,
        reason,
        {
            **_attributes(survivor.grid_leader_id, survivor.household_target),
            "merged_from": [str(g.id) for g in absorbed],
            "moved_records": moved,
        },
    )
    return await org_units.get_unit(ctx, survivor.id)


@dataclass(frozen=True)
class NewGrid:
    code: str
    name: str


async def split_grid(
    ctx: Ctx,
    grid_id: uuid.UUID,
    line: LineString,
    new_grids: list[NewGrid],
    *,
    reason: str | None,
) -> list[dict[str, Any]]:
    """Cut a grid by a line: it keeps the largest piece, each other piece becomes a new grid
    with the given code and name. Records stay with the original (move them explicitly)."""
    grid = await org_units.lock_unit(ctx, grid_id, level=Level.GRID)
    geometry = org_units.current_geometry(grid)
    assert isinstance(geometry, Polygon)
    pieces = split_polygon(geometry, line)
    if len(new_grids) != len(pieces) - 1:
        raise Invalid(
            "split_codes_mismatch",
            params={"pieces": len(pieces), "needed": len(pieces) - 1},
            errors=[
                FieldError(
                    "new_grids",
                    "split_codes_mismatch",
                    {"pieces": len(pieces), "needed": len(pieces) - 1},
                )
            ],
        )
    parent = await _parent_of(ctx, grid)
    before = org_units.snapshot(grid, geometry)
    grid.geom = from_shape(pieces[0], srid=4326)
    await _commit_change(ctx, grid, "split", pieces[0], before, reason)
    created = []
    for spec, piece in zip(new_grids, pieces[1:], strict=True):
        unit = await org_units.insert_unit(
            ctx,
            code=spec.code,
            name=spec.name,
            level=Level.GRID,
            parent=parent,
            geometry=piece,
            attributes=_attributes(None, None),
            reason=reason or f"由 {grid.code} 拆分",
        )
        created.append(unit.id)
    return [await org_units.get_unit(ctx, uid) for uid in [grid.id, *created]]


async def delete_grid(
    ctx: Ctx, grid_id: uuid.UUID, *, expected_version: int | None, reason: str | None
) -> None:
    """Delete a grid that holds no records; otherwise 409 with the counts (R-GRID-2)."""
    grid = await org_units.lock_unit(ctx, grid_id, level=Level.GRID)
    check_version(expected_version, grid.version)
    records = await count_records(ctx, grid)
    if records:
        raise Conflict("grid_has_records", extra={"records": records})
    await org_units.retire(ctx, grid, reason=reason)


async def move_grid_records(
    ctx: Ctx, grid_id: uuid.UUID, target_id: uuid.UUID, *, reason: str | None
) -> dict[str, int]:
    """Re-home every record of one grid to another in one transaction."""
    if grid_id == target_id:
        raise Invalid(
            "move_target_invalid", errors=[FieldError("target_grid_id", "move_target_invalid")]
        )
    first, second = sorted([grid_id, target_id])
    locked = {gid: await org_units.lock_unit(ctx, gid, level=Level.GRID) for gid in (first, second)}
    source, target = locked[grid_id], locked[target_id]
    moved = await move_records(ctx, source, target)
    await audit.record(
        ctx,
        action="grid.move_records",
        target_type="org_unit",
        target_id=source.id,
        unit_path=source.path,
        after={"target_grid_id": str(target.id), "moved": moved},
        reason=reason,
    )
    return moved


_VERSION_COLUMNS = (
    OrgUnitVersion.unit_id.label("id"),
    OrgUnitVersion.version,
    OrgUnitVersion.operation,
    OrgUnitVersion.code,
    OrgUnitVersion.name,
    OrgUnitVersion.level,
    OrgUnitVersion.parent_id,
    OrgUnitVersion.attributes,
    OrgUnitVersion.reason,
    OrgUnitVersion.actor_id,
    OrgUnitVersion.valid_from,
    OrgUnitVersion.valid_to,
    func.ST_AsGeoJSON(OrgUnitVersion.geom, 7).label("geometry"),
)


def version_row(row: Any) -> dict[str, Any]:
    """A grid version as the history and the as-of list show it."""
    data = dict(row._mapping)
    data["geometry"] = _geojson(data["geometry"])
    return data


async def history(ctx: Ctx, grid_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every version of a grid, oldest first; deleted grids keep their history."""
    rows = (
        await ctx.session.execute(
            select(*_VERSION_COLUMNS)
            .where(
                OrgUnitVersion.unit_id == grid_id,
                OrgUnitVersion.level == Level.GRID.value,
                in_scope(OrgUnitVersion.path, ctx.principal),
            )
            .order_by(OrgUnitVersion.version)
        )
    ).all()
    if not rows:
        raise NotFound("grid_not_found")
    return [version_row(row) for row in rows]


def _valid_at(at: datetime) -> ColumnElement[bool]:
    return (OrgUnitVersion.valid_from <= at) & or_(
        OrgUnitVersion.valid_to.is_(None), OrgUnitVersion.valid_to > at
    )


def grids_as_of_query(
    ctx: Ctx,
    at: datetime,
    *,
    parent_id: uuid.UUID | None = None,
    q: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> AnySelect:
    """The grid versions valid at `at` in jurisdiction with the list's filters (shared by
    the list and its export)."""
    stmt = select(*_VERSION_COLUMNS, OrgUnitVersion.unit_id).where(
        OrgUnitVersion.level == Level.GRID.value,
        _valid_at(at),
        in_scope(OrgUnitVersion.path, ctx.principal),
    )
    if parent_id is not None:
        stmt = stmt.where(OrgUnitVersion.parent_id == parent_id)
    if q:
        stmt = stmt.where(
            or_(
                OrgUnitVersion.name.icontains(q, autoescape=True),
                OrgUnitVersion.code.startswith(q, autoescape=True),
            )
        )
    if bbox is not None:
        stmt = stmt.where(boxed(OrgUnitVersion.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    return stmt


async def grids_as_of(
    ctx: Ctx,
    at: datetime,
    *,
    limit: int,
    cursor: str | None,
    parent_id: uuid.UUID | None = None,
    q: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Page[dict[str, Any]]:
    """The grid layout as it stood at `at` (R-GRID-2): a keyset page by code, like the live
    list, with the same filters."""
    return await paginate(
        ctx.session,
        grids_as_of_query(ctx, at, parent_id=parent_id, q=q, bbox=bbox),
        key=(OrgUnitVersion.code, OrgUnitVersion.unit_id),
        limit=limit,
        cursor=cursor,
        convert=version_row,
    )


async def locate(ctx: Ctx, point: Point) -> dict[str, Any]:
    """The live grid covering a WGS-84 point, with its chain of parents (R-GRID-3)."""
    row = (
        await ctx.session.execute(
            org_units.scoped_units(ctx)
            .add_columns(OrgUnit.path)
            .where(
                OrgUnit.level == Level.GRID.value,
                boxed(OrgUnit.geom, geometry_param(point)),
                func.ST_Covers(OrgUnit.geom, geometry_param(point)),
            )
            .order_by(OrgUnit.code)
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("point_not_in_grid")
    grid = org_units.unit_dict(row)
    path = grid.pop("path")
    return {"grid": grid, "ancestors": await org_units.ancestors(ctx, path)}


async def coverage(ctx: Ctx, community_id: uuid.UUID) -> dict[str, Any]:
    """How much of a community its grids cover, and the uncovered gaps (R-GRID-3)."""
    community = await org_units.get_unit(ctx, community_id)
    if community["level"] != Level.COMMUNITY.value or community["geometry"] is None:
        raise Invalid("not_a_community")
    child = aliased(OrgUnit)
    of_community = (
        child.parent_id == community_id,
        child.level == Level.GRID.value,
        child.deleted_at.is_(None),
    )
    grids = select(func.ST_Union(child.geom)).where(*of_community).scalar_subquery()
    empty = func.ST_GeomFromText("POLYGON EMPTY", 4326)
    gaps = func.ST_Difference(OrgUnit.geom, func.coalesce(grids, empty))
    grid_count = select(func.count()).select_from(child).where(*of_community).scalar_subquery()
    row = (
        await ctx.session.execute(
            select(
                func.ST_Area(func.geography(OrgUnit.geom)).label("area"),
                func.ST_Area(func.geography(gaps)).label("gap_area"),
                func.ST_AsGeoJSON(gaps, 7).label("gaps"),
                grid_count.label("grid_count"),
            ).where(OrgUnit.id == community_id)
        )
    ).one()
    area = float(row.area or 0.0)
    gap_area = float(row.gap_area or 0.0)
    covered = max(area - gap_area, 0.0)
    return {
        "community_id": community_id,
        "grid_count": row.grid_count,
        "area_m2": round(area, 1),
        "covered_m2": round(covered, 1),
        "coverage_ratio": round(covered / area, 4) if area else 0.0,
        "gaps": _geojson(row.gaps),
    }
