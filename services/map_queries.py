"""Range queries over map layers (R-MAP-1): by jurisdiction unit (辖区), bounding box (拉框),
circle in metres (点圆) and polygon (多边形), one or several layers in one call, each with its
total, a keyset page of items and optionally GeoJSON. Every predicate is index-friendly: a
bounding-box test the GiST index answers first, then the exact test.

A call is one statement whatever the number of layers: per layer its total and its page as
JSON that PostgreSQL builds. The statement is built and compiled once per shape (layers, kind
of area, filters, cursors, kind of caller) and run with the values bound — building, keying
and compiling it again would cost more than the query."""

import math
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, Literal

import orjson
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import JSON, ColumnElement, DateTime, Float, Integer, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from domain.errors import BadRequest, FieldError, Invalid, PermissionDenied
from services.context import Ctx, business_time
from services.jurisdiction import in_scope_param, scope_params
from services.map_layers import LAYERS, Layer, layer_filters
from services.masking import present
from services.pagination import decode_cursor, encode_cursor
from services.prepared import Prepared
from services.registry import unit_for_record
from services.spatial import boxed, geometry_bind, geometry_value

METRES_PER_DEGREE = 111_320.0
MAX_RADIUS_M = 50_000

AreaKind = Literal["unit", "bbox", "circle", "polygon"]
BBOX = ("xmin", "ymin", "xmax", "ymax")


@dataclass(frozen=True)
class Area:
    """Where to look: exactly one of unit, bbox, circle (centre + radius) or polygon."""

    unit_id: uuid.UUID | None = None
    bbox: tuple[float, float, float, float] | None = None
    centre: Point | None = None
    radius_m: float | None = None
    polygon: BaseGeometry | None = None


@dataclass(frozen=True)
class LayerShape:
    """What of one layer's part of a call shapes the statement (values are bound apart)."""

    name: str
    filters: tuple[tuple[str, str], ...]
    after_cursor: bool


async def query(
    ctx: Ctx,
    area: Area,
    layer_names: list[str],
    *,
    filters: dict[str, dict[str, str]],
    cursors: dict[str, str],
    limit: int,
    with_geojson: bool,
) -> dict[str, dict[str, Any]]:
    """Each layer's total, page and (optionally) GeoJSON inside the area and jurisdiction."""
    layers = [_layer(ctx, name) for name in dict.fromkeys(layer_names)]
    for layer in layers:
        _check_filters(layer, filters.get(layer.name, {}))
    prepared, params = await query_statement(ctx, area, layers, filters, cursors, limit)
    (row,) = await prepared.rows(ctx.session, params)
    return {
        layer.name: await _result(
            ctx, layer, row[f"total_{i}"], row[f"items_{i}"], limit, with_geojson
        )
        for i, layer in enumerate(layers)
    }


async def query_statement(
    ctx: Ctx,
    area: Area,
    layers: list[Layer],
    filters: dict[str, dict[str, str]],
    cursors: dict[str, str],
    limit: int,
) -> tuple[Prepared, dict[str, Any]]:
    """The one statement of a call — per layer a total and the page as JSON text — and the
    values to run it with."""
    kind, params = await _area_values(ctx, area)
    params |= {**scope_params(ctx.principal), "limit": limit + 1}
    shapes = []
    for i, layer in enumerate(layers):
        cursor = cursors.get(layer.name)
        if cursor:
            (last_id,) = decode_cursor(cursor, 1)
            params[f"after_{i}"] = _cursor_id(last_id)
        shapes.append(
            LayerShape(layer.name, tuple(sorted(filters.get(layer.name, {}).items())), bool(cursor))
        )
    return _statement(tuple(shapes), kind, ctx.principal.sees_everything), params


@lru_cache(maxsize=256)
def _statement(shapes: tuple[LayerShape, ...], kind: AreaKind, whole_tree: bool) -> Prepared:
    columns: list[Any] = []
    for i, shape in enumerate(shapes):
        layer = LAYERS[shape.name]
        where = (
            layer.active(),
            layer.geom.is_not(None),
            *_scoped(layer, kind, whole_tree),
            _area_clause(layer, kind),
            *layer_filters(layer, dict(shape.filters)),
        )
        total = select(func.count()).select_from(layer.model).where(*where)
        after = (layer.model.id > bindparam(f"after_{i}"),) if shape.after_cursor else ()
        page = (
            select(
                *(column.label(column.key) for column in layer.columns),
                func.ST_AsGeoJSON(layer.geom, 7).cast(JSON).label("geometry"),
            )
            .where(*where, *after)
            .order_by(layer.model.id)
            .limit(bindparam("limit", type_=Integer))
            .subquery(f"page_{i}")
        )
        items = select(func.json_agg(aggregate_order_by(page.table_valued(), page.c.id)))
        columns += [
            total.scalar_subquery().label(f"total_{i}"),
            items.scalar_subquery().cast(Text).label(f"items_{i}"),
        ]
    return Prepared(select(*columns))


def _scoped(layer: Layer, kind: AreaKind, whole_tree: bool) -> tuple[ColumnElement[bool], ...]:
    """The jurisdiction test a unit's records are found by. An area on the map is found by
    the spatial index, and row-level security filters its candidates: a path test beside it
    would offer the planner the path index too, and a statement planned once for every
    caller cannot tell a district's scope from a grid's, takes it for a few thousand rows,
    and ANDs the two indexes, reading the whole scope's index entries for a few hundred
    houses (a 200 m circle of the 2m benchmark city took a second)."""
    if kind != "unit":
        return ()
    return (in_scope_param(layer.model.path, everything=whole_tree),)


def _area_clause(layer: Layer, kind: AreaKind) -> ColumnElement[bool]:
    if kind == "unit":
        return layer.model.path.op("<@")(func.text2ltree(bindparam("unit_path")))
    if kind == "bbox":
        corners = (bindparam(name, type_=Float) for name in BBOX)
        return boxed(layer.geom, func.ST_MakeEnvelope(*corners, 4326))
    if kind == "circle":
        # The geometry test uses the GiST index, the geography test is exact on the spheroid.
        centre = func.ST_SetSRID(
            func.ST_MakePoint(bindparam("lon", type_=Float), bindparam("lat", type_=Float)), 4326
        )
        return boxed(
            layer.geom, func.ST_Expand(centre, bindparam("degrees", type_=Float))
        ) & func.ST_DWithin(
            func.geography(layer.geom),
            func.geography(centre),
            bindparam("radius_m", type_=Float),
        )
    polygon = geometry_bind("polygon")
    return boxed(layer.geom, polygon) & func.ST_Intersects(layer.geom, polygon)


async def _area_values(ctx: Ctx, area: Area) -> tuple[AreaKind, dict[str, Any]]:
    if area.unit_id is not None:
        unit = await unit_for_record(ctx, area.unit_id)
        return "unit", {"unit_path": unit.path}
    if area.bbox is not None:
        return "bbox", dict(zip(BBOX, area.bbox, strict=True))
    if area.centre is not None and area.radius_m is not None:
        if not 0 < area.radius_m <= MAX_RADIUS_M:
            raise Invalid(
                "validation_failed",
                errors=[
                    FieldError("radius_m", "field_invalid", {"detail": f"0 < r ≤ {MAX_RADIUS_M}"})
                ],
            )
        return "circle", {
            "lon": area.centre.x,
            "lat": area.centre.y,
            "degrees": circle_degrees(area.centre.y, area.radius_m),
            "radius_m": area.radius_m,
        }
    if area.polygon is not None:
        return "polygon", {"polygon": geometry_value(area.polygon)}
    raise Invalid("validation_failed", errors=[FieldError("area", "field_required")])


def circle_degrees(latitude: float, radius_m: float) -> float:
    """Degrees that surely cover a radius in metres at this latitude (the bounding-box test
    of a circle)."""
    return radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01)) * 1.01


async def _result(
    ctx: Ctx, layer: Layer, total: int, items_json: str | None, limit: int, with_geojson: bool
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = orjson.loads(items_json) if items_json else []
    # Items are free-form per layer: their instants are put in the business zone here.
    for key in _instant_keys(layer.name):
        for row in rows:
            if row[key] is not None:
                row[key] = business_time(datetime.fromisoformat(row[key]))
    next_cursor = encode_cursor([rows[limit - 1]["id"]]) if len(rows) > limit else None
    items = await present(ctx, rows[:limit], layer.mask, target_type=layer.name)
    geojson = (
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": item["id"],
                    "geometry": item["geometry"],
                    "properties": {k: v for k, v in item.items() if k != "geometry"},
                }
                for item in items
            ],
        }
        if with_geojson
        else None
    )
    return {"total": total, "items": items, "next_cursor": next_cursor, "geojson": geojson}


@cache
def _instant_keys(layer_name: str) -> tuple[str, ...]:
    return tuple(
        column.key for column in LAYERS[layer_name].columns if isinstance(column.type, DateTime)
    )


def _cursor_id(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")]) from exc


def _check_filters(layer: Layer, given: dict[str, str]) -> None:
    unknown = set(given) - set(layer.filters)
    if unknown:
        raise Invalid(
            "validation_failed",
            errors=[
                FieldError(f"filters.{layer.name}.{name}", "field_forbidden")
                for name in sorted(unknown)
            ],
        )


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
