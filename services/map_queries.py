"""Range queries over map layers (R-MAP-1): by jurisdiction unit (辖区), bounding box (拉框),
circle in metres (点圆) and polygon (多边形), one or several layers in one call, each with its
total, a keyset page of items and optionally GeoJSON. Every predicate is index-friendly: a
bounding-box test the GiST index answers first, then the exact test."""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func, select

from domain.errors import FieldError, Invalid, PermissionDenied
from services.context import Ctx, business_time
from services.jurisdiction import in_scope
from services.map_layers import LAYERS, Layer, layer_filters, select_items
from services.masking import present
from services.models import OrgUnit
from services.pagination import decode_cursor, encode_cursor
from services.registry import unit_for_record
from services.spatial import boxed, geometry_param

METRES_PER_DEGREE = 111_320.0
MAX_RADIUS_M = 50_000


@dataclass(frozen=True)
class Area:
    """Where to look: exactly one of unit, bbox, circle (centre + radius) or polygon."""

    unit_id: uuid.UUID | None = None
    bbox: tuple[float, float, float, float] | None = None
    centre: Point | None = None
    radius_m: float | None = None
    polygon: BaseGeometry | None = None


def _circle(layer: Layer, centre: Point, radius_m: float) -> ColumnElement[bool]:
    # Degrees that surely cover the radius at this latitude: the geometry test uses the GiST
    # index, the geography test is exact on the spheroid.
    degrees = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(centre.y)), 0.01))
    point = geometry_param(centre)
    return boxed(layer.geom, func.ST_Expand(point, degrees * 1.01)) & func.ST_DWithin(
        func.geography(layer.geom), func.geography(point), radius_m
    )


async def area_predicate(ctx: Ctx, layer: Layer, area: Area) -> ColumnElement[bool]:
    if area.unit_id is not None:
        unit: OrgUnit = await unit_for_record(ctx, area.unit_id)
        return layer.model.path.op("<@")(func.text2ltree(unit.path))
    if area.bbox is not None:
        return boxed(layer.geom, func.ST_MakeEnvelope(*area.bbox, 4326))
    if area.centre is not None and area.radius_m is not None:
        if not 0 < area.radius_m <= MAX_RADIUS_M:
            raise Invalid(
                "validation_failed",
                errors=[
                    FieldError("radius_m", "field_invalid", {"detail": f"0 < r ≤ {MAX_RADIUS_M}"})
                ],
            )
        return _circle(layer, area.centre, area.radius_m)
    if area.polygon is not None:
        polygon = geometry_param(area.polygon)
        return boxed(layer.geom, polygon) & func.ST_Intersects(layer.geom, polygon)
    raise Invalid("validation_failed", errors=[FieldError("area", "field_required")])


async def query_layer(
    ctx: Ctx,
    layer_name: str,
    area: Area,
    *,
    filters: dict[str, str],
    limit: int,
    cursor: str | None,
    with_geojson: bool,
) -> dict[str, Any]:
    """One layer's total, page and (optionally) GeoJSON inside the area and jurisdiction."""
    layer = _layer(ctx, layer_name)
    unknown = set(filters) - set(layer.filters)
    if unknown:
        raise Invalid(
            "validation_failed",
            errors=[
                FieldError(f"filters.{layer_name}.{name}", "field_forbidden")
                for name in sorted(unknown)
            ],
        )
    conditions = [
        in_scope(layer.model.path, ctx.principal),
        await area_predicate(ctx, layer, area),
        *layer_filters(layer, filters),
    ]
    stmt = select_items(layer).where(*conditions)
    total = (
        await ctx.session.execute(select(func.count()).select_from(stmt.subquery()))
    ).scalar_one()
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        stmt = stmt.where(layer.model.id > uuid.UUID(str(last_id)))
    rows = (await ctx.session.execute(stmt.order_by(layer.model.id).limit(limit + 1))).all()
    items = [_item(row) for row in rows[:limit]]
    next_cursor = encode_cursor([str(items[-1]["id"])]) if len(rows) > limit else None
    items = await present(ctx, items, layer.mask, target_type=layer.name)
    result: dict[str, Any] = {"total": total, "items": items, "next_cursor": next_cursor}
    if with_geojson:
        result["geojson"] = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": str(item["id"]),
                    "geometry": item["geometry"],
                    "properties": {k: v for k, v in item.items() if k != "geometry"},
                }
                for item in items
            ],
        }
    return result


def _item(row: Any) -> dict[str, Any]:
    # Items are free-form per layer: their instants are put in the business zone here.
    data: dict[str, Any] = {
        key: business_time(value) if isinstance(value, datetime) else value
        for key, value in row._mapping.items()
    }
    data["geometry"] = orjson.loads(data["geometry"]) if data["geometry"] else None
    return data


def _layer(ctx: Ctx, name: str) -> Layer:
    layer = LAYERS.get(name)
    if layer is None:
        raise Invalid(
            "map_layer_unknown",
            params={"layer": name},
            errors=[FieldError("layers", "map_layer_unknown", {"layer": name})],
        )
    if not ctx.principal.can(layer.permission):
        raise PermissionDenied()
    return layer
